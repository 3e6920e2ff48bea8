"""Background tasks of care, run by `manage.py db_worker` (django-tasks database backend)."""

import datetime

from django.contrib.auth.models import User
from django.utils import timezone
from django_tasks import task

from recoverybridge.care.actions import discard_expired_referral_drafts
from recoverybridge.care.models import FollowUp
from recoverybridge.care.queries import reminders_due
from recoverybridge.messaging.digests import Due, send_reminder_digests


def _in_scope(worker: User, ids: list[int]) -> set[int]:
    return set(FollowUp.objects.restrict(worker).filter(pk__in=ids).values_list("pk", flat=True))


def _mark_reminded(ids: list[int]) -> None:
    FollowUp.objects.filter(pk__in=ids).update(reminder_sent_at=timezone.now())


@task()
def send_follow_up_reminders(today: str | None = None) -> int:
    """E-mail each worker the follow-ups due by `today` (ISO date; default: today) that they
    have not been reminded of, once each. The e-mail holds only pseudonymous references and a
    link: names and details stay behind the sign-in. Returns the number of e-mails sent."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    due = [
        Due(
            f.pk,
            f.assigned_to,
            f"- {f.referral.person.reference}: due {f.due_on:%d %b %Y}"
            + (" (overdue)" if f.due_on < day else ""),
        )
        for f in reminders_due(day)
    ]
    return send_reminder_digests(
        due,
        in_scope=_in_scope,
        mark_reminded=_mark_reminded,
        subject=lambda count: f"RecoveryBridge: {count} follow-up(s) due",
        heading="Follow-ups due in your work queue:",
    )


@task()
def discard_expired_drafts() -> int:
    """Delete the referral wizard's drafts nobody has saved for REFERRAL_DRAFT_DAYS (daily).
    Returns how many went."""
    return discard_expired_referral_drafts()
