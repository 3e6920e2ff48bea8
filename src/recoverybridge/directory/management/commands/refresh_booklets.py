"""Queue a rebuild of the printed booklets whose area changed; run after imports or from cron.
The `db_worker` process builds them (an unchanged booklet costs one read of its area)."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.directory.tasks import refresh_booklets


class Command(BaseCommand):
    help = "Queue a rebuild of the printed booklets whose area changed (built by manage.py db_worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = refresh_booklets.enqueue()
        self.stdout.write(f"Queued the booklets' refresh as task {result.id}.")
