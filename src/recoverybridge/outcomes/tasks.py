"""Background tasks of outcomes, run by `manage.py db_worker` (django-tasks database backend)."""

import datetime
from collections import defaultdict

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from recoverybridge.accounts import access
from recoverybridge.care.tasks import _work_queue_url
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


@task()
def send_assessment_reminders(today: str | None = None) -> int:
    """E-mail each worker the outcome assessments due for their people, once each: only
    pseudonymous references, instrument and date, and a link to the work queue. Returns the
    number of e-mails sent."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    by_worker: dict[int, list[ScheduledAssessment]] = defaultdict(list)
    workers: dict[int, User] = {}
    for scheduled in reminders_due(day):
        worker = scheduled.episode.navigator or scheduled.person.navigator
        if worker is None:
            continue
        workers[worker.pk] = worker
        by_worker[worker.pk].append(scheduled)
    sent = 0
    link = _work_queue_url()
    for worker_id, assessments in by_worker.items():
        worker = workers[worker_id]
        # Someone who has left the team is not sent their old caseload.
        in_scope = set(
            access.scheduled_assessments_for(worker)
            .filter(pk__in=[a.pk for a in assessments])
            .values_list("pk", flat=True)
        )
        assessments = [a for a in assessments if a.pk in in_scope]
        if not assessments or not worker.email or not worker.is_active:
            continue
        lines = [
            f"- {a.person.reference}: {a.instrument} ({a.get_time_point_display()}) due {a.due_on:%d %b %Y}"
            + (" (overdue)" if a.due_on < day else "")
            for a in assessments
        ]
        send_mail(
            subject=f"RecoveryBridge: {len(assessments)} outcome assessment(s) due",
            message="\n".join(
                ["Outcome assessments due for your people:", "", *lines, "", f"Open your work queue: {link}"]
            ),
            from_email=None,
            recipient_list=[worker.email],
        )
        ScheduledAssessment.objects.filter(pk__in=[a.pk for a in assessments]).update(
            reminder_sent_at=timezone.now()
        )
        sent += 1
    return sent
