"""Queue today's follow-up reminder e-mails; run daily from cron or a systemd timer.
The `db_worker` process sends them."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.care.tasks import send_follow_up_reminders


class Command(BaseCommand):
    help = "Queue the follow-up reminder e-mails (sent by manage.py db_worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = send_follow_up_reminders.enqueue()
        self.stdout.write(f"Queued follow-up reminders as task {result.id}.")
