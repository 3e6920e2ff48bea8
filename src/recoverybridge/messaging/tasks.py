"""Background tasks of messaging, run by `manage.py db_worker` (django-tasks database backend)."""

from django_tasks import task

from recoverybridge.messaging import outbox


@task()
def deliver_pending_messages() -> int:
    """Send what is still in the outbox (a mail server that was down); returns how many went."""
    return outbox.deliver_pending()
