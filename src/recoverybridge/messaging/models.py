"""Messages that leave RecoveryBridge (e-mail today), kept in an outbox.

A message is written in the same transaction as the change that causes it and delivered only
after that transaction commits (`outbox.send_email`): a change that rolls back sends nothing,
and one whose delivery fails stays pending for `deliver_pending` to try again. Bodies hold the
minimum necessary (pseudonymous references and a link, never a name or a diagnosis).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")


class Message(models.Model):
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The error's type only: messages from mail servers can echo addresses.
    last_error = models.CharField(_("last error"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["sent_at", "created_at"], name="message_pending")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} message {self.pk}"
