"""Telling the person about their request: that it arrived, that it needs more time, that it was
answered. By e-mail, in the request's language, with the minimum necessary: no name, no service,
no detail of their care, only the dates (and, for an extension or a refusal, the reason staff
wrote for them, as the law asks). Each notice sent is a disclosure to the person: one audit event.
"""

import datetime

from django.contrib.auth.models import User
from django.db import models
from django.utils import formats, translation
from django.utils.translation import gettext as _

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction, DisclosureChannel, Recipient
from recoverybridge.messaging.outbox import send_email
from recoverybridge.rights.models import ReplyChannel, RequestKind, RequestOutcome, RightsRequest


class Notice(models.TextChoices):
    RECEIVED = "received"
    EXTENDED = "extended"
    ANSWERED = "answered"


def may_tell(request: RightsRequest) -> bool:
    """Whether the person may be told by e-mail.

    HOOK for consent per channel: messaging is gaining text messages and the person's consent to
    each channel. When it has them, ask it here (and send by the channel they chose). Until then
    the person's consent is the channel they chose for this request (`ReplyChannel.EMAIL`), to the
    address on their record."""
    person = request.person
    return person is not None and request.reply_by == ReplyChannel.EMAIL and bool(person.email)


def _day(day: datetime.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _text(request: RightsRequest, notice: str) -> tuple[str, str]:
    made = _("the request you made on %(date)s") % {"date": _day(request.received_on)}
    subject = _("Your request of %(date)s") % {"date": _day(request.received_on)}
    if notice == Notice.RECEIVED:
        body = _("We have received %(request)s. We will answer it by %(due)s.") % {
            "request": made,
            "due": _day(request.due_on),
        }
    elif notice == Notice.EXTENDED:
        body = _("We need more time to answer %(request)s: we will answer it by %(due)s. Why: %(reason)s") % {
            "request": made,
            "due": _day(request.due_on),
            "reason": request.extension_reason,
        }
    elif request.outcome == RequestOutcome.REFUSED:
        body = _(
            "We have answered %(request)s, and we cannot do what you asked. Why: %(reason)s "
            "You can ask us to look at it again, or complain to the data protection regulator."
        ) % {"request": made, "reason": request.answer}
    elif request.kind == RequestKind.ERASURE:
        body = _("We have done what you asked in %(request)s: your record has been erased.") % {
            "request": made
        }
    else:
        body = _("We have answered %(request)s. Please contact your worker for the answer.") % {
            "request": made
        }
    return subject, body


def tell(request: RightsRequest, notice: str, *, actor: User, now: datetime.datetime) -> bool:
    """E-mail the person this notice, if they asked to be told by e-mail; returns whether it was
    queued. Call inside the action's transaction: the e-mail leaves only if the answer commits."""
    person = request.person
    if person is None or not may_tell(request):
        return False
    with translation.override(request.language):
        subject, body = _text(request, notice)
    send_email([person.email], subject, body)
    audit.record(
        actor,
        AuditAction.DISCLOSE,
        request,
        person=person,
        changes=audit.disclosure(
            Recipient.PERSON,
            channel=DisclosureChannel.EMAIL,
            basis=f"request {request.pk}",
            content=f"notice-{notice}",
        ),
        detail=f"notice to the person: {notice}",
        at=now,
    )
    RightsRequest.objects.filter(pk=request.pk).update(told_at=now)
    request.told_at = now
    return True
