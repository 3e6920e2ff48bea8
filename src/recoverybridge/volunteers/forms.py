"""The volunteers' forms: arranging an introduction, answering, a first meeting, a safety report."""

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recoverybridge.volunteers.models import DayPart


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
