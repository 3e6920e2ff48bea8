"""Start the feed sources' schedule on the task queue, or fetch sources now from the command line."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import AttemptOutcome, FeedAttempt, FeedSource
from recoverybridge.directory.tasks import schedule_next_refresh


class Command(BaseCommand):
    help = (
        "Queue the refresh of feed sources on their schedules (run by manage.py db_worker), "
        "or with --now fetch the due sources (or those named) here and say what came of each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="SOURCE", help="Fetch these sources now, due or not.")
        parser.add_argument("--now", action="store_true", help="Fetch the due sources in this process.")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if names:
            found = {source.name: source for source in FeedSource.objects.filter(name__in=names)}
            unknown = sorted(set(names) - set(found))
            if unknown:
                raise CommandError(f"unknown feed source: {', '.join(unknown)}")
            attempts = [sources.refresh_source(found[name]) for name in names]
        elif options["now"]:
            attempts = sources.refresh_due_sources()
        else:
            when = schedule_next_refresh(soonest=timedelta(0))
            if when is None:
                self.stdout.write(
                    "No refresh queued: no source is scheduled, or a refresh is already queued by then."
                )
            else:
                self.stdout.write(f"Refresh queued for {when:%Y-%m-%d %H:%M} UTC.")
            return
        for attempt in attempts:
            self.report(attempt)
        if any(attempt.outcome == AttemptOutcome.FAILED for attempt in attempts):
            raise CommandError("some feed sources failed")

    def report(self, attempt: FeedAttempt) -> None:
        line = f"{attempt.feed_source.name}: {attempt.get_outcome_display()}"
        if attempt.outcome == AttemptOutcome.OK:
            line += (
                f" ({attempt.records_read} records: {attempt.created} created, {attempt.updated} updated, "
                f"{attempt.deactivated} deactivated, {attempt.rejected} refused)"
            )
        if attempt.error:
            line += f": {attempt.error}"
        self.stdout.write(line)
