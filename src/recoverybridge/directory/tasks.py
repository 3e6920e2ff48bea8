"""Background tasks of the directory, run by `manage.py db_worker` (django-tasks database backend)."""

import logging

from django_tasks import task

from recoverybridge.directory import booklets as printed
from recoverybridge.directory.actions import booklets

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
