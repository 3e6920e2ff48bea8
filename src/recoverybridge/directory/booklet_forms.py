"""The editors' form that defines a booklet: which area, in which language, in large print or not."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from recoverybridge.directory import booklets
from recoverybridge.directory.models import AreaKind, Booklet, PaperSize

# The field an area's problem is shown on, by kind of area.
AREA_FIELD = {AreaKind.REGION: "region", AreaKind.CITY: "city", AreaKind.BOX: "north"}


class DatalistInput(forms.TextInput):
    """A text box that suggests values (the directory's regions or towns) but accepts any."""

    def __init__(self, list_id: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({**(attrs or {}), "list": list_id, "autocomplete": "off"})


class BookletForm(forms.ModelForm):
    area_kind = forms.ChoiceField(
        label=_("Choose the area by"),
        choices=AreaKind.choices,
        widget=forms.RadioSelect,
        initial=AreaKind.REGION,
    )
    language = forms.ChoiceField(
        label=_("Language of the booklet"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    paper = forms.ChoiceField(
        label=_("Paper size"), choices=PaperSize.choices, widget=forms.RadioSelect, initial=PaperSize.A4
    )

    class Meta:
        model = Booklet
        fields = list(booklets.DEFINITION_FIELDS)
        labels = {"large_print": _("Large print (16 point and larger)")}
        help_texts = {
            "region": _("A region at any level of the directory's regions, such as “Sussex County”."),
            "city": _("The town or city as the directory spells it."),
        }
        widgets = {
            "region": DatalistInput("known-regions"),
            "city": DatalistInput("known-cities"),
            "south": forms.NumberInput(attrs={"step": "any", "min": -90, "max": 90}),
            "north": forms.NumberInput(attrs={"step": "any", "min": -90, "max": 90}),
            "west": forms.NumberInput(attrs={"step": "any", "min": -180, "max": 180}),
            "east": forms.NumberInput(attrs={"step": "any", "min": -180, "max": 180}),
            "report_contact": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        kind = data.get("area_kind")
        if kind == AreaKind.REGION and not (data.get("region") or "").strip():
            self.add_error("region", _("Name the region."))
        elif kind == AreaKind.CITY and not (data.get("city") or "").strip():
            self.add_error("city", _("Name the town or city."))
        elif kind == AreaKind.BOX:
            self._check_box(data)
        if kind and not self.errors:
            try:
                self.summary = booklets.check_area(booklets.Area.from_fields(data))
            except booklets.AreaProblem as problem:
                # On the field the editor typed, so the error summary leads back to it.
                self.add_error(AREA_FIELD[kind], str(problem))
        return data

    def _check_box(self, data: dict[str, Any]) -> None:
        limits = {"south": 90, "north": 90, "west": 180, "east": 180}
        for name, limit in limits.items():
            value = data.get(name)
            if value is None:
                if name not in self.errors:
                    self.add_error(name, _("Give all four edges of the rectangle."))
            elif not -limit <= value <= limit:
                self.add_error(name, _("Between -%(limit)s and %(limit)s, in degrees.") % {"limit": limit})
        if self.errors:
            return
        if data["south"] >= data["north"]:
            self.add_error("north", _("The north edge must be north of (greater than) the south edge."))
        if data["west"] >= data["east"]:
            self.add_error("east", _("The east edge must be east of (greater than) the west edge."))
