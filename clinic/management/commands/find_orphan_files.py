"""Find stored files no row refers to (orphans), and rows whose file is gone (missing).

Deletes remove files after commit through post_delete receivers, and a storage error there is only
logged; a worker that finishes an analysis of a recording deleted meanwhile writes files no row
will claim. This command is the net under both: it walks `recordings/` and `analyses/` in
default storage, compares them with every name held by Recording.file and EmotionAnalysis's five
file fields, and prints orphans (path, size, age), missing files, and a summary. With --delete it
removes orphans older than the grace period (1 h by default): an upload is stored just after its
row commits, and analysis files just before theirs, so a young unreferenced file may be one that is
about to be claimed.

It lives in the project app because it must see the models of every layer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ser.models import DOWNLOADS, EmotionAnalysis
from ser.receivers import prune_empty_folders
from sessions.models import Recording

ROOTS = ("recordings", "analyses")


def walk(storage: Storage, folder: str) -> Iterator[str]:
    """Every file name under `folder` (storage names, '/'-separated)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from walk(storage, f"{folder}/{sub}")


def referenced() -> dict[str, str]:
    """Every stored name a row holds → which row and field holds it."""
    refs: dict[str, str] = {}
    for pk, name in Recording.objects.exclude(file="").values_list("pk", "file").iterator():
        refs[name] = f"Recording {pk} file"
    fields = list(DOWNLOADS.values())
    for pk, *names in EmotionAnalysis.objects.values_list("pk", *fields).iterator():
        for field, name in zip(fields, names, strict=True):
            if name:
                refs[name] = f"EmotionAnalysis {pk} {field}"
    return refs


def _modified(storage: Storage, name: str) -> datetime | None:
    try:
        return storage.get_modified_time(name)
    except (NotImplementedError, OSError):
        return None


def _size(storage: Storage, name: str) -> int | None:
    try:
        return storage.size(name)
    except (NotImplementedError, OSError):
        return None


def _human_size(size: int | None) -> str:
    if size is None:
        return "size ?"
    if size < 1024:
        return f"{size} B"
    value, unit = float(size) / 1024, "kB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _human_age(seconds: float | None) -> str:
    if seconds is None:
        return "age ?"
    for unit, span in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= span:
            return f"{seconds / span:.1f} {unit}"
    return f"{seconds:.0f} s"


class Command(BaseCommand):
    help = (
        "Report stored files that no row refers to (orphans) and rows whose file is missing; "
        "with --delete, remove orphans older than the grace period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="Remove orphans older than the grace period."
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=3600.0,
            help="Seconds; younger orphans are reported but never deleted (default 3600).",
        )

    def handle(self, *args: Any, delete: bool = False, grace: float = 3600.0, **opts: Any) -> None:
        storage = default_storage
        # Storage first, rows second: a file stored in between and claimed by a row committed in
        # between is then seen as referenced, not orphaned.
        stored = sorted(name for root in ROOTS for name in walk(storage, root))
        refs = referenced()
        now = timezone.now()

        orphans: list[tuple[str, float | None]] = []
        total = 0
        for name in stored:
            if name in refs:
                continue
            modified, size = _modified(storage, name), _size(storage, name)
            age = (now - modified).total_seconds() if modified is not None else None
            orphans.append((name, age))
            total += size or 0
            self.stdout.write(f"orphan   {name}  {_human_size(size)}  {_human_age(age)}")

        on_disk = set(stored)
        # A name not seen in the walk may have been stored since: ask the storage before calling
        # it missing.
        missing = sorted(
            (name, holder)
            for name, holder in refs.items()
            if name not in on_disk and not storage.exists(name)
        )
        for name, holder in missing:
            self.stdout.write(f"missing  {name}  ({holder})")

        self.stdout.write(
            f"{len(stored)} stored file(s) checked; {len(orphans)} orphan(s), {_human_size(total)}; "
            f"{len(missing)} missing."
        )
        if delete:
            self._delete(storage, orphans, grace)

    def _delete(self, storage: Storage, orphans: list[tuple[str, float | None]], grace: float) -> None:
        old = [name for name, age in orphans if age is not None and age >= grace]
        # Ask the rows once more right before deleting: nothing claimed meanwhile is touched.
        still = referenced()
        doomed = [name for name in old if name not in still]
        deleted = []
        for name in doomed:
            try:
                storage.delete(name)
            except Exception as exc:  # any backend's error: report it and go on with the rest
                self.stderr.write(f"failed   {name}  ({type(exc).__name__}: {exc})")
                continue
            deleted.append(name)
            self.stdout.write(f"deleted  {name}")
        prune_empty_folders(storage, (posixpath.dirname(n) for n in deleted if n.startswith("analyses/")))
        kept = len(orphans) - len(deleted)
        self.stdout.write(
            f"Deleted {len(deleted)} orphan(s); kept {kept} (younger than {_human_age(grace)}, of "
            "unknown age, claimed meanwhile, or not deletable)."
        )
