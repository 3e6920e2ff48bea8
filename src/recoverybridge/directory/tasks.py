"""Background tasks of the directory, run by `manage.py db_worker` (django-tasks database backend)."""

from django_tasks import task

from recoverybridge.directory.actions import booklets


@task()
def build_booklet(booklet_id: int) -> int:
    """Build a booklet if what it prints has changed; returns its page count (0 if it is gone)."""
    booklet = booklets.rebuild(booklet_id)
    return booklet.page_count if booklet else 0
