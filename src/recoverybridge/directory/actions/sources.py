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

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from recoverybridge.directory import fetching, queries, review
from recoverybridge.directory.actions import imports
from recoverybridge.directory.feeds import loading
from recoverybridge.directory.feeds.records import FeedError, ParsedFeed
from recoverybridge.directory.models import (
    AttemptOutcome,
    AttemptTrigger,
    FeedAttempt,
    FeedSource,
    HeldImport,
    HeldStatus,
    ImportRun,
    ImportStatus,
)
from recoverybridge.messaging.outbox import send_email

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
    # What was last applied may have changed since this object was read (an editor's decision).
    source.refresh_from_db(fields=["etag", "last_modified", "content_sha256"])
    attempt = FeedAttempt.objects.create(feed_source=source, trigger=trigger, started_at=timezone.now())
    try:
        return fetch_and_import(source, attempt)
    except Exception as error:
        # A parser or server that surprises us: the attempt says so rather than staying "running".
        logger.exception("refresh of feed source %s stopped by an error", source.pk)
        return finish(attempt, AttemptOutcome.FAILED, error=f"stopped by an error: {type(error).__name__}")


def fetch_and_import(source: FeedSource, attempt: FeedAttempt) -> FeedAttempt:
    try:
        fetched = fetching.fetch(source.location, etag=source.etag, last_modified=source.last_modified)
    except FeedError as error:
        return finish(attempt, AttemptOutcome.FAILED, error=str(error))
    attempt.http_status = fetched.status
    if fetched.body is None:
        return not_modified(source, attempt)
    attempt.bytes_read = len(fetched.body)
    digest = hashlib.sha256(fetched.body).hexdigest()
    if digest == source.content_sha256:
        # The same bytes as last time (a server without validators, or a file): nothing to do.
        remember(source, fetched, digest)
        return not_modified(source, attempt)
    waiting = pending_held(source).filter(content_sha256=digest).first()
    if waiting is not None:
        # Already held and not yet decided: nothing new to look at.
        attempt.held_import = waiting
        return finish(attempt, AttemptOutcome.HELD, error=waiting.reason)
    try:
        parsed = parse(source, fetched.body)
    except FeedError as error:
        return finish(attempt, AttemptOutcome.FAILED, error=str(error))
    attempt.missing = missing_fields(parsed)
    plan = review.plan_import(source, parsed)
    reason = plan.hold_reason()
    if reason:
        attempt.held_import = hold(source, fetched, digest, plan, reason)
        # What it would have done, for the attempts' list.
        attempt.records_read, attempt.rejected = plan.total, plan.rejected
        attempt.created, attempt.updated = len(plan.added), len(plan.changed)
        attempt.deactivated, attempt.unchanged = len(plan.dropped), plan.unchanged
        return finish(attempt, AttemptOutcome.HELD, error=reason)
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
    # The feed moved on: what was held before it is no longer what the source publishes.
    pending_held(source).update(status=HeldStatus.SUPERSEDED, decided_at=timezone.now())
    return finish(attempt, AttemptOutcome.OK)


def not_modified(source: FeedSource, attempt: FeedAttempt) -> FeedAttempt:
    # The source publishes what was applied again: a version held since is no longer its word.
    pending_held(source).update(status=HeldStatus.SUPERSEDED, decided_at=timezone.now())
    return finish(attempt, AttemptOutcome.NOT_MODIFIED)


def pending_held(source: FeedSource) -> Any:
    return HeldImport.objects.filter(feed_source=source, status=HeldStatus.PENDING)


def hold(
    source: FeedSource, fetched: fetching.Fetched, digest: str, plan: review.ImportPlan, reason: str
) -> HeldImport:
    """Keep the fetched feed and its difference for an editor; only the latest one waits."""
    with transaction.atomic():
        now = timezone.now()
        pending_held(source).update(status=HeldStatus.SUPERSEDED, decided_at=now)
        return HeldImport.objects.create(
            feed_source=source,
            held_at=now,
            reason=reason,
            body=fetched.body,
            content_sha256=digest,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            diff=plan.diff(),
            **plan.counts,
        )


class HeldImportError(ValueError):
    """A held import that cannot be applied or discarded (already decided, or the feed fails)."""


def locked_pending(held_id: int) -> HeldImport:
    held = HeldImport.objects.select_for_update().select_related("feed_source").get(pk=held_id)
    if held.status != HeldStatus.PENDING:
        raise HeldImportError(f"this held import was already {held.status}")
    return held


def apply_held(held_id: int, *, editor: Any, note: str = "") -> HeldImport:
    """An editor's yes: import the held feed as it was fetched, through the usual pipeline.

    The import is all or nothing, as every import is; a feed that fails now stays held, with
    the failed attempt recorded, and nothing changes."""
    if not editor.is_authenticated:
        raise HeldImportError("decisions need a signed-in editor")
    with transaction.atomic():
        held = locked_pending(held_id)
        source = held.feed_source
        body = bytes(held.body)
        attempt = FeedAttempt(
            feed_source=source,
            trigger=AttemptTrigger.EDITOR,
            started_at=timezone.now(),
            held_import=held,
            bytes_read=len(body),
        )
        try:
            parsed = parse(source, body)
        except FeedError as error:
            failed = str(error)
        else:
            attempt.missing = missing_fields(parsed)
            run = imports.import_feed(source, parsed)
            take_counts(attempt, run)
            failed = "" if run.status == ImportStatus.SUCCEEDED else run.message
        if not failed:
            remember(source, fetching.Fetched(None, body, held.etag, held.last_modified), held.content_sha256)
            finish(attempt, AttemptOutcome.OK)
            decide(held, HeldStatus.APPLIED, editor, note)
            held.applied_run = attempt.import_run
            held.save(update_fields=["applied_run"])
            return held
    finish(attempt, AttemptOutcome.FAILED, error=failed)
    raise HeldImportError(failed)


def discard_held(held_id: int, *, editor: Any, note: str = "") -> HeldImport:
    """An editor's no: the directory stays as it is, and this version of the feed is not held
    again (the source remembers it as decided); the next change to the feed is looked at afresh."""
    if not editor.is_authenticated:
        raise HeldImportError("decisions need a signed-in editor")
    with transaction.atomic():
        held = locked_pending(held_id)
        remember(
            held.feed_source,
            fetching.Fetched(None, None, held.etag, held.last_modified),
            held.content_sha256,
        )
        decide(held, HeldStatus.DISCARDED, editor, note)
    return held


def decide(held: HeldImport, status: str, editor: Any, note: str) -> None:
    held.status = status
    held.decided_by = editor
    held.decided_at = timezone.now()
    held.decision_note = note
    held.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


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


def alert_contacts(*, now: datetime | None = None) -> list[FeedSource]:
    """E-mail each source's contact once its feed has failed, or an import of it has waited for
    an editor, for FEED_ALERT_AFTER_HOURS; once per spell of trouble. Returns the sources told."""
    now = now or timezone.now()
    after = timedelta(hours=settings.FEED_ALERT_AFTER_HOURS)
    told = []
    for health in queries.source_health(now):
        source, since = health.source, health.trouble_since
        if health.trouble not in (queries.Trouble.FAILING, queries.Trouble.HELD) or not source.contact_email:
            continue
        if since is None or now - since < after or (source.alerted_at and source.alerted_at >= since):
            continue
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            subject, body = alert_message(health)
            send_email([source.contact_email], subject, body, kind="feed-source-alert")
            FeedSource.objects.filter(pk=source.pk).update(alerted_at=now)
        told.append(source)
    return told


def alert_message(health: queries.SourceHealth) -> tuple[str, str]:
    source = health.source
    since = date_format(timezone.localtime(health.trouble_since), "DATETIME_FORMAT")
    if health.trouble == queries.Trouble.FAILING:
        subject = _("RecoveryBridge cannot read your meeting feed")
        what = _(
            "Since %(since)s RecoveryBridge has not been able to read the feed at %(location)s: %(error)s"
        ) % {
            "since": since,
            "location": source.location,
            "error": health.last_error,
        }
    else:
        subject = _("A change to your meeting feed is waiting for review")
        what = _(
            "Since %(since)s the latest version of the feed at %(location)s has been waiting for a "
            "directory editor, because %(reason)s. If the change was a mistake, correct the feed: "
            "the next version replaces the one waiting."
        ) % {"since": since, "location": source.location, "reason": health.last_error}
    lines = [
        _("Hello,"),
        "",
        what,
        "",
        _("The directory keeps listing the meetings as they were until this is resolved."),
        _("This message was sent to the contact address given for the feed source %(name)s.")
        % {"name": source.name},
    ]
    return subject, "\n".join(lines)
