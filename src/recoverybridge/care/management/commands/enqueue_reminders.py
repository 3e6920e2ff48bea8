"""Queue today's care tasks; run daily from cron or a systemd timer: the follow-up reminder
e-mails, and discarding referral drafts left unsaved for REFERRAL_DRAFT_DAYS. The `db_worker`
process runs them."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.care.tasks import discard_expired_drafts, send_follow_up_reminders


class Command(BaseCommand):
    help = "Queue the follow-up reminder e-mails and the clean-up of expired referral drafts (run by manage.py db_worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = send_follow_up_reminders.enqueue()
        self.stdout.write(f"Queued follow-up reminders as task {result.id}.")
        result = discard_expired_drafts.enqueue()
        self.stdout.write(f"Queued the clean-up of expired referral drafts as task {result.id}.")
