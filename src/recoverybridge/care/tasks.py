"""Background tasks of care, run by `manage.py db_worker` (django-tasks database backend)."""

import datetime
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from recoverybridge.accounts import access
from recoverybridge.care.models import FollowUp
from recoverybridge.care.queries import reminders_due


def _work_queue_url() -> str:
    return settings.SITE_URL + reverse("care:queue")


@task()
def send_follow_up_reminders(today: str | None = None) -> int:
    """E-mail each worker the follow-ups due by `today` (ISO date; default: today) that they
    have not been reminded of, once each. The e-mail holds only pseudonymous references and a
    link: names and details stay behind the sign-in. Returns the number of e-mails sent."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    by_worker: dict[int, list[FollowUp]] = defaultdict(list)
    for follow_up in reminders_due(day):
        by_worker[follow_up.assigned_to_id].append(follow_up)
    sent = 0
    link = _work_queue_url()
    for follow_ups in by_worker.values():
        worker = follow_ups[0].assigned_to
        # Someone who has left the team, or has no address, is not sent their old caseload.
        in_scope = set(
            access.follow_ups_for(worker)
            .filter(pk__in=[f.pk for f in follow_ups])
            .values_list("pk", flat=True)
        )
        follow_ups = [f for f in follow_ups if f.pk in in_scope]
        if not follow_ups or not worker.email or not worker.is_active:
            continue
        lines = [
            f"- {f.referral.person.reference}: due {f.due_on:%d %b %Y}"
            + (" (overdue)" if f.due_on < day else "")
            for f in follow_ups
        ]
        send_mail(
            subject=f"RecoveryBridge: {len(follow_ups)} follow-up(s) due",
            message="\n".join(
                ["Follow-ups due in your work queue:", "", *lines, "", f"Open your work queue: {link}"]
            ),
            from_email=None,
            recipient_list=[worker.email],
        )
        FollowUp.objects.filter(pk__in=[f.pk for f in follow_ups]).update(reminder_sent_at=timezone.now())
        sent += 1
    return sent
