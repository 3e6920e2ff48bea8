"""Outcome measurement: responses to standard instruments, schedules, self-completion links
and check-ins.

Instruments themselves are not rows: they are versioned FHIR Questionnaire files in
`outcomes/questionnaires/`, loaded by `outcomes.instruments`. A response stores the
instrument id *and* version it was answered in, so a new version never changes old ones.

Like care records, read these only through `Model.objects.restrict(user, action)` (the rules
are the querysets' below: a person's outcomes go with their record) and change them only
through `outcomes.actions`.
"""

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.models import Consent, ConsentPurpose, PersonRecordQuerySet


class ResponseQuerySet(PersonRecordQuerySet["Response"]):
    pass


class ScheduledAssessmentQuerySet(PersonRecordQuerySet["ScheduledAssessment"]):
    pass


class InvitationQuerySet(PersonRecordQuerySet["Invitation"]):
    pass


class CheckInQuerySet(PersonRecordQuerySet["CheckIn"]):
    """A person's own check-ins reach their worker only under an active consent to share them."""

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        shared = Consent.objects.active(now).filter(
            purpose=ConsentPurpose.CHECK_INS, person_id=OuterRef("person_id")
        )
        return super().rule(user, action, now) & Q(Exists(shared))


DEFAULT_SCHEDULE_MONTHS = [0, 1, 3, 6, 12]
DEFAULT_SCHEDULE_INSTRUMENTS = ["barc-10", "substance-use-28", "social-network", "mutual-help"]


class TimePoint(models.TextChoices):
    """When in a journey a response was collected. Schedules use the month points only."""

    BASELINE = "baseline", _("Baseline")
    MONTH_1 = "1m", _("1 month")
    MONTH_3 = "3m", _("3 months")
    MONTH_6 = "6m", _("6 months")
    MONTH_9 = "9m", _("9 months")
    MONTH_12 = "12m", _("12 months")
    MONTH_18 = "18m", _("18 months")
    MONTH_24 = "24m", _("24 months")
    AD_HOC = "ad-hoc", _("Ad hoc")


# Months from the start of a journey for each scheduled time point.
TIME_POINT_MONTHS = {
    TimePoint.BASELINE: 0,
    TimePoint.MONTH_1: 1,
    TimePoint.MONTH_3: 3,
    TimePoint.MONTH_6: 6,
    TimePoint.MONTH_9: 9,
    TimePoint.MONTH_12: 12,
    TimePoint.MONTH_18: 18,
    TimePoint.MONTH_24: 24,
}
MONTHS_TIME_POINT = {months: point for point, months in TIME_POINT_MONTHS.items()}


class ResponseStatus(models.TextChoices):
    """FHIR QuestionnaireResponse.status (the subset we use)."""

    IN_PROGRESS = "in-progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class CollectionMode(models.TextChoices):
    STAFF = "staff", _("Entered by staff")
    SELF = "self", _("Self-completed")


class Response(models.Model):
    """A person's answers to one version of one instrument (a FHIR QuestionnaireResponse)."""

    person = models.ForeignKey("care.Person", on_delete=models.CASCADE, related_name="outcome_responses")
    instrument = models.CharField(_("instrument"), max_length=60)
    instrument_version = models.CharField(_("instrument version"), max_length=20)
    time_point = models.CharField(_("time point"), max_length=12, choices=TimePoint.choices)
    language = models.CharField(_("language"), max_length=8, default="en")
    # {linkId: value}: an option code (str), an integer, a decimal, a boolean or a list of
    # option codes for repeating items. Validated by `outcomes.scoring` before it is saved.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # {score name: number or None}, plus "flags": [flag names]; computed by the engine from
    # the answers and the instrument version, so it can always be recomputed.
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    mode = models.CharField(_("collected"), max_length=8, choices=CollectionMode.choices)
    # Null for self-completion: the person answers without an account.
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collected by"),
    )
    started_at = models.DateTimeField(_("started"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("outcome response")
        verbose_name_plural = _("outcome responses")
        indexes = [
            models.Index(fields=["person", "instrument", "completed_at"], name="response_trajectory"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="in-progress", completed_at__isnull=True)
                | models.Q(status="completed", completed_at__isnull=False),
                name="response_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.instrument_version} ({self.person_id}, {self.time_point})"


class ScheduledAssessment(models.Model):
    """An instrument due at a time point of a journey (episode)."""

    person = models.ForeignKey("care.Person", on_delete=models.CASCADE, related_name="scheduled_assessments")
    episode = models.ForeignKey(
        "care.Episode", on_delete=models.CASCADE, related_name="scheduled_assessments"
    )
    instrument = models.CharField(_("instrument"), max_length=60)
    time_point = models.CharField(_("time point"), max_length=12, choices=TimePoint.choices)
    due_on = models.DateField(_("due"))
    # The response that fulfils it (reverse: Response.scheduled).
    response = models.OneToOneField(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="scheduled"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScheduledAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "instrument"]
        verbose_name = _("scheduled assessment")
        verbose_name_plural = _("scheduled assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "instrument", "time_point"], name="unique_scheduled_assessment"
            ),
        ]
        indexes = [models.Index(fields=["due_on", "cancelled_at"], name="scheduled_due")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.time_point} due {self.due_on}"


class InvitationKind(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")
    CHECK_IN = "check_in", _("Check-in")
    # After the first meeting they chose: did they go? (care.AttendanceAsk)
    ATTENDANCE = "attendance", _("After the first meeting")


class Invitation(models.Model):
    """A single-use, expiring link for a person to answer without an account.

    Only the SHA-256 of the token is stored: the link is shown once, and a copy of the
    database cannot be used to answer as someone else. The URL holds the token only.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=InvitationKind.choices, default=InvitationKind.QUESTIONNAIRE
    )
    person = models.ForeignKey("care.Person", on_delete=models.CASCADE, related_name="outcome_invitations")
    instrument = models.CharField(_("instrument"), max_length=60, blank=True)
    instrument_version = models.CharField(_("instrument version"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    # The referral an attendance link asks about.
    referral = models.ForeignKey(
        "care.Referral", on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    scheduled = models.ForeignKey(
        ScheduledAssessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    # Partial answers saved through the link live here until completion.
    response = models.OneToOneField(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitation"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("self-completion link")
        verbose_name_plural = _("self-completion links")

    def __str__(self) -> str:
        return f"Invitation {self.pk} ({self.kind} {self.instrument})"


class OutcomeSchedule(models.Model):
    """An organisation's assessment schedule: which instruments, how many months after the start
    of a journey. Organisations without one use the defaults."""

    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="outcome_schedule"
    )
    months = models.JSONField(_("months from the start of a journey"), default=list)
    instruments = models.JSONField(_("instruments"), default=list)
    # Assessments show in the work queue from this many days before they are due.
    window_days = models.PositiveSmallIntegerField(_("shown days before due"), default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outcome schedule")
        verbose_name_plural = _("outcome schedules")

    def __str__(self) -> str:
        return f"Outcome schedule of {self.organisation_id}"


class CheckIn(models.Model):
    """A brief check-in by the person. Their worker sees it only under an active consent with
    purpose "check_ins" (see `CheckInQuerySet`)."""

    person = models.ForeignKey("care.Person", on_delete=models.CASCADE, related_name="check_ins")
    at = models.DateTimeField(_("when"))
    # Meetings attended this week: directory meetings the person picked, and/or a count
    # (for meetings not in the directory). `meetings_count` is the total when given.
    meetings = models.ManyToManyField("directory.Meeting", blank=True, related_name="+")
    meetings_count = models.PositiveSmallIntegerField(_("meetings this week"), null=True, blank=True)
    mood = models.PositiveSmallIntegerField(_("mood (1 very low to 5 very good)"), null=True, blank=True)
    cravings = models.PositiveSmallIntegerField(_("cravings (0 none to 10 extreme)"), null=True, blank=True)
    mode = models.CharField(_("recorded"), max_length=8, choices=CollectionMode.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="check_ins"
    )

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [models.Index(fields=["person", "at"], name="check_in_person_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mood__isnull=True) | models.Q(mood__gte=1, mood__lte=5),
                name="check_in_mood_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cravings__isnull=True) | models.Q(cravings__lte=10),
                name="check_in_cravings_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk} on {self.at:%Y-%m-%d}"
