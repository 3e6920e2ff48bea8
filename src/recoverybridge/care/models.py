"""Care coordination: people, consent, referrals, journeys (organisations and teams are the
ground floor's: `organisations`).

Person records are health data (US 42 CFR Part 2, UK GDPR special category). Read them
only through `Model.objects.restrict(user, action)` (the access rule of each model is its
queryset's, below), change them only through `care.actions` (which writes the audit row in
the same transaction).
"""

import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recoverybridge.accounts.access import RestrictedQuerySet, managed_teams_for, organisations_for, teams_for
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from recoverybridge.organisations.zones import validate_time_zone

# ---------------------------------------------------------------- who may see what (see accounts.access)


class PersonQuerySet(RestrictedQuerySet["Person"]):
    """view and change: the person's team is one of the user's caseloads; audit: a team the user
    manages; check_ins: view, while the person's consent to share their check-ins is active."""

    team_path = "team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        # An anonymised record (past retention, kept for evaluation only) is nobody's to see.
        if action == "check_ins":
            shared = Consent.objects.active(now).filter(
                purpose=ConsentPurpose.CHECK_INS, person_id=OuterRef("pk")
            )
            return Q(team__in=teams_for(user), anonymised_at__isnull=True) & Q(Exists(shared))
        return super().rule(user, action, now) & Q(anonymised_at__isnull=True)


M = TypeVar("M", bound=models.Model)


class PersonRecordQuerySet(RestrictedQuerySet[M], Generic[M]):
    """Rows of a person's record (episodes, related people, outcomes): as the person."""

    team_path = "person__team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        return super().rule(user, action, now) & Q(person__anonymised_at__isnull=True)


class RelatedPersonQuerySet(PersonRecordQuerySet["RelatedPerson"]):
    pass


class EpisodeQuerySet(PersonRecordQuerySet["Episode"]):
    pass


class ConsentQuerySet(RestrictedQuerySet["Consent"]):
    team_path = "person__team"

    def active(self, now: datetime.datetime | None = None) -> "ConsentQuerySet":
        """Given by `now`, and neither revoked nor expired then."""
        now = now or timezone.now()
        return self.filter(
            Q(given_at__lte=now),
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        )

    def to_refer(self, now: datetime.datetime | None = None) -> "ConsentQuerySet":
        """Active consents to refer, to be narrowed to a person and recipient."""
        return self.active(now).filter(purpose=ConsentPurpose.REFERRAL)

    def covering(
        self, person: "Person", recipient: Organisation, now: datetime.datetime | None = None
    ) -> "Consent | None":
        """The newest active consent to disclose this person's referral to `recipient`, if any."""
        return self.to_refer(now).filter(person=person, recipient=recipient).order_by("-given_at").first()


class ReferralQuerySet(RestrictedQuerySet["Referral"]):
    """view: the user's own teams' referrals, and those received by their organisation under
    consent; request: own teams' only (the requester's side); perform: the receiving side (the
    referring team itself when there is no receiving organisation); disclose: view, while the
    details may go to the target organisation."""

    team_path = "team"

    def received_by(
        self, organisation_ids: object, now: datetime.datetime | None = None
    ) -> "ReferralQuerySet":
        """Referrals sent to these organisations that they may see now: sent (not drafts), and
        either internal or covered by an active consent to that recipient."""
        covered = Consent.objects.to_refer(now).filter(
            person_id=OuterRef("person_id"), recipient_id=OuterRef("target_organisation_id")
        )
        return (
            self.filter(target_organisation_id__in=organisation_ids)
            .exclude(status=TaskStatus.DRAFT)
            .filter(Q(team__organisation_id=F("target_organisation_id")) | Exists(covered))
        )

    def disclosable(self, now: datetime.datetime | None = None) -> "ReferralQuerySet":
        """Referrals whose details may go to their target organisation now: none, their own, or
        one the person's active consent covers."""
        covered = Consent.objects.to_refer(now).filter(
            person_id=OuterRef("person_id"), recipient_id=OuterRef("target_organisation_id")
        )
        return self.filter(
            Q(target_organisation__isnull=True)
            | Q(team__organisation_id=F("target_organisation_id"))
            | Exists(covered)
        )

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        own = Q(team__in=teams_for(user))
        received = Referral.objects.received_by(organisations_for(user).values("pk"), now).values("pk")
        if action == "view":
            return own | Q(pk__in=received)
        if action == "request":
            return own
        if action == "perform":
            return (own & Q(target_organisation__isnull=True)) | Q(pk__in=received)
        if action == "disclose":
            return (own | Q(pk__in=received)) & Q(pk__in=Referral.objects.disclosable(now).values("pk"))
        return super().rule(user, action, now)


class FollowUpQuerySet(RestrictedQuerySet["FollowUp"]):
    """view and complete: the referral is one of the user's own teams' (the requester's work)."""

    team_path = "referral__team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        return super().rule(user, "view" if action == "complete" else action, now)


class ContactQuerySet(RestrictedQuerySet["Contact"]):
    """note: whether the user may read the contact's note. An open note goes with the person's
    record; a confidential one only to its author and the managers of the person's team."""

    team_path = "person__team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        if action == "note":
            return Q(confidential=False, person__team__in=teams_for(user)) | Q(
                Q(worker_id=user.pk) | Q(person__team__in=managed_teams_for(user)), confidential=True
            )
        return super().rule(user, action, now)


class ReferralDraftQuerySet(RestrictedQuerySet["ReferralDraft"]):
    """view and change: the worker's own drafts (a draft is one worker's work in progress), of
    people still on their teams' caseloads."""

    team_path = "person__team"

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        if action in ("view", "change"):
            return super().rule(user, "view", now) & Q(owner_id=user.pk)
        return super().rule(user, action, now)

    def current(self, now: datetime.datetime | None = None) -> "ReferralDraftQuerySet":
        """Drafts not yet expired (the clean-up task deletes the others)."""
        return self.filter(expires_at__gt=now or timezone.now())


class IntroductionRequestQuerySet(RestrictedQuerySet["IntroductionRequest"]):
    team_path = "referral__team"


class SpiritualPreference(models.TextChoices):
    NO_PREFERENCE = "none", _("No preference")
    SECULAR = "secular", _("Secular")
    SPIRITUAL = "spiritual", _("Spiritual or religious")


class AttendancePreference(models.TextChoices):
    EITHER = "either", _("Either")
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")


class GroupGenderPreference(models.TextChoices):
    ANY = "any", _("Any")
    WOMEN = "women", _("Women only")
    MEN = "men", _("Men only")


class Person(models.Model):
    """Someone on a team's caseload."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="people")
    # A pseudonymous reference for reports and exports; no name in it.
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    given_name = models.CharField(_("given name"), max_length=120)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, default="en")
    spiritual_preference = models.CharField(
        _("secular or spiritual"),
        max_length=16,
        choices=SpiritualPreference.choices,
        default=SpiritualPreference.NO_PREFERENCE,
    )
    on_moud = models.BooleanField(_("on medication for opioid use disorder"), default=False)
    attendance_preference = models.CharField(
        _("online or in person"),
        max_length=16,
        choices=AttendancePreference.choices,
        default=AttendancePreference.EITHER,
    )
    group_gender_preference = models.CharField(
        _("gender of group"), max_length=8, choices=GroupGenderPreference.choices, default="any"
    )
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="navigated_people",
        verbose_name=_("navigator"),
    )
    # The zone their meeting times and follow-ups are shown in; empty: their team's.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the record passed its retention period and lost everything that identifies the
    # person (care.actions.anonymise_person); what evaluation may keep stays.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        # The pseudonymous reference, so a stray str() never puts a name in a log.
        return self.reference

    @property
    def zone_name(self) -> str:
        """The IANA zone they live in: their own, else their team's (its organisation's, the site's)."""
        return self.time_zone or self.team.zone_name


class RelatedPerson(models.Model):
    """A family member or concerned other, who may be referred to family groups too."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="related_people")
    name = models.CharField(_("name"), max_length=200)
    relationship = models.CharField(_("relationship"), max_length=60)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    # Set when the related person becomes someone the team works with themselves.
    as_person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="related_as"
    )

    objects = RelatedPersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("related person")
        verbose_name_plural = _("related people")

    def __str__(self) -> str:
        return f"{self.relationship} of {self.person.reference}"


class ConsentPurpose(models.TextChoices):
    CARE_COORDINATION = "care_coordination", _("Care coordination")
    REFERRAL = "referral", _("Referral to a named recipient")
    EVALUATION = "evaluation", _("Evaluation")
    # The person's own check-ins (meetings, mood, cravings) shown to their worker.
    CHECK_INS = "check_ins", _("Sharing check-ins with the worker")
    # Messages to the person themselves, one consent per channel (care.messages).
    MESSAGES_BY_TEXT = "messages_by_text", _("Messages by text")
    MESSAGES_BY_EMAIL = "messages_by_email", _("Messages by e-mail")
    # An introduction to a volunteer member (volunteers app): what may go to them is its scope.
    INTRODUCTION = "introduction", _("Introduction to a volunteer member")


class Consent(models.Model):
    """Permission to use or disclose a person's information; history is kept (revoke, never delete)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=24, choices=ConsentPurpose.choices)
    recipient = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents_received",
        verbose_name=_("recipient"),
    )
    scope = models.TextField(_("what may be shared"), blank=True)
    given_at = models.DateTimeField(_("given"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.person.reference})"


class ReferralTargetKind(models.TextChoices):
    MEETING = "meeting", _("Mutual-aid meeting")
    FELLOWSHIP = "fellowship", _("Mutual-aid group")
    TREATMENT = "treatment", _("Treatment")
    DETOX = "detox", _("Detox")
    RESIDENTIAL_REHAB = "residential_rehab", _("Residential rehab")
    HOUSING = "housing", _("Housing")
    OTHER_SERVICE = "other_service", _("Another organisation")


# Referrals to mutual aid: no receiving organisation, and milestones of their own.
MUTUAL_AID = frozenset({ReferralTargetKind.MEETING, ReferralTargetKind.FELLOWSHIP})


class TaskStatus(models.TextChoices):
    """FHIR Task.status, as the HL7 Gravity SDOH referral guide uses it."""

    DRAFT = "draft", _("Draft")
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    IN_PROGRESS = "in-progress", _("In progress")
    ON_HOLD = "on-hold", _("On hold")
    FAILED = "failed", _("Failed")
    COMPLETED = "completed", _("Completed")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class MutualAidMilestone(models.TextChoices):
    """Task.businessStatus for referrals to mutual aid."""

    NONE = "", _("None yet")
    ATTENDED_FIRST = "attended-first-meeting", _("Attended first meeting")
    ATTENDING_REGULARLY = "attending-regularly", _("Attending regularly")
    TRIED_AND_STOPPED = "tried-and-stopped", _("Tried and stopped")
    CHOSE_ANOTHER = "chose-another-group", _("Chose another group")


class Barrier(models.TextChoices):
    """What may get in the way of going (named while facilitating), or did (told at a follow-up)."""

    TRANSPORT = "transport", _("Transport: hard to get there")
    CHILDCARE = "childcare", _("Childcare or caring duties")
    WORK_HOURS = "work_hours", _("Work or study hours")
    GROUP_ANXIETY = "group_anxiety", _("Anxious about groups")
    MOUD_STIGMA = "moud_stigma", _("Worried about stigma for taking medication")
    ACCESS = "access", _("Disability or access needs")
    NO_INTERNET = "no_internet", _("No phone, data or internet")
    PRIVACY = "privacy", _("Worried about being recognised")
    DOUBTS = "doubts", _("Unsure groups are for them")
    UNWELL = "unwell", _("Unwell")
    MEETING_NOT_ON = "meeting_not_on", _("The meeting was not on, or its details were wrong")
    OTHER = "other", _("Something else")


# Asked before sending; the last two only come up afterwards.
FACILITATION_BARRIERS = [b for b in Barrier if b not in (Barrier.UNWELL, Barrier.MEETING_NOT_ON)]


class Referral(models.Model):
    """A FHIR ServiceRequest with its Task."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="referrals")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    target_kind = models.CharField(_("referred to"), max_length=24, choices=ReferralTargetKind.choices)
    meeting = models.ForeignKey(
        "directory.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    fellowship = models.ForeignKey(
        "directory.Fellowship", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    target_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_received"
    )
    # The consent that covers disclosure to target_organisation, when there is one.
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.DRAFT
    )
    business_status = models.CharField(
        _("milestone"), max_length=24, choices=MutualAidMilestone.choices, blank=True
    )
    status_reason = models.CharField(_("status reason"), max_length=255, blank=True)
    # What mattered to the person when the options were ranked (coded answers, see care.drafts.Matters).
    matters = models.JSONField(_("what matters to them"), default=dict, blank=True)
    barrier_note = models.CharField(_("note on barriers"), max_length=500, blank=True)
    authored_on = models.DateTimeField(_("referred on"))
    updated_at = models.DateTimeField(auto_now=True)
    # The FHIR versionId of its Task and ServiceRequest (ETag W/"n"): one more at every save, so a
    # receiving organisation's update made on an older version is refused (If-Match), not lost.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-authored_on"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["team", "authored_on"], name="referral_team_when"),
            models.Index(fields=["person", "authored_on"], name="referral_person_when"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.get_target_kind_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every change is a new version, counted in the database so two writers never share one."""
        if self.pk is None or self._state.adding or kwargs.get("force_insert"):
            super().save(*args, **kwargs)
            return
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        before = self.version
        self.version = F("version") + 1
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.version = before
            raise
        self.refresh_from_db(fields=["version"])

    @property
    def has_milestones(self) -> bool:
        """Mutual-aid milestones (attended a first meeting...) fit a referral to a meeting or group,
        and one to a peer or recovery organisation, whose groups are mutual aid too."""
        if self.target_kind in MUTUAL_AID:
            return True
        target = self.target_organisation
        return target is not None and target.kind == OrganisationKind.PEER_RECOVERY


class ReferralOption(models.Model):
    """An option the worker presented (information parity), and whether the person chose to try it."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="options")
    meeting = models.ForeignKey("directory.Meeting", on_delete=models.PROTECT, related_name="+")
    chosen = models.BooleanField(_("chosen to try"), default=False)

    class Meta:
        verbose_name = _("option presented")
        verbose_name_plural = _("options presented")
        constraints = [models.UniqueConstraint(fields=["referral", "meeting"], name="unique_option")]

    def __str__(self) -> str:
        return f"Option {self.meeting_id} for referral {self.referral_id}"


class AssistedStepKind(models.TextChoices):
    INTRODUCED = "introduced", _("Introduced to a member")
    ACCOMPANIED = "accompanied", _("Accompanied to a meeting")


class AssistedStep(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="assisted_steps")
    kind = models.CharField(_("step"), max_length=16, choices=AssistedStepKind.choices)
    on = models.DateField(_("date"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("assisted step")
        verbose_name_plural = _("assisted steps")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.on}"


class FollowUpResult(models.TextChoices):
    """How it went, as told at a follow-up; the referral's status follows (care.attendance)."""

    ATTENDED = "attended", _("Went")
    ATTENDING_REGULARLY = "attending-regularly", _("Going regularly")
    NOT_YET = "not-yet", _("Not yet")
    BARRIER = "barrier", _("Something got in the way")
    STOPPED = "stopped", _("Went, then stopped")
    CHOSE_ANOTHER = "chose-another", _("Chose another group or service")
    NOT_REACHED = "not-reached", _("Could not reach them")


class ReportedBy(models.TextChoices):
    WORKER = "worker", _("told to the worker")
    # Through their own private link (the person closes the loop themselves).
    PERSON = "person", _("answered by the person")


class FollowUp(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="follow_ups")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    due_on = models.DateField(_("due"))
    completed_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    result = models.CharField(_("how it went"), max_length=24, choices=FollowUpResult.choices, blank=True)
    reported_by = models.CharField(_("told by"), max_length=8, choices=ReportedBy.choices, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [models.Index(fields=["assigned_to", "completed_at", "due_on"], name="followup_queue")]

    def __str__(self) -> str:
        return f"Follow-up of referral {self.referral_id} due {self.due_on}"


class AttendanceAsk(models.Model):
    """The person was sent the meetings they chose and, after the first of them, is asked by a
    private link whether they went (the person closes the loop): the link is made and sent when
    `due_at` has passed, by the channel the meetings went by, on behalf of who sent them."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="attendance_ask")
    channel = models.CharField(_("channel"), max_length=8)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("ask after"))
    asked_at = models.DateTimeField(_("asked"), null=True, blank=True)
    # Why it was not sent, when it could not be (consent withdrawn, STOP, the sender left the team).
    refusal = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("question after the first meeting")
        verbose_name_plural = _("questions after the first meeting")
        indexes = [models.Index(fields=["asked_at", "due_at"], name="attendance_ask_due")]

    def __str__(self) -> str:
        return f"Attendance ask for referral {self.referral_id}"


class ReferralBarrier(models.Model):
    """A barrier the person named: while facilitating (no follow-up) or, at a follow-up, as what
    got in the way. One row per code, so barriers can be counted across referrals."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="barriers")
    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, null=True, blank=True, related_name="barriers"
    )
    code = models.CharField(_("barrier"), max_length=16, choices=Barrier.choices)

    class Meta:
        verbose_name = _("barrier")
        verbose_name_plural = _("barriers")
        constraints = [
            models.UniqueConstraint(fields=["referral", "follow_up", "code"], name="unique_barrier"),
            models.UniqueConstraint(
                fields=["referral", "code"], condition=Q(follow_up__isnull=True), name="unique_barrier_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} on referral {self.referral_id}"


class IntroductionKind(models.TextChoices):
    CALL = "call", _("A call from a member before the first meeting")
    MEET = "meet", _("Meet a member before the first meeting")
    ACCOMPANY = "accompany", _("A member goes along to the first meeting")


class IntroductionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    INTRODUCED = "introduced", _("Introduced")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class IntroductionRequest(models.Model):
    """ "Arrange contact with a member", asked for in the referral wizard: the step between a list
    and a first meeting. It carries what a match needs (the group, language, gender of group, MOUD,
    online or in person) as coded values, so that volunteers can be matched to open requests."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="introduction")
    kind = models.CharField(_("contact wanted"), max_length=16, choices=IntroductionKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=IntroductionStatus.choices, default=IntroductionStatus.REQUESTED
    )
    fellowship = models.ForeignKey(
        "directory.Fellowship", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approach = models.CharField(_("approach"), max_length=24, blank=True)
    language = models.CharField(_("language"), max_length=8)
    group_gender = models.CharField(_("gender of group"), max_length=8, choices=GroupGenderPreference.choices)
    on_moud = models.BooleanField(_("on MOUD"), default=False)
    attendance = models.CharField(
        _("online or in person"), max_length=16, choices=AttendancePreference.choices
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = IntroductionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("introduction request")
        verbose_name_plural = _("introduction requests")
        indexes = [models.Index(fields=["status", "requested_at"], name="introduction_open")]

    def __str__(self) -> str:
        return f"Introduction for referral {self.referral_id} ({self.status})"


class ReferralDraft(models.Model):
    """The referral wizard's answers as the worker goes (care.drafts.Answers in `answers`), so that
    going back, recording consent or coming back tomorrow loses nothing. One per worker and
    person; gone once the referral is sent, or REFERRAL_DRAFT_DAYS after it was last saved."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="referral_drafts")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(_("step"), max_length=16)
    answers = models.JSONField(default=dict)
    started_at = models.DateTimeField(_("started"))
    saved_at = models.DateTimeField(_("last saved"))
    expires_at = models.DateTimeField(_("discarded after"), db_index=True)

    objects = ReferralDraftQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral draft")
        verbose_name_plural = _("referral drafts")
        constraints = [models.UniqueConstraint(fields=["person", "owner"], name="one_draft_per_worker")]

    def __str__(self) -> str:
        return f"Referral draft {self.pk} for {self.person_id}"


class EpisodeKind(models.TextChoices):
    DETOX = "detox", _("Detox")
    COMMUNITY_TREATMENT = "community_treatment", _("Community treatment")
    RESIDENTIAL_REHAB = "residential_rehab", _("Residential rehab")
    AFTERCARE = "aftercare", _("Aftercare")
    PRISON_RELEASE = "prison_release", _("Prison release")


class EpisodeEnd(models.TextChoices):
    ONGOING = "", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    TRANSFERRED = "transferred", _("Transferred")
    OTHER = "other", _("Other")


class Episode(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="episodes")
    kind = models.CharField(_("kind"), max_length=24, choices=EpisodeKind.choices)
    started_on = models.DateField(_("started"))
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("how it ended"), max_length=16, choices=EpisodeEnd.choices, blank=True)
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("episode")
        verbose_name_plural = _("episodes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("started_on")),
                name="episode_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.started_on}"


class ContactKind(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")
    MESSAGE = "message", _("Message")
    ACCOMPANIED = "accompanied", _("Accompanied")


class Contact(models.Model):
    """A worker's contact with a person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    episode = models.ForeignKey(Episode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type"), max_length=16, choices=ContactKind.choices)
    at = models.DateTimeField(_("when"))
    duration_minutes = models.PositiveIntegerField(_("minutes"), default=0)
    note = models.TextField(_("note"), blank=True)
    # Confidential notes are shown only to their author and the team's managers.
    confidential = models.BooleanField(_("confidential"), default=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} contact on {self.at:%Y-%m-%d}"
