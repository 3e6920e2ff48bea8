"""Sending messages: written to the outbox now, delivered once the transaction commits.

A message about a person that leaves the service is a disclosure: the action that sends it
records it with `audit.actions.disclosure` (see rights.notices), so the person's accounting of
disclosures lists it."""

import datetime
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from recoverybridge.messaging.models import Channel, Message

# A message that failed this often is left for a person to look at.
MAX_ATTEMPTS = 5


def absolute_url(name: str, *args: object) -> str:
    """A link for a message: the site's address (SITE_URL) and the named page."""
    return settings.SITE_URL + reverse(name, args=args)


def send_email(recipients: Iterable[str], subject: str, body: str) -> list[Message]:
    """Queue one e-mail per recipient; they go out after the surrounding transaction commits
    (at once outside one), so a change that rolls back sends nothing."""
    messages = Message.objects.bulk_create(
        Message(channel=Channel.EMAIL, to=address, subject=subject, body=body) for address in recipients
    )
    transaction.on_commit(partial(deliver, [m.pk for m in messages]), robust=True)
    return messages


def deliver(message_ids: Iterable[int]) -> int:
    """Deliver these messages if they are still pending; returns how many went. A failure is
    counted on the message, which stays pending."""
    sent = 0
    for message in Message.objects.filter(pk__in=list(message_ids), sent_at__isnull=True).order_by("pk"):
        try:
            send_mail(message.subject, message.body, None, [message.to])
        except Exception as error:
            Message.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1, last_error=type(error).__name__[:120]
            )
            continue
        Message.objects.filter(pk=message.pk).update(sent_at=timezone.now(), attempts=message.attempts + 1)
        sent += 1
    return sent


def deliver_pending() -> int:
    """Try again every message still pending (fewer than MAX_ATTEMPTS failures)."""
    pending = Message.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).values_list(
        "pk", flat=True
    )
    return deliver(list(pending))


def erase_sent(*, before: datetime.datetime, dry_run: bool = False) -> int:
    """Delete the messages sent before `before` (their addresses and bodies have served their
    purpose; rights.retention calls this daily); a dry run only counts them. Pending ones stay."""
    sent = Message.objects.filter(sent_at__lt=before)
    if dry_run:
        return sent.count()
    deleted, _kinds = sent.delete()
    return deleted
