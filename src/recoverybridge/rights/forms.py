"""Forms of the rights pages; the actions check access and state again."""

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.forms import DateInput, PersonEditForm, StaffForm
from recoverybridge.care.models import Contact
from recoverybridge.rights.models import ErasureGround, ReplyChannel, RequestKind

LONG_TEXT = 4000


class RightsForm(StaffForm):
    """Points each invalid field at its error by the field's own id, prefix included (a page here
    holds several forms, each with a prefix)."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"


class CorrectionDetailsForm(RightsForm, PersonEditForm):
    """The person's details as on record, to correct (care's own form)."""


class RequestForm(RightsForm):
    kind = forms.ChoiceField(
        label=_("What they ask for"), choices=RequestKind.choices, widget=forms.RadioSelect
    )
    received_on = forms.DateField(
        label=_("Received on"),
        widget=DateInput(),
        help_text=_(
            "The day they asked, in any way: in person, by phone, letter or e-mail. It is due a month later."
        ),
    )
    details = forms.CharField(
        label=_("What they asked, in their words"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=LONG_TEXT,
        required=False,
        help_text=_("For a correction: what is wrong and what it should say."),
    )
    reply_by = forms.ChoiceField(
        label=_("How they want to be told"), choices=ReplyChannel.choices, widget=forms.RadioSelect
    )
    language = forms.ChoiceField(label=_("Language of the answer"), choices=settings.LANGUAGES)

    def clean_received_on(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The day it was received cannot be in the future."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == RequestKind.CORRECTION and not (data.get("details") or "").strip():
            self.add_error("details", _("Say what they want corrected."))
        return data


class ReasonForm(RightsForm):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=LONG_TEXT,
        help_text=_("The person is given this reason: write it for them, with no health details."),
    )


class WithholdForm(RightsForm):
    """Which notes to withhold from the copy, if a health professional judges that seeing them
    would be likely to cause serious harm."""

    contacts = forms.MultipleChoiceField(
        label=_("Notes to withhold"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("The health professional's opinion"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=LONG_TEXT,
        required=False,
        help_text=_("Who gave it, and why seeing these notes would be likely to cause serious harm."),
    )

    def __init__(self, *args: Any, notes: list[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contacts"].choices = [  # type: ignore[attr-defined]
            (str(note.pk), self.describe(note)) for note in notes
        ]

    @staticmethod
    def describe(note: Contact) -> str:
        when = formats.date_format(timezone.localtime(note.at), "SHORT_DATETIME_FORMAT")
        marks = [when, note.get_kind_display()]
        if note.confidential:
            marks.append(str(_("confidential")))
        return " · ".join(marks) + ": " + Truncator(note.note).chars(120)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contacts") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the health professional's opinion for withholding them."))
        return data

    def contact_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["contacts"]]


class DeliveredForm(RightsForm):
    answer = forms.CharField(
        label=_("How the copy was given"),
        max_length=LONG_TEXT,
        required=False,
        help_text=_("For example: handed to them in person on a USB stick they brought."),
    )


class CorrectionAnswerForm(RightsForm):
    answer = forms.CharField(
        label=_("What was corrected"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=LONG_TEXT,
        required=False,
        help_text=_(
            "Say what you changed, here or elsewhere in their record. Details changed above are listed for you."
        ),
    )


class ErasureForm(RightsForm):
    ground = forms.ChoiceField(
        label=_("Why it must be erased"), choices=ErasureGround.choices, widget=forms.RadioSelect
    )
    confirm = forms.BooleanField(
        label=_("I understand their whole record will be erased, and this cannot be undone."), required=True
    )


class HoldForm(RightsForm):
    reason = forms.CharField(
        label=_("Why the record must be kept"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=LONG_TEXT,
        help_text=_("For example: a claim, an inquiry or an investigation, with its reference."),
    )


class PeriodForm(RightsForm):
    since = forms.DateField(label=_("From"), widget=DateInput(), required=False)
    until = forms.DateField(label=_("Up to and including"), widget=DateInput(), required=False)
    language = forms.ChoiceField(label=_("Language of the PDF"), choices=settings.LANGUAGES, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        return data
