"""Refresh locale/ from the code's marked words, keeping existing translations (clinic.catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinic import catalogue


class Command(BaseCommand):
    help = "Rewrite locale/*/LC_MESSAGES/{django,djangojs}.po from the code and compile them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="fragments", nargs="*", default=[], help="PO files with more zh-Hans translations"
        )

    def handle(self, *args: Any, fragments: list[str], **options: Any) -> None:
        left = catalogue.sync([Path(f) for f in fragments])
        for domain, keys in left.items():
            for ctx, msgid in keys:
                self.stdout.write(f"{domain}: untranslated: {(ctx + ' | ') if ctx else ''}{msgid[:100]!r}")
        total = sum(len(k) for k in left.values())
        self.stdout.write(f"{total} marked words without a zh-Hans translation.")
