"""The volunteers' forms: adding a volunteer, arranging an introduction, answering, a first meeting,
a safety report."""

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.forms import language_choices
from recoverybridge.directory.models import Approach, Fellowship
from recoverybridge.directory.places import find_place
from recoverybridge.messaging import phones
from recoverybridge.organisations.models import Organisation
from recoverybridge.volunteers.models import DayPart, VolunteerGender


class MarkedForm(forms.Form):
    """Marks fields with errors for assistive technology, as the staff forms do."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"


class ArrangeForm(MarkedForm):
    """What the person agreed to share with one volunteer, and which volunteer."""

    volunteer = forms.TypedChoiceField(label=_("Volunteer to ask"), coerce=int, widget=forms.RadioSelect)
    chosen_name = forms.CharField(
        label=_("First name or chosen name"),
        max_length=60,
        help_text=_("The name the volunteer will know them by, once both say yes."),
    )
    looking_for = forms.CharField(
        label=_("What they are looking for"),
        max_length=255,
        required=False,
        help_text=_("In their words, nothing clinical: “someone to go with me to a first meeting”."),
    )
    channel = forms.ChoiceField(label=_("How the volunteer may contact them"), widget=forms.RadioSelect)
    times = forms.MultipleChoiceField(
        label=_("When they can meet"),
        choices=DayPart.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agreed = forms.BooleanField(
        label=_("They agreed to share these details with a volunteer member, and only once both say yes"),
    )

    def __init__(
        self, *args: Any, volunteers: list[tuple[int, str]], channels: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        volunteer = self.fields["volunteer"]
        channel = self.fields["channel"]
        assert isinstance(volunteer, forms.ChoiceField) and isinstance(channel, forms.ChoiceField)
        volunteer.choices = volunteers
        channel.choices = channels


class FirstMeetingForm(MarkedForm):
    met_on = forms.DateField(
        label=_("Date of the first meeting together"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_met_on(self) -> datetime.date:
        met_on: datetime.date = self.cleaned_data["met_on"]
        if met_on > timezone.localdate():
            raise forms.ValidationError(_("The first meeting cannot be in the future."))
        return met_on


class SafetyReportForm(MarkedForm):
    text = forms.CharField(
        label=_("What happened"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The coordinator reads this. If anyone is in danger now, call your local emergency number."
        ),
    )


class NewVolunteerForm(MarkedForm):
    """What a coordinator records of a new volunteer: who they are, how to reach them, and
    what they offer (the matcher's terms, `Volunteer`'s fields)."""

    organisation = forms.ModelChoiceField(
        label=_("Coordinated by"), queryset=Organisation.objects.none(), empty_label=None
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=60,
        help_text=_("The name a person is told once both say yes."),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=150,
        help_text=_("They sign in with it, and get a link there to choose their password."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    fellowships = forms.ModelMultipleChoiceField(
        label=_("Fellowships they belong to"),
        queryset=Fellowship.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approaches = forms.MultipleChoiceField(
        label=_("Other approaches they know well"),
        choices=Approach.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their fellowships' approaches are included anyway."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages they speak"), widget=forms.CheckboxSelectMultiple
    )
    gender = forms.ChoiceField(
        label=_("Gender"), choices=VolunteerGender.choices, required=False, widget=forms.RadioSelect
    )
    moud_welcoming = forms.BooleanField(
        label=_("Welcomes people on medication for opioid use disorder (MOUD)"), required=False
    )
    place = forms.CharField(
        label=_("Town or postcode where they meet people"),
        max_length=120,
        required=False,
        help_text=_("Leave empty if they meet online only."),
    )
    reach_km = forms.IntegerField(label=_("Travels up to (km)"), min_value=1, max_value=200, initial=10)
    online = forms.BooleanField(label=_("Meets online"), required=False)
    availability = forms.MultipleChoiceField(
        label=_("When they can meet"),
        choices=DayPart.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    capacity = forms.IntegerField(label=_("Introductions at once"), min_value=1, max_value=20, initial=1)

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        languages = self.fields["languages"]
        assert isinstance(organisation, forms.ModelChoiceField)
        assert isinstance(languages, forms.ChoiceField)
        organisation.queryset = organisations
        languages.choices = language_choices()

    def clean_phone(self) -> str:
        """The number in E.164 form, as the person's record keeps it."""
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
        if not data.get("fellowships") and not data.get("approaches"):
            self.add_error("fellowships", _("Choose at least one fellowship, or an approach they know well."))
        place_text = (data.get("place") or "").strip()
        data["latitude"] = data["longitude"] = None
        if place_text:
            place = find_place(place_text)
            if place is None:
                self.add_error(
                    "place",
                    _("We could not find that place. Try a town or a postcode, or leave it empty."),
                )
            else:
                data["latitude"], data["longitude"] = place.latitude, place.longitude
        elif not data.get("online"):
            self.add_error("place", _("Give a town or postcode, or tick that they meet online."))
        return data

    def volunteer_fields(self) -> dict[str, Any]:
        """The keyword arguments of `actions.enrol_volunteer`."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "first_name",
                "email",
                "phone",
                "languages",
                "gender",
                "moud_welcoming",
                "latitude",
                "longitude",
                "reach_km",
                "online",
                "availability",
                "capacity",
            )
        }
        fields["area"] = data["place"].strip()
        fields["approaches"] = sorted(set(data["approaches"]) | {f.approach for f in data["fellowships"]})
        return {"organisation": data["organisation"], "fellowships": list(data["fellowships"]), **fields}
