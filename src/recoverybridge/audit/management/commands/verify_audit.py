"""Prove the audit trail's chain whole, or name its first broken link (exit status 1)."""

from typing import Any

from django.core.management.base import BaseCommand

from recoverybridge.audit import chain


class Command(BaseCommand):
    help = "Verify the audit trail's tamper-evident chain; exits 1 and names the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = chain.verify()
        before = f" ({verdict.unchained_before} earlier events were written before the chain began)"
        if verdict.intact:
            self.stdout.write(
                f"Audit chain intact: {verdict.checked} events{before if verdict.unchained_before else ''}."
            )
            return
        where = f"event {verdict.broken_at}" + (f" (id {verdict.event_id})" if verdict.event_id else "")
        self.stderr.write(
            f"Audit chain broken at {where}: {verdict.reason}. {verdict.checked} events before it are intact."
        )
        raise SystemExit(1)
