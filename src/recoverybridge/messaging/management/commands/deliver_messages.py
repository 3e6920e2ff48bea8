"""Send what is still waiting in the outbox, now: a safety net for cron (every few minutes) in
case a process stopped between a commit and its delivery, or the worker was down when a retry
was due. Retries are otherwise queued on the task worker by the outbox itself."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.messaging import outbox


class Command(BaseCommand):
    help = "Deliver the messages still pending in the outbox whose retry is due."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Delivered {outbox.deliver_pending()} message(s).")
