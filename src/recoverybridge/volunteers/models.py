"""Volunteer members (recovery contacts) and their introductions to people who asked for contact
with a member (care.IntroductionRequest, "arrange contact with a member" in the referral wizard).

A volunteer sees only their own introductions, and of the person nothing until both sides said
yes; then only what the person agreed to share (the introduction's consent scope: a chosen
name, language, what they are looking for, a way to be contacted). The access rule of each
model is its queryset's (see accounts.access).
"""

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recoverybridge.accounts.access import RestrictedQuerySet, coordinated_organisations_for, teams_for
from recoverybridge.care.models import Consent, IntroductionRequest
from recoverybridge.organisations.models import Organisation


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be vetted")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    LEFT = "left", _("Left")


class VolunteerGender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    ANOTHER = "another", _("Another gender")
    UNSAID = "", _("Prefers not to say")


class DayPart(models.TextChoices):
    """When a volunteer can meet: a part of a weekday (their own local time)."""

    MORNING = "morning", _("Mornings")
    AFTERNOON = "afternoon", _("Afternoons")
    EVENING = "evening", _("Evenings")
    WEEKEND = "weekend", _("Weekends")


class VolunteerQuerySet(RestrictedQuerySet["Volunteer"]):
    """view and coordinate: a coordinator of the volunteer's organisation; self: the volunteer's
    own profile; match: active volunteers, for a member of a care team arranging an introduction
    (the matcher reads their offer, never anything else)."""

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        if action in ("view", "coordinate"):
            return Q(organisation__in=coordinated_organisations_for(user))
        if action == "self":
            return Q(user_id=user.pk)
        if action == "match":
            return Q(status=VolunteerStatus.ACTIVE) if teams_for(user).exists() else Q(pk__in=[])
        return super().rule(user, action, now)

    def available(self) -> "VolunteerQuerySet":
        return self.filter(status=VolunteerStatus.ACTIVE)


class Volunteer(models.Model):
    """A member of a fellowship (or a recovery organisation's peer) who offers to be a temporary
    contact for newcomers: vetted and activated by a coordinator of `organisation`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="volunteers", verbose_name=_("coordinated by")
    )
    # What the person is told once they said yes: a first name and a way to reach the volunteer.
    first_name = models.CharField(_("first name"), max_length=60)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    fellowships = models.ManyToManyField(
        "directory.Fellowship", related_name="volunteers", verbose_name=_("fellowships")
    )
    # Approaches of the fellowships and any other they know well (directory.Approach values).
    approaches = models.JSONField(_("approaches"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list)
    gender = models.CharField(_("gender"), max_length=8, choices=VolunteerGender.choices, blank=True)
    moud_welcoming = models.BooleanField(_("welcomes people on MOUD"), default=False)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    area = models.CharField(_("area"), max_length=120, blank=True)
    reach_km = models.PositiveIntegerField(_("travels up to (km)"), default=10)
    online = models.BooleanField(_("meets online"), default=False)
    availability = models.JSONField(_("can meet"), default=list, blank=True)  # DayPart values
    capacity = models.PositiveSmallIntegerField(_("introductions at once"), default=1)
    status = models.CharField(
        _("status"), max_length=8, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    vetted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vetted_at = models.DateTimeField(_("vetted"), null=True, blank=True)
    joined_at = models.DateTimeField(_("offered"))

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["first_name", "pk"]
        verbose_name = _("volunteer member")
        verbose_name_plural = _("volunteer members")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="volunteer_capacity_positive")
        ]

    def __str__(self) -> str:
        return f"Volunteer {self.pk}"


class IntroductionState(models.TextChoices):
    OFFERED = "offered", _("Waiting for the volunteer")
    DECLINED = "declined", _("Declined by the volunteer")
    ASKED = "asked", _("Waiting for the person")
    CONNECTED = "connected", _("Contact details exchanged")
    MET = "met", _("Met at a first meeting")
    ENDED = "ended", _("Ended")
    EXPIRED = "expired", _("Expired")


# An introduction counts against a volunteer's capacity while it is one of these.
OPEN_STATES = (IntroductionState.OFFERED, IntroductionState.ASKED, IntroductionState.CONNECTED)
# Both sides said yes: the agreed fields may be shown to the volunteer.
CONNECTED_STATES = (IntroductionState.CONNECTED, IntroductionState.MET)


class EndedBy(models.TextChoices):
    VOLUNTEER = "volunteer", _("the volunteer")
    PERSON = "person", _("the person")
    WORKER = "worker", _("the worker")
    COORDINATOR = "coordinator", _("the coordinator")
    CONSENT = "consent", _("consent withdrawn")


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")


class IntroductionQuerySet(RestrictedQuerySet["Introduction"]):
    """view: the volunteer it is offered to, the referral's team, a coordinator of the volunteer's
    organisation; answer: the volunteer; arrange (end, record the first meeting, as the worker):
    the referral's team; agreed: the volunteer, once both sides said yes (the person's agreed
    fields)."""

    team_path = "request__referral__team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        mine = Q(volunteer__user_id=user.pk)
        team = Q(request__referral__team__in=teams_for(user))
        if action == "view":
            return mine | team | Q(volunteer__organisation__in=coordinated_organisations_for(user))
        if action == "answer":
            return mine
        if action == "agreed":
            return mine & Q(state__in=CONNECTED_STATES)
        if action == "arrange":
            return team
        if action == "meet":
            return (mine | team) & Q(state__in=CONNECTED_STATES)
        return super().rule(user, action, now)

    def open(self) -> "IntroductionQuerySet":
        return self.filter(state__in=OPEN_STATES)


class Introduction(models.Model):
    """One volunteer offered to one person who asked for contact with a member, under the
    person's consent: the volunteer says yes or no without seeing who; the person says yes or no
    through a private link; only then are contact details exchanged (messages, nothing clinical)."""

    request = models.ForeignKey(IntroductionRequest, on_delete=models.CASCADE, related_name="offers")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="introductions")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"), max_length=12, choices=IntroductionState.choices, default=IntroductionState.OFFERED
    )
    # What the person agreed to share, and nothing else.
    chosen_name = models.CharField(_("first name or chosen name"), max_length=60)
    language = models.CharField(_("language"), max_length=8)
    looking_for = models.CharField(_("what they are looking for"), max_length=255, blank=True)
    channel = models.CharField(_("way to be contacted"), max_length=8, choices=ContactChannel.choices)
    reasons = models.JSONField(_("why this volunteer"), default=list, blank=True)
    # The person's private link (its hash): to say yes or no, then to end it or report a problem.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("offered"))
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("volunteer answered"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("person answered"), null=True, blank=True)
    met_on = models.DateField(_("first meeting together"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=12, choices=EndedBy.choices, blank=True)

    objects = IntroductionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("introduction")
        verbose_name_plural = _("introductions")
        indexes = [models.Index(fields=["state", "expires_at"], name="introduction_state_expiry")]

    def __str__(self) -> str:
        return f"Introduction {self.pk} ({self.state})"

    @property
    def person_id(self) -> int:
        return self.request.referral.person_id


class SafetyReport(models.Model):
    """A concern about an introduction, for the volunteer's coordinator (and the worker's team)."""

    introduction = models.ForeignKey(Introduction, on_delete=models.CASCADE, related_name="safety_reports")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_person = models.BooleanField(_("reported by the person"), default=False)
    text = models.TextField(_("what happened"))
    reported_at = models.DateTimeField(_("reported"))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("safety report")
        verbose_name_plural = _("safety reports")

    def __str__(self) -> str:
        return f"Safety report {self.pk}"
