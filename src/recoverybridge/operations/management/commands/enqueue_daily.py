"""Queue the day's background work; run once a day from cron or a systemd timer. The `db_worker`
process does it."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.care.tasks import discard_expired_drafts, send_follow_up_reminders
from recoverybridge.directory.tasks import refresh_feeds
from recoverybridge.messaging.tasks import deliver_pending_messages
from recoverybridge.operations.tasks import verify_audit_chain
from recoverybridge.outcomes.tasks import send_assessment_reminders, send_attendance_links
from recoverybridge.rights.tasks import apply_retention
from recoverybridge.volunteers.tasks import expire_unanswered_introductions

DAILY = (
    send_follow_up_reminders,
    send_assessment_reminders,
    send_attendance_links,
    deliver_pending_messages,
    discard_expired_drafts,
    verify_audit_chain,
    apply_retention,
    expire_unanswered_introductions,
    # The feed sources' schedule runs itself; this restarts it if its chain was ever broken.
    refresh_feeds,
)


class Command(BaseCommand):
    help = "Queue the daily tasks: reminders, links to say how a first meeting went, messages still pending, expired referral drafts, the audit chain's check, retention, unanswered introductions, and the feed sources' schedule."

    def handle(self, *args: Any, **options: Any) -> None:
        for daily in DAILY:
            result = daily.enqueue()
            self.stdout.write(f"Queued {daily.name} as task {result.id}.")
