"""Background tasks of the directory, run by `manage.py db_worker` (django-tasks database backend)."""

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from recoverybridge.directory import booklets as printed
from recoverybridge.directory.actions import booklets, sources

logger = logging.getLogger(__name__)


@task()
def build_booklet(booklet_id: int) -> int:
    """Build a booklet if what it prints has changed; returns its page count (0 if it is gone)."""
    booklet = booklets.rebuild(booklet_id)
    return booklet.page_count if booklet else 0


@task()
def refresh_booklets() -> int:
    """Rebuild every booklet whose area changed (queued by `manage.py refresh_booklets`, after
    imports or from cron); one that fails keeps its last good PDF and the others go on.
    Returns how many were rebuilt."""
    rebuilt = 0
    for booklet_id, fingerprint in printed.all_booklets().values_list("id", "built_fingerprint"):
        try:
            booklet = booklets.rebuild(booklet_id)
        except Exception:
            logger.exception("booklet %s could not be built", booklet_id)
            continue
        rebuilt += booklet is not None and booklet.built_fingerprint != fingerprint
    return rebuilt


# The refresh wakes at least this often, so a source added without queueing anything is
# fetched within the hour; and never sooner than a minute ahead (a batch worker then ends).
LONGEST_SLEEP = timedelta(hours=1)
SHORTEST_SLEEP = timedelta(minutes=1)


@task()
def refresh_feeds() -> int:
    """Fetch every feed source that is due, then queue itself for when the next one is due.

    Started once by `manage.py refresh_feeds` (and again by `enqueue_daily`, which mends a
    broken chain); a second chain merges into the first, since a run queues its successor only
    when none is waiting that soon. Returns how many sources were fetched."""
    attempts = sources.refresh_due_sources()
    sources.alert_contacts()
    schedule_next_refresh()
    return len(attempts)


def schedule_next_refresh(*, soonest: timedelta = SHORTEST_SLEEP) -> datetime | None:
    """Queue `refresh_feeds` for the next due source unless a run is already queued by then.

    From the command line `soonest` is zero: a source due now is fetched as soon as a worker is
    free. Returns when the run was queued for, None if none was queued."""
    now = timezone.now()
    due = sources.next_due_at()
    if due is None:
        return None
    when = min(max(due, now + soonest), now + LONGEST_SLEEP)
    # A task queued to run at once carries the largest date as its run_after.
    waiting = DBTaskResult.objects.filter(
        Q(run_after__lte=when) | Q(run_after=get_date_max()),
        task_path=refresh_feeds.module_path,
        status=TaskResultStatus.READY,
    )
    if waiting.exists():
        return None
    refresh_feeds.using(run_after=when).enqueue()
    return when
