"""Background tasks of outcomes, run by `manage.py db_worker` (django-tasks database backend)."""

import datetime

from django.contrib.auth.models import User
from django.utils import timezone
from django_tasks import task

from recoverybridge.messaging.digests import Due, send_reminder_digests
from recoverybridge.outcomes import actions
from recoverybridge.outcomes.models import ScheduledAssessment
from recoverybridge.outcomes.queries import DEFAULT_WINDOW_DAYS


def reminders_due(today: datetime.date) -> list[ScheduledAssessment]:
    """Open assessments due within the window that nobody has been reminded of, with the
    worker to remind: the episode's navigator, else the person's."""
    return list(
        ScheduledAssessment.objects.filter(
            cancelled_at__isnull=True,
            response__isnull=True,
            reminder_sent_at__isnull=True,
            due_on__lte=today + datetime.timedelta(DEFAULT_WINDOW_DAYS),
        )
        .select_related("person", "person__navigator", "episode__navigator")
        .order_by("due_on")
    )


def _in_scope(worker: User, ids: list[int]) -> set[int]:
    return set(ScheduledAssessment.objects.restrict(worker).filter(pk__in=ids).values_list("pk", flat=True))


def _mark_reminded(ids: list[int]) -> None:
    ScheduledAssessment.objects.filter(pk__in=ids).update(reminder_sent_at=timezone.now())


@task()
def send_assessment_reminders(today: str | None = None) -> int:
    """E-mail each worker the outcome assessments due for their people, once each: only
    pseudonymous references, instrument and date, and a link to the work queue. Returns the
    number of e-mails sent."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    due = []
    for a in reminders_due(day):
        worker = a.episode.navigator or a.person.navigator
        if worker is None:
            continue
        line = (
            f"- {a.person.reference}: {a.instrument} ({a.get_time_point_display()}) due {a.due_on:%d %b %Y}"
        )
        due.append(Due(a.pk, worker, line + (" (overdue)" if a.due_on < day else "")))
    return send_reminder_digests(
        due,
        in_scope=_in_scope,
        mark_reminded=_mark_reminded,
        subject=lambda count: f"RecoveryBridge: {count} outcome assessment(s) due",
        heading="Outcome assessments due for your people:",
    )


@task()
def send_attendance_links() -> int:
    """Links to say how the first meeting went, for the people whose first chosen meeting has
    been held (outcomes.actions.send_attendance_links). Returns how many were sent."""
    return actions.send_attendance_links()
