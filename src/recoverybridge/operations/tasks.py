"""Daily work of the whole service, run by `manage.py db_worker`: checking the audit trail's
chain and telling the people responsible when it is broken."""

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django_tasks import task

from recoverybridge.accounts.models import Role
from recoverybridge.audit import chain
from recoverybridge.messaging.outbox import send_email

log = logging.getLogger(__name__)
# Who is told: the people who run the service and its organisations.
RESPONSIBLE = (Role.ADMINISTRATOR, Role.SERVICE_MANAGER)


def responsible_addresses() -> list[str]:
    users = User.objects.filter(
        Q(memberships__role__in=RESPONSIBLE) | Q(is_superuser=True), is_active=True
    ).exclude(email="")
    return sorted({*users.values_list("email", flat=True), *(address for _name, address in settings.ADMINS)})


@task()
def verify_audit_chain() -> bool:
    """Verify the chain; when it is broken, e-mail the administrators and service managers where
    (the event's number and id: nothing about the person)."""
    verdict = chain.verify()
    if verdict.intact:
        return True
    where = f"event {verdict.broken_at}" + (f" (id {verdict.event_id})" if verdict.event_id else "")
    log.error("Audit chain broken at %s: %s", where, verdict.reason)
    send_email(
        responsible_addresses(),
        "RecoveryBridge: the audit trail has been tampered with",
        "\n".join(
            [
                f"The audit trail's chain is broken at {where}: {verdict.reason}.",
                f"{verdict.checked} events before it are intact.",
                "",
                "Someone changed the database outside RecoveryBridge. Keep a copy of the database as",
                "it is now, compare it with the last backup, and run `manage.py verify_audit` again.",
            ]
        ),
    )
    return False
