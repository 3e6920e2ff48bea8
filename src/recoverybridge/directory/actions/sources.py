"""Keeping feed sources fresh: fetch on a schedule, import what changed, record every attempt.

The task queue (`directory.tasks.refresh_feeds`, run by `manage.py db_worker`) calls
`refresh_due_sources`; `manage.py refresh_feeds` and editors call `refresh_source` for one.
Each attempt is a FeedAttempt row written before the fetch and finished after it, so a worker
that dies mid-import leaves a visible "running" attempt rather than nothing. The import itself
is `imports.import_feed`: one transaction, all or nothing.
"""

import hashlib
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from recoverybridge.directory import fetching
from recoverybridge.directory.actions import imports
from recoverybridge.directory.feeds import loading
from recoverybridge.directory.feeds.records import FeedError, ParsedFeed
from recoverybridge.directory.models import (
    AttemptOutcome,
    AttemptTrigger,
    FeedAttempt,
    FeedSource,
    ImportRun,
    ImportStatus,
)

logger = logging.getLogger(__name__)

# How many refused records an attempt keeps with their reasons (the import run keeps them all).
REFUSED_KEPT = 500


def scheduled_sources() -> Any:
    """Sources the worker fetches: a schedule and somewhere to fetch from."""
    return FeedSource.objects.filter(refresh_minutes__gt=0).exclude(location="")


def due_sources(now: datetime) -> Any:
    return scheduled_sources().filter(Q(next_refresh_at__isnull=True) | Q(next_refresh_at__lte=now))


def refresh_due_sources(*, now: datetime | None = None) -> list[FeedAttempt]:
    """Fetch every source that is due, one after another; one that fails does not stop the rest."""
    now = now or timezone.now()
    attempts = []
    for source in due_sources(now).order_by("next_refresh_at", "id"):
        if not claim(source, now):
            continue  # another worker took it
        try:
            attempts.append(refresh_source(source, trigger=AttemptTrigger.SCHEDULE))
        except Exception:
            logger.exception("feed source %s could not be refreshed", source.pk)
    return attempts


def claim(source: FeedSource, now: datetime) -> bool:
    """Move the source's next fetch on by its interval, only if it is still due: one worker wins."""
    following = now + timedelta(minutes=source.refresh_minutes)
    claimed = (
        due_sources(now).filter(pk=source.pk, next_refresh_at=source.next_refresh_at)
        if source.next_refresh_at
        else due_sources(now).filter(pk=source.pk, next_refresh_at__isnull=True)
    ).update(next_refresh_at=following)
    source.next_refresh_at = following
    return claimed == 1


def next_due_at() -> datetime | None:
    """When the earliest scheduled source is next due (None: nothing is scheduled)."""
    sources = scheduled_sources()
    if sources.filter(next_refresh_at__isnull=True).exists():
        return timezone.now()
    first: datetime | None = (
        sources.order_by("next_refresh_at").values_list("next_refresh_at", flat=True).first()
    )
    return first


def refresh_source(source: FeedSource, *, trigger: str = AttemptTrigger.COMMAND) -> FeedAttempt:
    """Fetch one source and import it if it changed; returns the finished attempt."""
    attempt = FeedAttempt.objects.create(feed_source=source, trigger=trigger, started_at=timezone.now())
    try:
        fetched = fetching.fetch(source.location, etag=source.etag, last_modified=source.last_modified)
    except FeedError as error:
        return finish(attempt, AttemptOutcome.FAILED, error=str(error))
    attempt.http_status = fetched.status
    if fetched.body is None:
        return finish(attempt, AttemptOutcome.NOT_MODIFIED)
    attempt.bytes_read = len(fetched.body)
    digest = hashlib.sha256(fetched.body).hexdigest()
    if digest == source.content_sha256:
        # The same bytes as last time (a server without validators, or a file): nothing to do.
        remember(source, fetched, digest)
        return finish(attempt, AttemptOutcome.NOT_MODIFIED)
    try:
        parsed = parse(source, fetched.body)
    except FeedError as error:
        return finish(attempt, AttemptOutcome.FAILED, error=str(error))
    attempt.missing = missing_fields(parsed)
    try:
        run = imports.import_feed(source, parsed)
    except Exception as error:
        logger.exception("import of feed source %s stopped by an error", source.pk)
        return finish(
            attempt, AttemptOutcome.FAILED, error=f"import stopped by an error: {type(error).__name__}"
        )
    take_counts(attempt, run)
    if run.status != ImportStatus.SUCCEEDED:
        return finish(attempt, AttemptOutcome.FAILED, error=run.message)
    remember(source, fetched, digest)
    return finish(attempt, AttemptOutcome.OK)


def parse(source: FeedSource, body: bytes) -> ParsedFeed:
    data = loading.decode_json(body, source.location)
    parser = loading.parser_for(source.format)
    if source.format == "bmlt":
        formats = loading.load_json(source.formats_location) if source.formats_location else None
        return parser(data, formats)
    return parser(data)


def missing_fields(parsed: ParsedFeed) -> dict[str, int]:
    """How many usable records came without a time zone, coordinates or any type code."""
    missing: Counter[str] = Counter()
    for record in parsed.records:
        if not record.timezone:
            missing["timezone"] += 1
        if record.location is None or record.location.latitude is None or record.location.longitude is None:
            missing["coordinates"] += 1
        if not record.codes:
            missing["types"] += 1
    return dict(missing)


def take_counts(attempt: FeedAttempt, run: ImportRun) -> None:
    attempt.import_run = run if run.pk else None
    attempt.records_read = run.records_read
    attempt.created = run.created
    attempt.updated = run.updated
    attempt.unchanged = run.unchanged
    attempt.deactivated = run.deactivated
    attempt.rejected = run.rejected
    attempt.refused = list(run.errors)[:REFUSED_KEPT]


def remember(source: FeedSource, fetched: fetching.Fetched, digest: str) -> None:
    """Keep what was applied, so the next fetch asks "anything newer than this?"."""
    source.etag = fetched.etag
    source.last_modified = fetched.last_modified
    source.content_sha256 = digest
    FeedSource.objects.filter(pk=source.pk).update(
        etag=source.etag, last_modified=source.last_modified, content_sha256=digest
    )


def finish(attempt: FeedAttempt, outcome: str, *, error: str = "") -> FeedAttempt:
    attempt.outcome = outcome
    attempt.error = error
    attempt.finished_at = timezone.now()
    attempt.save()
    return attempt
