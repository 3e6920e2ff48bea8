"""Apply the retention rules now, or say what they would do (--dry-run); --now travels in time."""

import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recoverybridge.rights import retention


class Command(BaseCommand):
    help = "Anonymise and erase what is past its retention period (docs/privacy.md, Retention)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done; change nothing.")
        parser.add_argument(
            "--now", help="Run as of this date (YYYY-MM-DD), e.g. to see what falls due then."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            try:
                day = datetime.date.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(f"--now must be a date as YYYY-MM-DD, not {options['now']!r}") from None
            now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        run = retention.apply(now=now, dry_run=options["dry_run"])
        verb = "Would do" if run.dry_run else "Done"
        self.stdout.write(f"{verb} as of {run.now:%Y-%m-%d}:")
        for name, count in run.report.items():
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
