"""Write a random-initialised emotion2vec+ checkpoint (real FunASR format) for tests and demos."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ser.testkit.checkpoint import SIZES, write_test_checkpoint


class Command(BaseCommand):
    help = (
        "Write config.yaml, model.pt and tokens.txt of a random-initialised emotion2vec+ model to DIR. "
        "Its outputs are meaningless; analyses made with it are labelled as test results."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory")
        parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **opts: Any) -> None:
        path = write_test_checkpoint(opts["directory"], size=opts["size"], seed=opts["seed"])
        self.stdout.write(f"Test checkpoint ({opts['size']}) at {path}. Point SER_MODEL at it.")
