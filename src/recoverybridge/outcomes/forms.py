"""Forms for the outcome pages. `AnswerForm` renders any instrument from its Questionnaire file
(outcomes.instruments) in one language and turns what was posted into the answers the scoring
engine takes; the engine alone decides what is valid (its messages land on the item)."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.models import Barrier, FollowUpResult
from recoverybridge.directory.models import Meeting
from recoverybridge.outcomes.actions import OTHER_FELLOWSHIP
from recoverybridge.outcomes.instruments import FELLOWSHIP_VALUE_SET, Instrument, Item
from recoverybridge.outcomes.models import InvitationKind, TimePoint

# Empty rows offered for a repeating group (e.g. meetings per fellowship) beyond those saved.
EXTRA_GROUP_ROWS = 2
YES, NO = "yes", "no"


@dataclass
class Block:
    """One thing on the page: a display text, a question, a group of questions, or a
    repeating group's rows."""

    kind: str  # display, question, group, rows
    label: str
    link_id: str = ""
    field_name: str = ""
    children: list["Block"] = field(default_factory=list)
    # A repeating group's rows: (field name, linkId) of each child per row.
    rows: list[list[tuple[str, str]]] = field(default_factory=list)
    error: str = ""
    form: "AnswerForm | None" = None

    @property
    def bound(self) -> forms.BoundField | None:
        return self.form[self.field_name] if self.form is not None and self.kind == "question" else None

    @property
    def bound_rows(self) -> list[list[forms.BoundField]]:
        assert self.form is not None
        return [[self.form[name] for name, _link in row] for row in self.rows]


def _field_name(link_id: str) -> str:
    return "a_" + link_id.replace(".", "__")


def _row_field(group: str, index: int, link_id: str) -> str:
    return f"{_field_name(group)}__{index}__{_field_name(link_id)}"


class AnswerForm(forms.Form):
    """The questions of an instrument (or of some of its top-level items: one screen)."""

    def __init__(
        self,
        data: Any = None,
        *,
        instrument: Instrument,
        language: str,
        answers: dict[str, Any] | None = None,
        items: Sequence[Item] | None = None,
        fellowships: Sequence[tuple[str, str]] = (),
        prefix: str | None = None,
    ) -> None:
        super().__init__(data, prefix=prefix)
        self.instrument = instrument
        self.language = language
        self.saved = answers or {}
        self.fellowships = list(fellowships)
        self.blocks = [self._block(item) for item in (items if items is not None else instrument.items)]
        self.engine_errors: dict[str, str] = {}

    # ------------------------------------------------------------ building

    def _block(self, item: Item) -> Block:
        label = item.label(self.language)
        if item.type == "display":
            return Block("display", label, item.link_id)
        if item.type == "group" and item.repeats:
            saved_rows = self.saved.get(item.link_id) or []
            count = len(saved_rows) + EXTRA_GROUP_ROWS
            if self.is_bound:
                posted_text = str(self.data.get(self.add_prefix(_field_name(item.link_id) + "__rows"), ""))
                posted = int(posted_text) if posted_text.isdigit() else 0
                count = max(count, min(posted, 50))
            rows = []
            for index in range(count):
                saved = saved_rows[index] if index < len(saved_rows) else {}
                names = []
                for child in item.children:
                    name = _row_field(item.link_id, index, child.link_id)
                    self.fields[name] = self._field(child, saved.get(child.link_id), row=index + 1)
                    names.append((name, child.link_id))
                rows.append(names)
            return Block("rows", label, item.link_id, _field_name(item.link_id), rows=rows, form=self)
        if item.type == "group":
            return Block("group", label, item.link_id, children=[self._block(c) for c in item.children])
        name = _field_name(item.link_id)
        self.fields[name] = self._field(item, self.saved.get(item.link_id))
        return Block("question", label, item.link_id, name, form=self)

    def _field(self, item: Item, saved: Any, row: int = 0) -> forms.Field:
        label = item.label(self.language)
        if row:
            label = _("%(question)s (row %(row)d)") % {"question": label, "row": row}
        field: forms.Field
        if item.type == "choice" and item.options:
            field = forms.ChoiceField(
                label=label,
                required=False,
                choices=[(o.code, o.label(self.language)) for o in item.options],
                widget=forms.RadioSelect,
            )
        elif item.type == "choice":
            choices = self.fellowships if item.value_set == FELLOWSHIP_VALUE_SET else []
            field = forms.ChoiceField(label=label, required=False, choices=[("", "—"), *choices])
        elif item.type == "boolean":
            field = forms.ChoiceField(
                label=label,
                required=False,
                choices=[(YES, _("Yes")), (NO, _("No"))],
                widget=forms.RadioSelect,
            )
            saved = {True: YES, False: NO}.get(saved) if saved is not None else None
        elif item.type == "integer":
            # The engine checks the range (one set of messages); the browser only gets a hint.
            attrs: dict[str, Any] = {"inputmode": "numeric", "class": "q-number"}
            if item.min_value is not None:
                attrs["min"] = f"{item.min_value:g}"
            if item.max_value is not None:
                attrs["max"] = f"{item.max_value:g}"
            field = forms.IntegerField(label=label, required=False, widget=forms.NumberInput(attrs=attrs))
        else:
            field = forms.FloatField(label=label, required=False)
        if saved is not None:
            field.initial = saved
        return field

    # ------------------------------------------------------------ reading

    def answers(self) -> dict[str, Any]:
        """The answers posted on this form, as the engine takes them (call after is_valid)."""
        data = self.cleaned_data
        result: dict[str, Any] = {}
        for block in self._all_blocks():
            if block.kind == "question":
                value = self._value(block.link_id, data.get(block.field_name))
                if value is not None:
                    result[block.link_id] = value
            elif block.kind == "rows":
                rows = []
                for names in block.rows:
                    row = {}
                    for name, link in names:
                        value = self._value(link, data.get(name))
                        if value is not None:
                            row[link] = value
                    if row:
                        rows.append(row)
                result[block.link_id] = rows
        return result

    def _value(self, link_id: str, value: Any) -> Any:
        if value in (None, ""):
            return None
        item = self.instrument.by_link.get(link_id)
        if item is not None and item.type == "boolean":
            return value == YES
        return value

    def _all_blocks(self) -> list[Block]:
        flat: list[Block] = []
        for block in self.blocks:
            flat.append(block)
            flat.extend(block.children)
        return flat

    def link_ids(self) -> set[str]:
        """Top-level answer keys this form owns (to merge with answers saved on other screens)."""
        return {b.link_id for b in self._all_blocks() if b.kind in ("question", "rows")}

    def add_engine_errors(self, errors: dict[str, str]) -> None:
        """Put the scoring engine's message for each item on that item (or the form)."""
        self.engine_errors = errors
        owned = {b.link_id: b for b in self._all_blocks() if b.kind in ("question", "rows")}
        for link_id, message in errors.items():
            block = owned.get(link_id)
            if block is not None and block.kind == "question":
                self.add_error(block.field_name, message)
            elif block is not None:
                block.error = message
                self.add_error(None, message)
            else:
                self.add_error(None, message)

    @property
    def error_items(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary at the top, in page order."""
        out = []
        for block in self._all_blocks():
            if block.kind == "question" and self.errors.get(block.field_name):
                out.append(
                    (
                        self[block.field_name].auto_id or "",
                        " ".join(str(e) for e in self.errors[block.field_name]),
                    )
                )
            elif block.kind == "rows" and block.error:
                out.append((f"group-{block.field_name}", block.error))
        return out


class StaffEntryForm(forms.Form):
    """What a staff-entered response is about, beside its answers."""

    time_point = forms.ChoiceField(
        label=_("Time point"), choices=TimePoint.choices, initial=TimePoint.AD_HOC, required=False
    )

    def clean_time_point(self) -> str:
        return self.cleaned_data.get("time_point") or TimePoint.AD_HOC


# The value of "What to send" for a questionnaire: this prefix and the instrument's id.
QUESTIONNAIRE = "questionnaire:"
# The value of "How to send it" for not sending it.
DO_NOT_SEND = "none"


class InvitationForm(forms.Form):
    """What to send the person (one questionnaire or the check-in: one choice, so nothing is
    "optional" and then required), in which language, for how long, and how to send it: by a
    channel they consented to, or not at all (the worker reads it out or copies it)."""

    what = forms.ChoiceField(
        label=_("What to send"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the questionnaire to send, or the check-in.")},
    )
    language = forms.ChoiceField(
        label=_("Language of the page"), choices=[("en", "English"), ("es", "Español")]
    )
    valid_days = forms.TypedChoiceField(
        label=_("The link works for"),
        coerce=int,
        choices=[(3, _("3 days")), (7, _("7 days")), (14, _("14 days")), (28, _("28 days"))],
        initial=14,
    )
    send_by = forms.ChoiceField(
        label=_("How to send it"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("That way of sending it is not possible now: choose another.")},
    )

    def __init__(
        self,
        *args: Any,
        instruments: Sequence[tuple[str, str]],
        channels: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["what"]).choices = [
            *((f"{QUESTIONNAIRE}{id_}", title) for id_, title in instruments),
            (InvitationKind.CHECK_IN.value, _("Check-in: meetings, mood and cravings this week")),
        ]
        send_by = cast(forms.ChoiceField, self.fields["send_by"])
        send_by.choices = [*channels, (DO_NOT_SEND, _("Do not send it: I will read it out or copy it"))]
        send_by.initial = channels[0][0] if channels else DO_NOT_SEND
        self.can_send = bool(channels)
        if not channels:
            # Nothing to choose; a channel posted anyway (it went away meanwhile) is still an error.
            send_by.widget = forms.HiddenInput()
            send_by.required = False

    @property
    def kind(self) -> str:
        what = self.cleaned_data["what"]
        return InvitationKind.QUESTIONNAIRE if what.startswith(QUESTIONNAIRE) else InvitationKind.CHECK_IN

    @property
    def instrument(self) -> str:
        if self.kind != InvitationKind.QUESTIONNAIRE:
            return ""
        return str(self.cleaned_data["what"]).removeprefix(QUESTIONNAIRE)

    @property
    def channel(self) -> str:
        """The channel to send the link by, or "" for none."""
        chosen = self.cleaned_data.get("send_by", DO_NOT_SEND)
        return "" if chosen == DO_NOT_SEND else str(chosen)

    @property
    def valid_for(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.cleaned_data["valid_days"])


class CheckInForm(forms.Form):
    """The person's own check-in: meetings this week (from the directory or a number), mood,
    cravings. Every question may be skipped."""

    meetings = forms.MultipleChoiceField(
        label=_("Meetings you went to this week"), required=False, widget=forms.CheckboxSelectMultiple
    )
    other_meetings = forms.IntegerField(
        label=_("Other meetings this week (not on the list)"),
        required=False,
        min_value=0,
        max_value=50,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "q-number"}),
    )
    mood = forms.TypedChoiceField(
        label=_("How has your mood been this week?"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            (1, _("1 — very low")),
            (2, _("2 — low")),
            (3, _("3 — okay")),
            (4, _("4 — good")),
            (5, _("5 — very good")),
        ],
        widget=forms.RadioSelect,
    )
    cravings = forms.TypedChoiceField(
        label=_("How strong have cravings been this week? (0 none, 10 extreme)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(n, str(n)) for n in range(11)],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, meetings: Sequence[Meeting], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meeting_objects = {str(m.pk): m for m in meetings}
        cast(forms.ChoiceField, self.fields["meetings"]).choices = [(str(m.pk), m.name) for m in meetings]

    def chosen_meetings(self) -> list[Meeting]:
        return [
            self.meeting_objects[pk] for pk in self.cleaned_data["meetings"] if pk in self.meeting_objects
        ]

    def meetings_count(self) -> int | None:
        chosen = len(self.cleaned_data["meetings"])
        other = self.cleaned_data.get("other_meetings")
        if other is None:
            return chosen if chosen else None
        return chosen + other


def fellowship_choices(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*rows, (OTHER_FELLOWSHIP, str(_("Another group")))]


class AttendanceForm(forms.Form):
    """The person's answer after the first meeting they chose: went, not yet, or what got in the
    way (at least one reason when something did)."""

    result = forms.ChoiceField(
        label=_("Did you get to the meeting?"),
        choices=[
            (FollowUpResult.ATTENDED, _("Yes, I went")),
            (FollowUpResult.NOT_YET, _("Not yet")),
            (FollowUpResult.BARRIER, _("Something got in the way")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one answer.")},
    )
    barriers = forms.MultipleChoiceField(
        label=_("What got in the way? Choose any that apply."),
        choices=Barrier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("result") == FollowUpResult.BARRIER and not data.get("barriers"):
            self.add_error("barriers", _("Say what got in the way: choose at least one."))
        return data
