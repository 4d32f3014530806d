"""The translation catalogues: what the code marks for translation, and what locale/ holds.

`extract(domain)` runs Django's makemessages over a copy of the source in a temporary folder, so
the checked-in catalogues are untouched (makemessages writes into any `locale` folder it finds
under its working directory). `missing()` lists marked words without a zh-Hans translation, the
test suite fails on any. `sync()` (`manage.py messages_sync`) rewrites locale/ from a fresh
extraction, keeping every translation it already has, taking new ones from fragment PO files
(`--from`), and compiles the .mo files.

Domains: "django" (templates and Python: gettext, gettext_lazy, pgettext, ngettext, and the
engine's gettext_noop) and "djangojs" (the pages' scripts, through /jsi18n/)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

DOMAINS = ("django", "djangojs")
LANGUAGE_DIRS = {"zh-hans": "zh_Hans", "en": "en"}
# What is copied for extraction: the apps and the project's templates; tests, tools and data stay.
SOURCES = ("accounts", "audit", "clinic", "patients", "reports", "ser", "sessions", "templates")
_SKIP = shutil.ignore_patterns(
    "__pycache__", "migrations", "testkit", "*.pyc", "*.css", "*.svg", "*.png", "data"
)
EXTENSIONS = {"django": ["html", "txt", "py"], "djangojs": ["js"]}

Key = tuple[str, str]  # (msgctxt, msgid)


def locale_root() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def catalogue_path(language: str, domain: str) -> Path:
    return locale_root() / LANGUAGE_DIRS[language] / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str) -> polib.POFile:
    """Every word the code marks for translation in `domain`, as makemessages finds them today."""
    base = Path(settings.BASE_DIR)
    with tempfile.TemporaryDirectory(prefix="messages-") as tmp:
        work = Path(tmp)
        for name in SOURCES:
            shutil.copytree(base / name, work / name, ignore=_SKIP)
        (work / "locale").mkdir()
        here = Path.cwd()
        os.chdir(work)
        try:
            with override_settings(LOCALE_PATHS=[str(work / "locale")]):
                call_command(
                    "makemessages",
                    locale=["zh_Hans"],
                    domain=domain,
                    extensions=EXTENSIONS[domain],
                    no_obsolete=True,
                    add_location="file",
                    verbosity=0,
                )
        finally:
            os.chdir(here)
        made = work / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
        return polib.pofile(str(made)) if made.exists() else polib.POFile()


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt or "", entry.msgid)


def _translated(entry: polib.POEntry) -> bool:
    if entry.obsolete or entry.fuzzy:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def translations(files: Iterable[Path]) -> dict[Key, polib.POEntry]:
    """The translated entries of these PO files, later files winning."""
    found: dict[Key, polib.POEntry] = {}
    for path in files:
        if path.exists():
            for entry in polib.pofile(str(path)):
                if _translated(entry):
                    found[_key(entry)] = entry
    return found


def missing(domain: str, fresh: polib.POFile | None = None) -> list[Key]:
    """Marked words with no zh-Hans translation in locale/ (sorted)."""
    fresh = extract(domain) if fresh is None else fresh
    have = translations([catalogue_path("zh-hans", domain)])
    return sorted(_key(e) for e in fresh if _key(e) not in have)


def _header(po: polib.POFile, language: str) -> None:
    po.metadata = {
        "Project-Id-Version": "clinic",
        "Language": LANGUAGE_DIRS[language],
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;" if language == "zh-hans" else "nplurals=2; plural=(n != 1);",
    }


def sync(fragments: Iterable[Path] = ()) -> dict[str, list[Key]]:
    """Rewrite locale/ from a fresh extraction; returns what still lacks a zh-Hans translation."""
    left: dict[str, list[Key]] = {}
    for domain in DOMAINS:
        fresh = extract(domain)
        have = translations([catalogue_path("zh-hans", domain), *fragments])
        for language in LANGUAGE_DIRS:
            po = polib.POFile(wrapwidth=100)
            _header(po, language)
            for entry in fresh:
                new = polib.POEntry(
                    msgid=entry.msgid,
                    msgctxt=entry.msgctxt,
                    msgid_plural=entry.msgid_plural,
                    occurrences=entry.occurrences,
                    comment=entry.comment,
                    flags=[f for f in entry.flags if f != "fuzzy"],
                )
                if entry.msgid_plural:
                    new.msgstr_plural = {0: ""} if language == "zh-hans" else {0: "", 1: ""}
                old = have.get(_key(entry)) if language == "zh-hans" else None
                if old is not None:
                    if entry.msgid_plural:
                        new.msgstr_plural = {
                            0: old.msgstr_plural.get(0) or next(iter(old.msgstr_plural.values()))
                        }
                    else:
                        new.msgstr = old.msgstr
                po.append(new)
            path = catalogue_path(language, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            po.save(str(path))
        left[domain] = missing(domain, fresh)
    call_command("compilemessages", verbosity=0, ignore_patterns=[".venv", "var"])
    return left
