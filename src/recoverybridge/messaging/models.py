"""Messages that leave RecoveryBridge (e-mail and text messages), kept in an outbox, and the
numbers that replied STOP.

A message is written in the same transaction as the change that causes it and delivered only
after that transaction commits (`outbox`): a change that rolls back sends nothing, and one
whose delivery fails stays pending to be tried again. Bodies hold the minimum necessary (a link,
a meeting's name and time, pseudonymous references; never a person's name or a diagnosis), and
only while they wait: a body is erased once the message is sent or given up, because it may
hold a single-use link whose token is stored nowhere else.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")


class MessageKind(models.TextChoices):
    """What a message is for: written to the audit trail instead of its body."""

    STAFF_REMINDER = "staff_reminder", _("Reminder to staff")
    QUESTIONNAIRE_LINK = "questionnaire_link", _("Questionnaire link")
    CHECK_IN_LINK = "check_in_link", _("Check-in link")
    ATTENDANCE_LINK = "attendance_link", _("Link to say how the first meeting went")
    MEETING = "meeting", _("Chosen meeting")
    INTRODUCTION_LINK = "introduction_link", _("Link to accept a volunteer member's contact")
    INTRODUCTION_CONTACT = "introduction_contact", _("A volunteer member's contact details")
    # To a volunteer member, not to the person: a new introduction to answer, or contact details.
    VOLUNTEER_NOTICE = "volunteer_notice", _("Notice to a volunteer member")


class MessageState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")


class Message(models.Model):
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(_("kind"), max_length=24, choices=MessageKind.choices, blank=True)
    # The care record the message is for, as a number: messaging sits below care. Set for
    # messages to a person (their audit trail shows what happened to each); empty for staff.
    person_id = models.PositiveBigIntegerField(_("person"), null=True, blank=True)
    # An e-mail address, or a phone number in E.164 form.
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Given up: refused (the number replied STOP, consent was withdrawn, the provider said no)
    # or failed too often. last_error says which.
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)
    # Not tried again before this: a delivery under way (so two processes never send it twice)
    # or the wait before a retry.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The error's type or the provider's code only: messages from servers can echo addresses.
    last_error = models.CharField(_("last error"), max_length=120, blank=True)
    # The provider's id of the message (Twilio's SID), to trace it with them.
    provider_id = models.CharField(_("provider's id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["sent_at", "created_at"], name="message_pending")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} message {self.pk}"

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return MessageState.SENT
        if self.failed_at is not None:
            return MessageState.FAILED
        return MessageState.PENDING


class OptOut(models.Model):
    """A phone number that replied STOP (or START again), known only by a keyed hash of it.

    The number itself is not kept: whoever reads this table learns nothing about who opted out,
    yet every send can still ask "did this number say STOP?" by hashing the number it is about
    to text (see `optout.number_hash`)."""

    number_hash = models.CharField(_("number (keyed hash)"), max_length=64, unique=True)
    opted_out = models.BooleanField(_("texts stopped"), default=True)
    keyword = models.CharField(_("last keyword"), max_length=16)
    changed_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("text opt-out")
        verbose_name_plural = _("text opt-outs")

    def __str__(self) -> str:
        return f"Opt-out {self.pk} ({'stopped' if self.opted_out else 'started again'})"
