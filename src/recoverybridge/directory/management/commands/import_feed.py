import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from tqdm import tqdm

from recoverybridge.directory.actions import imports
from recoverybridge.directory.feeds import loading, normalise
from recoverybridge.directory.feeds.records import FeedError
from recoverybridge.directory.models import Attribute, AttributeCategory, Fellowship, ImportRun, ImportStatus


class Command(BaseCommand):
    help = (
        "Import a meeting feed (Meeting Guide JSON, BMLT or HSDS) from a file or an http(s) URL. "
        "The whole feed is one transaction: a feed that fails changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", metavar="PATH_OR_URL")
        parser.add_argument("--format", required=True, choices=loading.FORMATS)
        parser.add_argument("--source", required=True, help="Name of the feed source (a slug).")
        parser.add_argument("--fellowship", help="Slug of the fellowship of every meeting in the feed.")
        parser.add_argument("--timezone", help="IANA zone for records with no zone, coordinates or region.")
        parser.add_argument("--language", help="ISO 639-1 code of meetings that name no language.")
        parser.add_argument("--formats", help="BMLT GetFormats JSON (file or URL) for format codes.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = self.feed_source(options)
        try:
            parsed = loading.read_feed(options["format"], options["location"], formats=options["formats"])
        except FeedError as error:
            imports.record_failed_import(source, str(error))
            raise CommandError(f"Import of {source.name} failed: {error}") from error

        show = not options["no_progress"] and sys.stderr.isatty()
        with tqdm(
            total=len(parsed.records), unit=" meetings", file=sys.stderr, disable=not show, leave=False
        ) as bar:
            run = imports.import_feed(source, parsed, progress=bar.update)
        self.report(run)
        if run.status == ImportStatus.FAILED:
            raise CommandError(f"Import of {source.name} failed: {run.message}")

    def feed_source(self, options: dict[str, Any]) -> Any:
        try:
            validate_slug(options["source"])
        except ValidationError as error:
            raise CommandError(f"--source {options['source']!r}: use letters, digits, - and _") from error
        fellowship = None
        if options["fellowship"]:
            fellowship = Fellowship.objects.filter(slug=options["fellowship"]).first()
            if fellowship is None:
                known = ", ".join(Fellowship.objects.values_list("slug", flat=True))
                raise CommandError(f"--fellowship {options['fellowship']}: unknown; known: {known}")
        zone = options["timezone"] or ""
        if zone and not normalise.valid_zone(zone):
            raise CommandError(f"--timezone {zone}: not an IANA time zone (e.g. America/New_York)")
        language = options["language"] or ""
        if (
            language
            and not Attribute.objects.filter(
                category=AttributeCategory.LANGUAGE, language_code=language
            ).exists()
        ):
            raise CommandError(f"--language {language}: no language attribute with this ISO 639-1 code")
        try:
            return imports.register_feed_source(
                options["source"],
                options["format"],
                options["location"],
                fellowship=fellowship,
                default_timezone=zone,
                default_language=language,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error

    def report(self, run: ImportRun) -> None:
        self.stdout.write(
            f"{run.feed_source.name}: {run.records_read} records read, {run.created} created, "
            f"{run.updated} updated, {run.unchanged} unchanged, {run.merged} merged with another "
            f"source, {run.deactivated} deactivated, {run.rejected} rejected."
        )
        if run.services_created or run.services_updated or run.services_unchanged or run.services_gone:
            self.stdout.write(
                f"  services (not meetings): {run.services_created} created, {run.services_updated} "
                f"updated, {run.services_unchanged} unchanged, {run.services_gone} no longer listed."
            )
        for error in run.errors:
            self.stdout.write(f"  rejected {error['key']}: {error['reason']}")
        if run.status == ImportStatus.SUCCEEDED and run.message:
            self.stdout.write(f"  notes: {run.message}")
