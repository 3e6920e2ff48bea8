"""Sending messages: written to the outbox now, delivered once the transaction commits.

Delivery happens right after the commit, in the process that made the change, with a short
time limit for a text's provider (SMS_TIMEOUT_SECONDS): nearly always the message is gone
before the page answers, so the worker can tell the person it was sent. When the provider (or
the mail server) is slow, down or busy, the message stays pending and a retry is queued on the
task worker (`deliver_pending_messages`, after MESSAGE_RETRY_SECONDS, doubling each time), up to
MAX_ATTEMPTS; a page never waits longer than the time limit.

Just before each delivery the outbox asks again whether the message may still go: a number that
replied STOP gets nothing, and the `before_delivery` signal lets the app that queued it say no
(care: the person's consent for the channel was withdrawn meanwhile).

A message about a person that leaves the service is a disclosure: the action that sends it
records it with `audit.actions.disclosure` (see rights.notices), so the person's accounting of
disclosures lists it.
"""

import datetime
from collections.abc import Iterable
from functools import partial

import sms
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.messaging import optout
from recoverybridge.messaging.models import Channel, Message
from recoverybridge.messaging.sms_backends import TWILIO_UNSUBSCRIBED, ProviderError, backend_path

# A message that failed this often is given up, for a person to look at.
MAX_ATTEMPTS = 5

# The channels as the audit trail names them: in English whatever the language of the request.
AUDIT_NAMES = {Channel.EMAIL: "E-mail", Channel.SMS: "Text message"}

# Sent with `message=`; a receiver returns a reason (a short text, nothing personal) to hold
# the message back for good, or "" to let it go.
before_delivery = Signal()


def absolute_url(name: str, *args: object) -> str:
    """A link for a message: the site's address (SITE_URL) and the named page."""
    return settings.SITE_URL + reverse(name, args=args)


def _queue(messages: list[Message]) -> list[Message]:
    created = Message.objects.bulk_create(messages)
    transaction.on_commit(partial(deliver, [m.pk for m in created]), robust=True)
    return created


def send_email(
    recipients: Iterable[str], subject: str, body: str, *, kind: str = "", person_id: int | None = None
) -> list[Message]:
    """Queue one e-mail per recipient; they go out after the surrounding transaction commits
    (at once outside one), so a change that rolls back sends nothing."""
    return _queue(
        [
            Message(
                channel=Channel.EMAIL, to=address, subject=subject, body=body, kind=kind, person_id=person_id
            )
            for address in recipients
        ]
    )


def send_sms(to: str, body: str, *, kind: str, person_id: int | None = None) -> Message:
    """Queue a text message to `to` (E.164), delivered as `send_email`'s are."""
    return _queue([Message(channel=Channel.SMS, to=to, body=body, kind=kind, person_id=person_id)])[0]


def _claim(message: Message, now: datetime.datetime) -> bool:
    """Take the message for one delivery attempt, so that no other process sends it meanwhile
    (a lease, not a lock: nothing is held open while the provider answers)."""
    lease = now + datetime.timedelta(seconds=settings.SMS_TIMEOUT_SECONDS * 2 + 30)
    return bool(
        Message.objects.filter(pk=message.pk, sent_at__isnull=True, failed_at__isnull=True)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(not_before=lease)
    )


def _held_back(message: Message) -> str:
    if message.channel == Channel.SMS and optout.is_opted_out(message.to):
        return "the number replied STOP"
    for _receiver, reason in before_delivery.send(sender=Message, message=message):
        if reason:
            return str(reason)
    return ""


def _record(message: Message, action: str, what: str, now: datetime.datetime) -> None:
    """The audit row of what became of a message to a person: its channel and kind, never its
    body or address."""
    if message.person_id is None:
        return
    audit.record(
        None,
        action,
        message,
        person=message.person_id,
        changes={"channel": {"new": message.channel}, "kind": {"new": message.kind}},
        detail=f"{AUDIT_NAMES[Channel(message.channel)]} {what}",
        at=now,
    )


def _finish(
    message: Message,
    now: datetime.datetime,
    *,
    sent: bool,
    attempts: int,
    error: str = "",
    provider_id: str = "",
) -> None:
    """Sent or given up: the body goes (it may hold a single-use link), the outcome is audited."""
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            body="",
            sent_at=now if sent else None,
            failed_at=None if sent else now,
            not_before=None,
            attempts=attempts,
            last_error=error[:120],
            provider_id=provider_id[:64],
        )
        if sent:
            _record(message, AuditAction.UPDATE, "delivered", now)
        else:
            _record(message, AuditAction.DENIED, f"not delivered: {error}", now)


def _send(message: Message) -> str:
    """Hand the message to the mail server or the text provider; returns the provider's id."""
    if message.channel == Channel.EMAIL:
        send_mail(message.subject, message.body, None, [message.to])
        return ""
    text = sms.Message(
        message.body,
        settings.DEFAULT_FROM_SMS,
        [message.to],
        connection=sms.get_connection(backend_path(settings.SMS_BACKEND)),
    )
    text.send()
    return str(getattr(text, "provider_id", ""))


def _retry_later(message: Message, error: str, now: datetime.datetime) -> None:
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _finish(message, now, sent=False, attempts=attempts, error=f"{error}; gave up after {attempts} tries")
        return
    wait = datetime.timedelta(seconds=settings.MESSAGE_RETRY_SECONDS * 2 ** (attempts - 1))
    Message.objects.filter(pk=message.pk).update(
        attempts=attempts, last_error=error[:120], not_before=now + wait
    )
    from recoverybridge.messaging.tasks import deliver_pending_messages  # the tasks import this module

    deliver_pending_messages.using(run_after=now + wait).enqueue()


def deliver(message_ids: Iterable[int]) -> int:
    """Deliver these messages if they are still pending and due; returns how many went."""
    sent = 0
    for message in Message.objects.filter(pk__in=list(message_ids), sent_at__isnull=True).order_by("pk"):
        now = timezone.now()
        if not _claim(message, now):
            continue
        reason = _held_back(message)
        if reason:
            _finish(message, now, sent=False, attempts=message.attempts, error=reason)
            continue
        try:
            provider_id = _send(message)
        except ProviderError as error:
            if error.code == TWILIO_UNSUBSCRIBED:
                # They replied STOP to the provider's number: remember it as ours too.
                optout.set_opted_out(message.to, True, "STOP", now=now)
            if error.permanent:
                _finish(message, now, sent=False, attempts=message.attempts + 1, error=error.summary)
            else:
                _retry_later(message, error.summary, now)
            continue
        except Exception as error:
            _retry_later(message, type(error).__name__, now)
            continue
        _finish(message, timezone.now(), sent=True, attempts=message.attempts + 1, provider_id=provider_id)
        sent += 1
    return sent


def deliver_pending() -> int:
    """Try again every message still pending and due."""
    now = timezone.now()
    pending = (
        Message.objects.filter(sent_at__isnull=True, failed_at__isnull=True)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .values_list("pk", flat=True)
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
