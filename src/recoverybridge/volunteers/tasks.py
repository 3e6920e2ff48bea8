"""Background tasks of the volunteers app, run by `manage.py db_worker`."""

from django_tasks import task

from recoverybridge.volunteers.actions import expire_introductions


@task()
def expire_unanswered_introductions() -> int:
    """Introductions nobody answered within INTRODUCTION_OFFER_DAYS expire (daily); returns how many."""
    return expire_introductions()
