"""People's rights over their record: their requests (a copy, a correction, an erasure), legal
holds that stop a record from being anonymised or erased, and the retention runs' reports.

A request outlives the record it is about: anonymising or erasing a person empties its text and
keeps its kind, dates and outcome (the service's proof it answered), with the person's id as the
audit trail keeps it. Read requests through `RightsRequest.objects.restrict(user, action)` and
change them only through `rights.actions`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recoverybridge.accounts.access import RestrictedQuerySet


class RightsRequestQuerySet(RestrictedQuerySet["RightsRequest"]):
    """view: the team that received it is one of the user's caseloads (the worker who took it
    tracks it); manage (answer, extend, produce the copy): a team the user manages."""

    team_path = "team"


class LegalHoldQuerySet(RestrictedQuerySet["LegalHold"]):
    team_path = "person__team"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("A copy of the record")
    CORRECTION = "correction", _("A correction to the record")
    ERASURE = "erasure", _("Erasure of the record")


class RequestOutcome(models.TextChoices):
    OPEN = "", _("Open")
    GRANTED = "granted", _("Done")
    REFUSED = "refused", _("Refused")


class ReplyChannel(models.TextChoices):
    """How the person asked to be told the answer: their choice is their consent to that channel."""

    IN_PERSON = "in_person", _("In person or by phone, through their worker")
    EMAIL = "email", _("By e-mail, to the address on their record")


class ErasureGround(models.TextChoices):
    """Why an erasure is due (UK GDPR Article 17(1))."""

    CONSENT_WITHDRAWN = "consent_withdrawn", _("They withdrew the consent the record rests on")
    NOT_NEEDED = "not_needed", _("The record is no longer needed for the care it was made for")
    OBJECTION = "objection", _("They object, and nothing overrides their objection")
    UNLAWFUL = "unlawful", _("The record was made unlawfully or by mistake")
    LEGAL_OBLIGATION = "legal_obligation", _("The law requires it")


class RightsRequest(models.Model):
    """A person's request about their record: received, due, answered (done or refused), kept."""

    team = models.ForeignKey(
        "organisations.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    person = models.ForeignKey(
        "care.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="rights_requests"
    )
    # The person's id, kept after their record is erased, as the audit trail keeps it.
    subject_id = models.BigIntegerField(_("person"), db_index=True)
    kind = models.CharField(_("what they asked for"), max_length=12, choices=RequestKind.choices)
    received_on = models.DateField(_("received"))
    due_on = models.DateField(_("due"))
    extension_reason = models.TextField(_("why the answer needs more time"), blank=True)
    details = models.TextField(_("what they asked, in their words"), blank=True)
    reply_by = models.CharField(
        _("how to tell them"), max_length=12, choices=ReplyChannel.choices, default=ReplyChannel.IN_PERSON
    )
    language = models.CharField(_("language of the answer"), max_length=8, default="en")
    # Access: contact notes withheld under the serious-harm exemption, and the professional's reason.
    withheld_contacts = models.JSONField(_("notes withheld"), default=list, blank=True)
    withholding_reason = models.TextField(_("why they are withheld"), blank=True)
    outcome = models.CharField(
        _("answer"), max_length=8, choices=RequestOutcome.choices, default=RequestOutcome.OPEN, blank=True
    )
    answer = models.TextField(_("what was done, or why not"), blank=True)
    erasure_ground = models.CharField(
        _("ground for erasure"), max_length=20, choices=ErasureGround.choices, blank=True
    )
    # Correction: the fields of the person's details that were changed.
    changed_fields = models.JSONField(_("fields corrected"), default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    told_at = models.DateTimeField(_("told by e-mail"), null=True, blank=True)

    objects = RightsRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("request about a record")
        verbose_name_plural = _("requests about records")
        indexes = [models.Index(fields=["team", "outcome", "due_on"], name="rights_request_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.outcome == RequestOutcome.OPEN


class LegalHold(models.Model):
    """While a hold is on (not lifted), the person's record is neither anonymised nor erased:
    by the retention run or on request."""

    person = models.ForeignKey("care.Person", on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.TextField(_("why the record must be kept"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(_("placed"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"Legal hold {self.pk} on {self.person_id}"


class RetentionRun(models.Model):
    """What one run of the retention rules did (or, for a dry run, would do): counts, no names."""

    now = models.DateTimeField(_("as of"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    report = models.JSONField(_("report"), default=dict)
    ran_at = models.DateTimeField(_("ran"), auto_now_add=True)

    class Meta:
        ordering = ["-ran_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"Retention run {self.pk} as of {self.now:%Y-%m-%d}"
