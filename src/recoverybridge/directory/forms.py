"""Forms of the public pages and the editors' pages.

The search form speaks people's words (now, later today, evening, women...)
and turns them into the search service's parameters (queries.MeetingSearch),
so the page and the API run the same search.
"""

import re
import unicodedata
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from recoverybridge.directory.actions.changes import EDITABLE_FIELDS
from recoverybridge.directory.feeds.normalise import zone_at
from recoverybridge.directory.models import Approach, Attribute, Fellowship, MoudStance, ServiceCategory
from recoverybridge.directory.queries import FAMILY_LABEL, SearchApproach
from recoverybridge.directory.timing import WEEKDAYS

WHEN_CHOICES = [
    ("", _("Any day")),
    ("now", _("In the next hour")),
    ("today", _("Later today")),
    *WEEKDAYS,
]
# Meeting's local start times for each part of the day; night runs across midnight.
PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(5, 0), time(11, 59)),
    "afternoon": (time(12, 0), time(16, 59)),
    "evening": (time(17, 0), time(20, 59)),
    "night": (time(21, 0), time(4, 59)),
}
TIME_CHOICES = [
    ("", _("Any time")),
    # A part of the day, never a day: in Spanish "Morning" is not "Mañana" (which is also "Tomorrow").
    ("morning", pgettext_lazy("part of the day", "Morning (5am to noon)")),
    ("afternoon", pgettext_lazy("part of the day", "Afternoon (noon to 5pm)")),
    ("evening", pgettext_lazy("part of the day", "Evening (5pm to 9pm)")),
    ("night", pgettext_lazy("part of the day", "Night (9pm to 5am)")),
]
MODE_CHOICES = [
    ("", _("In person or online")),
    ("in_person", _("In person")),
    ("online", _("Online")),
    ("hybrid", _("Hybrid (both)")),
]
RADIUS_CHOICES = [(5, _("5 km")), (10, _("10 km")), (25, _("25 km")), (50, _("50 km")), (100, _("100 km"))]
# The "who and access" checkboxes: attribute slug -> label.
AUDIENCE_CHOICES = [
    ("women", _("Women")),
    ("men", _("Men")),
    ("lgbtq", _("LGBTQ+")),
    ("young-people", _("Young people")),
    ("newcomers", _("Newcomers")),
    ("wheelchair-access", _("Wheelchair access")),
]
# The orders a visitor may choose; with none chosen, the search picks one (SearchForm.order).
SORT_CHOICES = [
    ("next", _("Soonest first")),
    ("distance", _("Nearest first")),
    ("name", pgettext_lazy("sort", "Name")),
]
VIEW_CHOICES = [("list", _("List")), ("map", _("Map"))]
MINUTES_SOON = 60
DEFAULT_RADIUS_KM = 25


# ---------------------------------------------------------------- widgets rendered in Python
# The search page renders its form on every search; Django's widget templates (a template per
# <option>, each including attrs.html) were about a third of the page's server time. These
# widgets give the same HTML as those templates (tests/directory/test_search_form_widgets.py).


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html"""
    out = []
    for name, value in attrs.items():
        if value is True:
            out.append(f" {name}")
        elif value is not False:
            out.append(f' {name}="{conditional_escape(str(value))}"')
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html"""
    value = "" if widget["value"] is None else f' value="{conditional_escape(str(widget["value"]))}"'
    return f'<input type="{widget["type"]}" name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


class PlainSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                out.append(
                    f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 -- every value above is escaped


class PlainHiddenInput(forms.HiddenInput):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        return mark_safe(_input(self.get_context(name, value, attrs)["widget"]))  # noqa: S308 -- escaped


class PlainCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Each choice's `tag` (the input alone, as the search template uses it) is rendered in Python."""

    def _render(
        self, template_name: str, context: dict[str, Any], renderer: BaseRenderer | None = None
    ) -> SafeString:
        widget = context["widget"]
        if template_name == self.option_template_name and not widget.get("wrap_label"):
            return mark_safe(_input(widget))  # noqa: S308 -- escaped
        # What Widget._render does.
        return mark_safe((renderer or get_default_renderer()).render(template_name, context))  # noqa: S308


def _approach_choices() -> list[tuple[str, Any]]:
    return [("", _("Every kind of group")), *Approach.choices, (SearchApproach.FAMILY.value, FAMILY_LABEL)]


# What people type in the place box when they are looking for a group for relatives, not a place
# (English and Spanish, compared without case, accents or punctuation).
FAMILY_WORDS = frozenset(
    {
        "family",
        "families",
        "family and friends",
        "family friends",
        "friends and family",
        "relatives",
        "familia",
        "familias",
        "familiares",
        "familia y amigos",
        "familiares y amigos",
        "familiares y amistades",
        "al anon",
        "alanon",
        "alateen",
        "nar anon",
        "naranon",
        "families anonymous",
    }
)


def _words(text: str) -> str:
    """ "Al-Anon!" -> "al anon"; "Familia" and "família" alike."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def place_zone(latitude: float, longitude: float) -> ZoneInfo | None:
    """The time zone at a place (offline, from coordinates); None at sea or where none is known."""
    name = zone_at(latitude, longitude)
    return ZoneInfo(name) if name else None


class SearchForm(forms.Form):
    where = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=120,
        help_text=_("A town, city, region or postcode."),
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "enterkeyhint": "search"}),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=PlainHiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=PlainHiddenInput)
    radius = forms.TypedChoiceField(
        label=_("Distance"),
        required=False,
        choices=RADIUS_CHOICES,
        coerce=int,
        empty_value=None,
        initial=DEFAULT_RADIUS_KM,
        widget=PlainSelect,
    )
    when = forms.ChoiceField(label=_("When"), required=False, choices=WHEN_CHOICES, widget=PlainSelect)
    time = forms.ChoiceField(label=_("Time of day"), required=False, choices=TIME_CHOICES, widget=PlainSelect)
    mode = forms.ChoiceField(label=_("How"), required=False, choices=MODE_CHOICES, widget=PlainSelect)
    approach = forms.ChoiceField(
        label=_("Kind of group"), required=False, choices=_approach_choices, widget=PlainSelect
    )
    fellowship = forms.ChoiceField(label=_("Fellowship"), required=False, widget=PlainSelect)
    moud = forms.BooleanField(label=_("Welcomes people on medication (MOUD)"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False, widget=PlainSelect)
    attribute = forms.MultipleChoiceField(
        label=_("For"), required=False, choices=AUDIENCE_CHOICES, widget=PlainCheckboxSelectMultiple
    )
    # Chosen with the order links beside the results; empty until the visitor chooses one.
    sort = forms.ChoiceField(
        label=_("Order"), required=False, choices=[("", ""), *SORT_CHOICES], widget=PlainHiddenInput
    )
    view = forms.ChoiceField(required=False, choices=VIEW_CHOICES, widget=PlainHiddenInput)
    tz = forms.CharField(required=False, max_length=64, widget=PlainHiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=PlainHiddenInput)

    def __init__(self, data: Any = None, *, language_code: str = "en", **kwargs: Any) -> None:
        if data is not None and not data.get("radius"):
            # The select shows the distance the search really uses.
            data = data.copy()
            data["radius"] = str(DEFAULT_RADIUS_KM)
        super().__init__(data, **kwargs)
        # What the visitor typed in the place box when it named groups for family, not a place.
        self.family_typed = ""
        fellowship_field = self.fields["fellowship"]
        assert isinstance(fellowship_field, forms.ChoiceField)
        fellowship_field.choices = [
            ("", _("Any fellowship")),
            *Fellowship.objects.values_list("slug", "name"),
        ]
        languages = sorted(
            (
                (a.language_code, a.name_in(language_code))
                for a in Attribute.objects.filter(category="language")
            ),
            key=lambda pair: pair[1].casefold(),
        )
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = [("", _("Any language")), *languages]

    def clean_tz(self) -> str:
        name: str = self.cleaned_data.get("tz") or ""
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError(
                    _("“%(zone)s” is not a time zone we know."), params={"zone": name}
                ) from None
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # "family" typed as a place: the visitor wants groups for family and friends. Searched
        # for everywhere (or near their location), with a word on the page saying so.
        self.family_typed = ""
        if data.get("where") and _words(data["where"]) in FAMILY_WORDS:
            self.family_typed = data["where"]
            data["where"] = ""
            data["approach"] = SearchApproach.FAMILY.value
            data["fellowship"] = ""
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError(
                _("Your location was incomplete. Please try “Use my location” again.")
            )
        return data

    @property
    def has_criteria(self) -> bool:
        """Whether someone asked for anything: the landing page runs no search."""
        keys = ("where", "lat", "when", "time", "mode", "approach", "fellowship", "moud", "language")
        return any(self.cleaned_data.get(key) for key in keys) or bool(self.cleaned_data.get("attribute"))

    @property
    def active_filters(self) -> int:
        """How many choices narrow the search (the place counts as one): shown on the folded filters."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        keys = ("when", "time", "mode", "approach", "fellowship", "moud", "language")
        place = bool(data.get("where") or data.get("lat") is not None)
        return int(place) + sum(1 for key in keys if data.get(key)) + len(data.get("attribute") or ())

    def order(self, *, has_place: bool) -> str:
        """The order of the results: the visitor's choice, else soonest first when a time is asked
        for ("starting soon", "later today", a day, a time of day) or there is no place, else
        nearest first. Nearest needs a place: without one the choice falls back to soonest."""
        data = self.cleaned_data
        chosen = data.get("sort") or ""
        if chosen == "distance" and not has_place:
            chosen = ""
        if chosen:
            return chosen
        return "distance" if has_place and not (data.get("when") or data.get("time")) else "next"

    def search_params(
        self,
        *,
        place: tuple[float, float] | None,
        now: datetime,
        viewer_zone: ZoneInfo | None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """Parameters for queries.MeetingSearch; `language` is the reader's, whose online meetings come first."""
        data = self.cleaned_data
        params: dict[str, Any] = {"page": data.get("page") or 1, "page_size": 20}
        params["sort"] = self.order(has_place=place is not None)
        if language:
            params["prefer_language"] = language
        if place:
            params.update(lat=place[0], lon=place[1], radius_km=data.get("radius") or DEFAULT_RADIUS_KM)
        when = data.get("when")
        if when == "now":
            params["starting_within"] = MINUTES_SOON
        elif when == "today":
            # "Today" is the visitor's day: their browser's zone, else the zone of the place
            # searched (a visitor without JavaScript), else the site's own (TIME_ZONE).
            day_zone = viewer_zone or (place_zone(*place) if place else None)
            local = now.astimezone(day_zone) if day_zone else timezone.localtime(now)
            midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
            params["starting_within"] = max(0, int((midnight - local).total_seconds() // 60))
        elif when:
            params["day"] = [int(when)]
        if data.get("time"):
            params["start_after"], params["start_before"] = PARTS_OF_DAY[data["time"]]
        for key in ("mode", "approach", "language"):
            if data.get(key):
                params[key] = data[key]
        if data.get("fellowship"):
            params["fellowship"] = [data["fellowship"]]
        if data.get("attribute"):
            params["attribute"] = list(data["attribute"])
        if data.get("moud"):
            params["moud_friendly"] = True
        return params


class ReportChangeForm(forms.Form):
    """What a visitor may tell us about a listing: nothing personal beyond an optional email."""

    message = forms.CharField(
        label=_("What is wrong or has changed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not include names or health details."),
    )
    name = forms.CharField(label=_("Correct meeting name"), required=False, max_length=255)
    weekday = forms.TypedChoiceField(
        label=_("Correct day"),
        required=False,
        choices=[("", _("No change")), *WEEKDAYS],
        coerce=int,
        empty_value=None,
    )
    start_time = forms.TimeField(
        label=_("Correct start time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label=_("Correct end time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    conference_url = forms.URLField(
        label=_("Correct online meeting link"), required=False, max_length=500, assume_scheme="https"
    )
    conference_phone = forms.CharField(
        label=_("Correct dial-in phone number"), required=False, max_length=120
    )
    closed = forms.BooleanField(label=_("This meeting no longer takes place"), required=False)
    contact_email = forms.EmailField(
        label=_("Your email (optional)"),
        required=False,
        help_text=_("Only if you are happy for an editor to ask you about this change."),
    )

    def proposed(self) -> dict[str, Any]:
        """The fields someone filled in, as Meeting field values."""
        data = self.cleaned_data
        values = {name: data[name] for name in EDITABLE_FIELDS if data.get(name) not in (None, "")}
        if data.get("closed"):
            values["status"] = "inactive"
        return values


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000)


class MoudStanceForm(forms.Form):
    stance = forms.ChoiceField(label=_("Stance"), choices=MoudStance.choices)
    source = forms.CharField(
        label=_("Who said so"),
        max_length=255,
        help_text=_("For example: the group's secretary, by phone."),
    )
    verified_on = forms.DateField(
        label=_("Verified on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class HeldImportForm(forms.Form):
    decision = forms.ChoiceField(choices=[("apply", _("Apply")), ("discard", _("Discard"))])
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: confirmed with the intergroup by phone."),
    )


class ServiceSearchForm(forms.Form):
    """Services beyond meetings near a place, of one category (both optional)."""

    where = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=120,
        help_text=_("A town, city, region or postcode."),
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "enterkeyhint": "search"}),
    )
    category = forms.ChoiceField(
        label=_("Kind of service"),
        required=False,
        choices=[("", _("Any kind"))],
        widget=PlainSelect,
    )
    radius = forms.TypedChoiceField(
        label=_("Distance"),
        required=False,
        choices=RADIUS_CHOICES,
        coerce=int,
        empty_value=None,
        initial=DEFAULT_RADIUS_KM,
        widget=PlainSelect,
    )

    def clean_radius(self) -> int:
        return self.cleaned_data.get("radius") or DEFAULT_RADIUS_KM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("Any kind")), *ServiceCategory.choices]
