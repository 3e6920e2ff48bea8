"""The audit trail: every view, change, export and print of a person's record."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    PRINT = "print", _("Printed")
    DISCLOSE = "disclose", _("Disclosed")
    LOGIN = "login", _("Signed in")
    DENIED = "denied", _("Access denied")


class Recipient(models.TextChoices):
    """Who received a disclosure outside the service (see `actions.disclosure`)."""

    PERSON = "person", _("The person themselves")
    ORGANISATION = "organisation", _("Another organisation")
    RELATED_PERSON = "related_person", _("A family member or concerned other")
    MEMBER = "member", _("A mutual-aid member")


class DisclosureChannel(models.TextChoices):
    """How a disclosure left the service."""

    REFERRAL = "referral", _("Referral sent")
    FHIR = "fhir", _("FHIR export")
    TASK_API = "task_api", _("Read through the Task API")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    IN_PERSON = "in_person", _("In person")
    COPY = "copy", _("Copy of the record")


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Bulk updates and deletes bypass save() and delete(), so they are refused here too."""

    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An organisation acting through its API token, when there is no user.
    actor_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Kept as a plain id so the trail outlives the record it describes.
    person_id = models.BigIntegerField(_("person"), null=True, blank=True, db_index=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    # {"field": {"old": ..., "new": ...}}, sensitive values masked.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    # The event's place in the tamper-evident chain and the chain's seal up to it (audit.chain);
    # empty for events written before the chain began.
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    seal = models.CharField(_("seal"), max_length=64, null=True, blank=True)  # noqa: DJ001 -- see 0005

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["person_id", "at"], name="audit_person_at"),
            models.Index(fields=["seq"], name="audit_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class ChainHead(models.Model):
    """The last seal of the chain (one row): every append locks it, so events are sealed one at a
    time, in order, whichever process writes them."""

    seq = models.BigIntegerField(default=0)
    seal = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain at {self.seq}"
