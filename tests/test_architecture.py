"""The layers hold (clinic > reports > ser > sessions > patients > accounts | audit; ser.engine at the
bottom),
checked by import-linter's contracts in pyproject.toml, and the contracts bite when someone climbs a layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("clinic", "reports", "ser", "sessions", "patients", "accounts", "audit")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages and contracts to break."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_it_keeps_every_contract_in_the_real_tree() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        # A lower app reaching up, even inside a function body.
        (
            "sessions/services.py",
            "def _climb():\n    from ser.services import job_create\n",
            "Apps in layers",
        ),
        ("patients/models.py", "from reports import trends\n", "Apps in layers"),
        ("ser/services.py", "from reports.charts import patient_plot_svg\n", "Apps in layers"),
        ("audit/services.py", "from patients.models import Patient\n", "Apps in layers"),
        ("accounts/models.py", "from patients.models import Patient\n", "Apps in layers"),
        # accounts and audit are independent siblings at the bottom.
        ("accounts/models.py", "from audit.models import AuditEvent\n", "Apps in layers"),
        # The engine importing the rest of its own app, Django, or presentation.
        ("ser/engine/pipeline.py", "from ser import models\n", "Inside ser"),
        ("ser/engine/audio.py", "import django.conf\n", "The engine is pure"),
        ("ser/engine/labels.py", "import matplotlib\n", "The engine is pure"),
    ],
)
def test_it_fails_when_an_import_climbs_a_layer(tree: Path, module: str, line: str, contract: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + "\n" + line)
    result = _lint_imports(tree)
    assert result.returncode != 0
    broken = [ln for ln in result.stdout.splitlines() if " BROKEN" in ln]
    assert any(ln.startswith(contract) for ln in broken), result.stdout
