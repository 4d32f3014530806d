"""Stored files go through Django's storage API only, so object storage stays a settings change:
no application code asks a stored file or a storage for its local path (`FieldFile.path`,
`Storage.path`; object stores have none) or builds one from MEDIA_ROOT. Code that needs a real file
takes `sessions.storage.local_copy`; the one path asked for is in that module (`local_folder`, for
pruning empty folders where there are folders). `ser/engine/` is Django-free and takes local paths
by design: it is handed the copy."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "audit", "clinic", "patients", "reports", "sessions", "ser")
EXEMPT = {"ser/engine", "sessions/storage.py", "clinic/settings.py"}
# What `.path` is read from: a stored file or a storage, by the names the code gives them
# (`recording.file`, `analysis.audio_file`, `field_file`, `storage`, `self.storage`,
# `default_storage`), never `os.path`, `request.path`, `Path(...)` or a dataclass's `path`.
_STORED = re.compile(r"(^|[._])(file|\w+_file|storage|\w+_storage)$")


def violations(source: str) -> list[str]:
    """`line: code` for each local-path use of stored media in this module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and _STORED.search(ast.unparse(node.value))
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif (isinstance(node, ast.Attribute) and node.attr == "MEDIA_ROOT") or (
            isinstance(node, ast.Name) and node.id == "MEDIA_ROOT"
        ):
            found.append(f"{node.lineno}: MEDIA_ROOT")
    return found


def _modules() -> list[Path]:
    paths = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or any(rel == e or rel.startswith(e + "/") for e in EXEMPT):
                continue
            paths.append(path)
    return paths


def test_no_application_code_asks_storage_for_a_local_path() -> None:
    modules = _modules()
    assert len(modules) > 50 and ROOT / "ser" / "services.py" in modules
    found = {
        path.relative_to(ROOT).as_posix(): hits for path in modules if (hits := violations(path.read_text()))
    }
    assert found == {}


@pytest.mark.parametrize(
    "code",
    [
        "analyse_file(recording.file.path, model)",
        "open(analysis.audio_file.path, 'rb')",
        "os.rmdir(storage.path(folder))",
        "default_storage.path(name)",
        "p = self.storage.path(name)",
        "def f(field_file):\n    return field_file.path",
        "root = settings.MEDIA_ROOT / 'recordings'",
        "x = MEDIA_ROOT",
    ],
)
def test_it_catches_a_local_path_of_stored_media(code: str) -> None:
    assert violations(code) != []


@pytest.mark.parametrize(
    "code",
    [
        "os.path.join(a, b)",
        "request.path",
        "Path(name).name",
        "item.path.name",
        "ctx.path if ctx else ''",
        "analyse_file(stored.path, model)",  # the local copy's path
        "sys.path.insert(0, here)",
    ],
)
def test_it_leaves_other_paths_alone(code: str) -> None:
    assert violations(code) == []
