"""Forms of the staff pages. Each one checks what a person filling it in can get wrong and says
so in their words; the change itself is made by care.actions, which checks access again."""

import dataclasses
import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.attendance import WITH_BARRIERS
from recoverybridge.care.drafts import MAX_FOLLOW_UPS, Matters
from recoverybridge.care.models import (
    FACILITATION_BARRIERS,
    MUTUAL_AID,
    AssistedStepKind,
    AttendancePreference,
    Barrier,
    ConsentPurpose,
    ContactKind,
    Episode,
    EpisodeEnd,
    EpisodeKind,
    FollowUpResult,
    GroupGenderPreference,
    IntroductionKind,
    MutualAidMilestone,
    Person,
    ReferralTargetKind,
    RelatedPerson,
    SpiritualPreference,
    TaskStatus,
)
from recoverybridge.care.queries import recipients
from recoverybridge.directory.models import Approach, Attribute, AttributeCategory, Fellowship
from recoverybridge.directory.places import find_place
from recoverybridge.messaging import phones
from recoverybridge.organisations.models import Organisation, Team
from recoverybridge.organisations.zones import available_zones


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class StaffForm(forms.Form):
    """Marks fields with errors for assistive technology, as the public forms do."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"id_{name}_error"


def _users_of(teams: QuerySet[Team]) -> QuerySet[User]:
    return User.objects.filter(memberships__team__in=teams, is_active=True).distinct().order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def language_choices() -> list[tuple[Any, Any]]:
    """The site's languages first, then every language meetings in the directory are held in."""
    site = list(settings.LANGUAGES)
    spoken = {code for code, _name in site}
    current = get_language() or "en"
    others = sorted(
        (
            (a.language_code, a.name_in(current))
            for a in Attribute.objects.filter(category=AttributeCategory.LANGUAGE).exclude(language_code="")
            if a.language_code not in spoken
        ),
        key=lambda choice: choice[1],
    )
    return [(_("Languages of this site"), site), (_("Other languages"), others)]


def zone_choices() -> list[tuple[str, Any]]:
    """IANA zones grouped by continent, each shown by its city ("Toronto")."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in available_zones():
        region, _sep, rest = name.partition("/")
        if rest:
            groups.setdefault(region, []).append((name, rest.replace("_", " ").replace("/", " / ")))
    return [("UTC", "UTC"), *groups.items()]


class PersonForm(StaffForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    given_name = forms.CharField(label=_("Given name"), max_length=120)
    family_name = forms.CharField(label=_("Family name"), max_length=120, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("A mobile number lets them get texts, if they agree to it."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    place = forms.CharField(
        label=_("Town or postcode"),
        max_length=120,
        required=False,
        help_text=_("Used to find meetings near them. Leave empty to look at online meetings only."),
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"),
        help_text=_(
            "Meetings in this language are offered first; the take-away list is in it when the site speaks it."
        ),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Where they live: meeting times and follow-ups are shown in this zone."),
    )
    spiritual_preference = forms.ChoiceField(
        label=_("Secular or spiritual"), choices=SpiritualPreference.choices
    )
    on_moud = forms.BooleanField(
        label=_("On medication for opioid use disorder (MOUD), such as methadone or buprenorphine"),
        required=False,
    )
    attendance_preference = forms.ChoiceField(
        label=_("Online or in person"), choices=AttendancePreference.choices
    )
    group_gender_preference = forms.ChoiceField(
        label=_("Gender of group"), choices=GroupGenderPreference.choices
    )
    navigator = UserChoiceField(
        label=_("Navigator"), queryset=User.objects.none(), required=False, empty_label=_("Nobody yet")
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], worker: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = teams.select_related("organisation")
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["navigator"].queryset = _users_of(teams)  # type: ignore[attr-defined]
        self.fields["preferred_language"].choices = language_choices()  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = zone_choices()  # type: ignore[attr-defined]
        if worker is not None and "navigator" not in self.initial:
            # Whoever takes them in is their navigator, unless they choose someone else (or nobody).
            self.initial["navigator"] = (
                _users_of(teams).filter(pk=worker.pk).values_list("pk", flat=True).first()
            )
        if "time_zone" not in self.initial:
            first = teams.first()
            self.initial["time_zone"] = first.zone_name if first else settings.TIME_ZONE

    def clean_phone(self) -> str:
        """The number in E.164 form (+447400123456), whichever way it was typed."""
        typed = self.cleaned_data["phone"].strip()
        if not typed:
            return ""
        try:
            return phones.normalise(typed)
        except phones.InvalidNumber:
            local, international = phones.example()
            raise forms.ValidationError(
                _(
                    "This is not a phone number that can be dialled. Type it with its area code, "
                    "like %(local)s, or with its country code, like %(international)s."
                )
                % {"local": local, "international": international}
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        navigator, team = data.get("navigator"), data.get("team")
        if (
            navigator is not None
            and team is not None
            and not navigator.memberships.filter(team=team).exists()
        ):
            self.add_error("navigator", _("The navigator must work in the person's team."))
        place_text = (data.get("place") or "").strip()
        data["latitude"] = data["longitude"] = None
        if place_text:
            found = self.locate(place_text)
            if found is None:
                self.add_error(
                    "place",
                    _("We could not find that place. Try a town or a postcode, or leave it empty."),
                )
            else:
                data["latitude"], data["longitude"] = found
        born = data.get("date_of_birth")
        if born is not None and born > timezone.localdate():
            self.add_error("date_of_birth", _("The date of birth cannot be in the future."))
        return data

    def locate(self, place_text: str) -> tuple[float | None, float | None] | None:
        """The coordinates of a town or postcode, or None when it cannot be found."""
        place = find_place(place_text)
        return None if place is None else (place.latitude, place.longitude)

    def person_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "given_name": data["given_name"],
            "family_name": data["family_name"],
            "date_of_birth": data["date_of_birth"],
            "email": data["email"],
            "phone": data["phone"],
            "postcode": data["place"].strip()[:20],
            "latitude": data["latitude"],
            "longitude": data["longitude"],
            "preferred_language": data["preferred_language"],
            "spiritual_preference": data["spiritual_preference"],
            "on_moud": data["on_moud"],
            "attendance_preference": data["attendance_preference"],
            "group_gender_preference": data["group_gender_preference"],
            "navigator": data["navigator"],
            "time_zone": data["time_zone"],
        }


class PersonEditForm(PersonForm):
    """The add-person form, filled in with what is on record."""

    def __init__(self, *args: Any, person: Person, teams: QuerySet[Team], **kwargs: Any) -> None:
        self.person = person
        initial = {
            "team": person.team_id,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "email": person.email,
            "phone": phones.readable(person.phone),
            "place": person.postcode,
            "preferred_language": person.preferred_language,
            "spiritual_preference": person.spiritual_preference,
            "on_moud": person.on_moud,
            "attendance_preference": person.attendance_preference,
            "group_gender_preference": person.group_gender_preference,
            "navigator": person.navigator_id,
            "time_zone": person.zone_name,
        }
        super().__init__(*args, teams=teams, initial=initial, **kwargs)

    def clean_phone(self) -> str:
        # An unchanged number is kept as it is on record, even one written before numbers were
        # checked: fixing it is not the price of changing something else.
        typed = self.cleaned_data["phone"].strip()
        if typed in (self.person.phone, phones.readable(self.person.phone)):
            return self.person.phone
        return super().clean_phone()

    def locate(self, place_text: str) -> tuple[float | None, float | None] | None:
        # An unchanged place keeps the coordinates on record, even one the gazetteer lacks now.
        if place_text == self.person.postcode.strip():
            return self.person.latitude, self.person.longitude
        return super().locate(place_text)

    def action_kwargs(self) -> dict[str, Any]:
        fields = self.person_fields()
        if not self.person.time_zone and fields["time_zone"] == self.person.zone_name:
            fields["time_zone"] = ""  # still their team's, and follows it if that changes
        return {"team": self.cleaned_data["team"], **fields}


class RelatedPersonForm(StaffForm):
    """Add or correct a family member or concerned other, optionally linked to their own record.

    The link is typed as a reference (RB-...) and looked up only among the people the user may
    see, so the form never lists anyone, and a reference outside their teams gets the same
    answer as one that does not exist."""

    name = forms.CharField(label=_("Name"), max_length=200)
    relationship = forms.CharField(
        label=_("Relationship"),
        max_length=60,
        help_text=_("For example: mother, partner, friend."),
    )
    contact = forms.CharField(
        label=_("Contact"),
        max_length=200,
        required=False,
        help_text=_("A phone number or email address, if they agree to be contacted."),
    )
    as_person = forms.CharField(
        label=_("Their own record"),
        max_length=32,
        required=False,
        help_text=_(
            "If your team works with them too, enter the reference of their own record, such as "
            "RB-K3QF7ZQA. Leave empty if not."
        ),
    )

    def __init__(
        self,
        *args: Any,
        person: Person,
        people: QuerySet[Person],
        related: RelatedPerson | None = None,
        **kwargs: Any,
    ) -> None:
        self.person = person
        self.people = people
        self.related = related
        # A link made by someone who sees more (a service manager) to a record this user may
        # not see: its reference is not shown, and leaving the field empty keeps it.
        self.hidden_link = False
        if related is not None:
            linked = people.filter(pk=related.as_person_id).first() if related.as_person_id else None
            self.hidden_link = related.as_person_id is not None and linked is None
            kwargs["initial"] = {
                "name": related.name,
                "relationship": related.relationship,
                "contact": related.contact,
                "as_person": linked.reference if linked else "",
            }
        super().__init__(*args, **kwargs)
        if self.hidden_link:
            self.fields["as_person"].help_text = _(
                "They are linked to a record outside your teams. Leave this empty to keep that link, "
                "or enter the reference of another record to link them to it instead."
            )

    def clean_as_person(self) -> Person | None:
        reference = self.cleaned_data["as_person"].strip().upper()
        if not reference:
            if self.hidden_link:
                assert self.related is not None
                return self.related.as_person
            return None
        if reference == self.person.reference:
            raise forms.ValidationError(
                _("That is %(name)s's own reference: enter the reference of the related person's record.")
                % {"name": self.person.given_name}
            )
        linked = self.people.filter(reference=reference).first()
        if linked is None:
            raise forms.ValidationError(
                _(
                    "No one with the reference %(reference)s is on your teams' caseloads. Check the "
                    "reference on their record, or leave this empty."
                )
                % {"reference": reference}
            )
        return linked


class ConsentForm(StaffForm):
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=ConsentPurpose.choices,
        help_text=_(
            "Messages by text or e-mail: private links to answer questions or check in, and the "
            "meetings they choose (name, day, time, place). Never their name or anything about "
            "their health. They can reply STOP to any text."
        ),
    )
    recipient = forms.ModelChoiceField(
        label=_("Recipient"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("No other organisation"),
        help_text=_("Needed for a referral: the organisation the person agrees may receive it."),
    )
    scope = forms.CharField(
        label=_("What may be shared"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty if the consent has no end date."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == ConsentPurpose.REFERRAL and not data.get("recipient"):
            self.add_error(
                "recipient", _("Choose the organisation the person agrees may receive the referral.")
            )
        expires = data.get("expires_on")
        if expires is not None and expires <= timezone.localdate():
            self.add_error("expires_on", _("The end date must be after today."))
        return data

    def action_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        expires = data["expires_on"]
        return {
            "purpose": data["purpose"],
            "recipient": data["recipient"],
            "scope": data["scope"],
            "expires_at": _end_of_day(expires) if expires else None,
        }


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


class EpisodeForm(StaffForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=EpisodeKind.choices)
    started_on = forms.DateField(label=_("Started on"), widget=DateInput())
    navigator = UserChoiceField(
        label=_("Navigator"), queryset=User.objects.none(), required=False, empty_label=_("Nobody yet")
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["navigator"].queryset = _users_of(Team.objects.filter(pk=team.pk))  # type: ignore[attr-defined]

    def clean_started_on(self) -> datetime.date:
        started: datetime.date = self.cleaned_data["started_on"]
        if started > timezone.localdate() + datetime.timedelta(days=366):
            raise forms.ValidationError(_("That date is more than a year away; please check it."))
        return started


class EndEpisodeForm(StaffForm):
    ended_on = forms.DateField(label=_("Ended on"), widget=DateInput())
    end_reason = forms.ChoiceField(
        label=_("How it ended"), choices=[c for c in EpisodeEnd.choices if c[0] != EpisodeEnd.ONGOING]
    )

    def __init__(self, *args: Any, episode: Episode, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode

    def clean_ended_on(self) -> datetime.date:
        ended: datetime.date = self.cleaned_data["ended_on"]
        if ended < self.episode.started_on:
            raise forms.ValidationError(_("An episode cannot end before it started."))
        return ended


class ContactForm(StaffForm):
    kind = forms.ChoiceField(label=_("Type of contact"), choices=ContactKind.choices)
    at = forms.DateTimeField(label=_("When"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=24 * 60, initial=0)
    episode = forms.ModelChoiceField(
        label=_("Episode"), queryset=Episode.objects.none(), required=False, empty_label=_("None")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    confidential = forms.BooleanField(
        label=_("Confidential: only I and the team's managers may read the note"), required=False
    )

    def __init__(self, *args: Any, episodes: QuerySet[Episode], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes  # type: ignore[attr-defined]
        self.fields["episode"].label_from_instance = lambda e: (  # type: ignore[attr-defined]
            f"{e.get_kind_display()} ({e.started_on:%Y-%m-%d})"
        )

    def clean_at(self) -> datetime.datetime:
        at: datetime.datetime = self.cleaned_data["at"]
        if at > timezone.now() + datetime.timedelta(hours=1):
            raise forms.ValidationError(_("A contact cannot be logged in the future."))
        return at


class StatusForm(StaffForm):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args: Any, allowed: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [c for c in TaskStatus.choices if c[0] in allowed]  # type: ignore[attr-defined]


class MilestoneForm(StaffForm):
    business_status = forms.ChoiceField(
        label=_("Milestone"), choices=[c for c in MutualAidMilestone.choices if c[0]]
    )


class AssistedStepForm(StaffForm):
    kind = forms.ChoiceField(label=_("Step"), choices=AssistedStepKind.choices)
    on = forms.DateField(label=_("Date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def clean_on(self) -> datetime.date:
        on: datetime.date = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("Record a step once it has happened."))
        return on


class FollowUpResultForm(StaffForm):
    """How it went, told at a follow-up; what got in the way when it did not go (yet)."""

    result = forms.ChoiceField(
        label=_("How did it go?"), choices=FollowUpResult.choices, widget=forms.RadioSelect
    )
    barriers = forms.MultipleChoiceField(
        label=_("What got in the way?"),
        choices=Barrier.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("For not yet, something got in the way, or went then stopped."),
    )
    outcome = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        result = data.get("result")
        if result == FollowUpResult.BARRIER and not data.get("barriers"):
            self.add_error("barriers", _("Tick what got in the way."))
        if result not in WITH_BARRIERS:
            data["barriers"] = []
        return data


class FollowUpDateForm(StaffForm):
    """Plan another follow-up, or move one, to a day from today on."""

    due_on = forms.DateField(label=_("Date"), widget=DateInput())

    def clean_due_on(self) -> datetime.date:
        due: datetime.date = self.cleaned_data["due_on"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        if due > timezone.localdate() + datetime.timedelta(days=366):
            raise forms.ValidationError(_("That date is more than a year away; please check it."))
        return due


class ReferralTargetForm(StaffForm):
    """Step 2 of the wizard: what the referral is to."""

    target_kind = forms.ChoiceField(
        label=_("Refer to"), choices=ReferralTargetKind.choices, widget=forms.RadioSelect
    )
    meeting = forms.TypedChoiceField(
        label=_("Meeting"), coerce=int, required=False, help_text=_("For a referral to a meeting.")
    )
    fellowship = forms.ModelChoiceField(
        label=_("Group (fellowship)"),
        queryset=Fellowship.objects.order_by("name"),
        required=False,
        help_text=_("For a referral to a group."),
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("For a referral to a service or another organisation."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, chosen: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", _("Choose a meeting")), *chosen]  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = recipients()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("target_kind")
        if kind == ReferralTargetKind.MEETING and not data.get("meeting"):
            self.add_error(
                "meeting",
                _("Choose one of the meetings the person chose to try (go back to step 1 to choose one)."),
            )
        if kind == ReferralTargetKind.FELLOWSHIP and not data.get("fellowship"):
            self.add_error("fellowship", _("Choose the group."))
        if kind and kind not in MUTUAL_AID and not data.get("organisation"):
            self.add_error("organisation", _("Choose the organisation to refer to."))
        return data


# ---------------------------------------------------------------- the referral wizard's steps


class MattersForm(StaffForm):
    """Facilitate: what matters to them in a group, and what may get in the way of going."""

    approaches = forms.MultipleChoiceField(
        label=_("Kinds of group they would like"),
        choices=Approach.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("These come first. Every kind of group nearby is still shown."),
    )
    fellowship = forms.ChoiceField(label=_("A fellowship they know or want"), required=False)
    spiritual = forms.ChoiceField(label=_("Secular or spiritual"), choices=SpiritualPreference.choices)
    language = forms.ChoiceField(label=_("Language of the group"))
    gender = forms.ChoiceField(label=_("Gender of group"), choices=GroupGenderPreference.choices)
    attendance = forms.ChoiceField(label=_("Online or in person"), choices=AttendancePreference.choices)
    on_moud = forms.BooleanField(
        label=_("On medication for opioid use disorder (MOUD), such as methadone or buprenorphine"),
        required=False,
    )
    barriers = forms.MultipleChoiceField(
        label=_("What might get in the way?"),
        choices=[(b.value, b.label) for b in FACILITATION_BARRIERS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    barrier_note = forms.CharField(
        label=_("Note on what might get in the way"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example, which evenings they work. No more than the referral needs."),
    )
    remember = forms.BooleanField(
        label=_("When the referral is sent, keep these as their preferences on their record"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fellowships = Fellowship.objects.order_by("name").values_list("slug", "name")
        self.fields["fellowship"].choices = [("", _("No particular one")), *fellowships]  # type: ignore[attr-defined]
        self.fields["language"].choices = language_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(matters: Matters, barriers: list[str], note: str, remember: bool) -> dict[str, Any]:
        return {**matters.as_json(), "barriers": barriers, "barrier_note": note, "remember": remember}

    def matters(self) -> Matters:
        """The form's fields of the same names as Matters'."""
        data = self.cleaned_data
        return Matters(**{f.name: data[f.name] for f in dataclasses.fields(Matters)})


class IntroductionForm(StaffForm):
    """Arrange contact with a member: FAMA's step between a list and a first meeting."""

    introduction = forms.ChoiceField(
        label=_("Would they like contact with a member of the group?"),
        choices=[("", _("No, not now")), *IntroductionKind.choices],
        widget=forms.RadioSelect,
        required=False,
    )
    introduction_note = forms.CharField(
        label=_("Anything the member should know"),
        max_length=255,
        required=False,
        help_text=_("Only what they agree to share, such as when they can talk. Nothing about their health."),
    )


class FollowUpPlanForm:
    """The follow-up dates planned in the wizard: any number up to MAX_FOLLOW_UPS, each from today on.
    Posted as repeated `follow_up` fields, so adding or removing one keeps what was typed."""

    def __init__(self, data: Any, *, dates: list[datetime.date], today: datetime.date) -> None:
        self.today = today
        self.bound = data is not None
        self.values = data.getlist("follow_up") if data is not None else [d.isoformat() for d in dates]
        self.errors: dict[int, str] = {}
        self.dates: list[datetime.date] = []

    def is_valid(self) -> bool:
        self.errors, self.dates = {}, []
        for index, text in enumerate(self.values):
            if not text.strip():
                continue
            try:
                day = datetime.date.fromisoformat(text.strip())
            except ValueError:
                self.errors[index] = str(_("Enter a date, such as 2026-03-14."))
                continue
            if day < self.today:
                self.errors[index] = str(_("Choose today or a later day."))
            elif day > self.today + datetime.timedelta(days=366):
                self.errors[index] = str(_("That date is more than a year away; please check it."))
            else:
                self.dates.append(day)
        if len(self.dates) > MAX_FOLLOW_UPS:
            self.errors[MAX_FOLLOW_UPS] = str(
                _("Plan at most %(count)d follow-ups here; add more later on the referral's page.")
                % {"count": MAX_FOLLOW_UPS}
            )
        self.dates = sorted(set(self.dates))
        return not self.errors

    def removing(self, index: int) -> None:
        if 0 <= index < len(self.values):
            del self.values[index]

    def adding(self) -> None:
        """One more, a week after the last (or a week from today), while there is room."""
        if len(self.dates) < MAX_FOLLOW_UPS:
            self.dates.append(max(self.dates or [self.today]) + datetime.timedelta(days=7))

    def planned(self) -> list[str]:
        """The dates to keep, as the draft holds them."""
        return [day.isoformat() for day in sorted(set(self.dates))]


class SendMeetingsForm(StaffForm):
    """Send the person the meetings they chose, by a channel they agreed to; and ask afterwards."""

    channel = forms.ChoiceField(label=_("Send by"), widget=forms.RadioSelect)
    ask_after = forms.BooleanField(
        label=_("After the first meeting, send them a private link to say whether they went"),
        required=False,
        initial=True,
        help_text=_("Their answer completes the next follow-up and shows on this page."),
    )

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels  # type: ignore[attr-defined]
        if channels:
            self.initial.setdefault("channel", channels[0][0])
