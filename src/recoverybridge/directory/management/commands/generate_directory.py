"""Build a realistic synthetic directory: `manage.py generate_directory --meetings 200000 --seed 1`."""

import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recoverybridge.directory.generate import FEED_NAME, generate_directory


class Command(BaseCommand):
    help = "Replace the synthetic feed's meetings with a generated directory (the same for the same seed)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--meetings", type=int, default=5000, help="How many meetings (default 5000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--feed-name", default=FEED_NAME, help=f"The feed the meetings belong to (default {FEED_NAME})."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["meetings"] < 0:
            raise CommandError("--meetings must be 0 or more")
        started = time.perf_counter()
        with tqdm(
            total=options["meetings"], unit="meetings", file=sys.stderr, disable=not sys.stderr.isatty()
        ) as bar:
            result = generate_directory(
                options["meetings"], options["seed"], progress=bar.update, feed_name=options["feed_name"]
            )
        self.stdout.write(
            f"Generated {result['created']} meetings at {result['locations']} locations"
            f" (replaced {result['removed']}) in {time.perf_counter() - started:.1f}s."
        )
