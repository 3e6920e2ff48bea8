"""The search form's widgets are rendered in Python for speed; they must give exactly the HTML
Django's widget templates give, so the page does not change."""

import pytest
from django import forms
from django.forms.boundfield import BoundWidget

from recoverybridge.directory.forms import (
    PlainCheckboxSelectMultiple,
    PlainHiddenInput,
    PlainSelect,
    SearchForm,
)

CHOICES = [
    ("", "Any"),
    ("a&b", 'Tom "&" Jerry <x>'),
    ("1", "One"),
    ("Grouped", [("g1", "First in group"), ("g2", "Second")]),
]
ATTRS = {"id": "id_x", "aria-describedby": "x-help", "disabled": False, "required": True, "data-n": 3}


@pytest.mark.parametrize("value", ["", "a&b", "1", "g2", None, ["1", "g1"], 1])
def test_a_plain_select_is_the_template_s_select(value):
    assert PlainSelect(choices=CHOICES).render("x", value, ATTRS) == forms.Select(choices=CHOICES).render(
        "x", value, ATTRS
    )


@pytest.mark.parametrize("value", [None, "", 51.5072, "Europe/London", 'a"<b>&'])
def test_a_plain_hidden_input_is_the_template_s_input(value):
    attrs = {"id": "id_lat"}
    assert PlainHiddenInput().render("lat", value, attrs) == forms.HiddenInput().render("lat", value, attrs)


@pytest.mark.parametrize("value", [[], ["women"], ["women", "a&b"]])
def test_plain_checkbox_tags_are_the_template_s_inputs(value):
    choices = [("women", "Women"), ("a&b", "<Odd & label>"), ("men", "Men")]

    def tags(widget, **kwargs):
        subwidgets = widget.subwidgets("attribute", value, {"id": "id_attribute"})
        return [BoundWidget(widget, data, None).tag(**kwargs) for data in subwidgets]

    plain, stock = PlainCheckboxSelectMultiple(choices=choices), forms.CheckboxSelectMultiple(choices=choices)
    assert tags(plain) == tags(stock)
    assert tags(plain, wrap_label=True) == tags(stock, wrap_label=True)


@pytest.mark.django_db
def test_the_bound_search_form_renders_as_with_django_s_widgets():
    data = {"where": "Lewes", "when": "3", "time": "evening", "mode": "online", "approach": "secular"}
    form = SearchForm(
        {
            **data,
            "fellowship": "aa",
            "attribute": ["women", "lgbtq"],
            "lat": "50.87",
            "lon": "0.01",
            "tz": "UTC",
        }
    )
    assert form.is_valid()
    stock = {
        PlainSelect: forms.Select,
        PlainHiddenInput: forms.HiddenInput,
        PlainCheckboxSelectMultiple: forms.CheckboxSelectMultiple,
    }
    checked = 0
    for bound in form:
        plain = type(bound.field.widget)
        if plain not in stock:
            continue
        widget = stock[plain]()
        widget.choices = getattr(bound.field.widget, "choices", [])
        assert str(bound) == bound.as_widget(widget=widget), bound.name
        attrs = {"id": bound.auto_id}
        assert [w.tag() for w in bound] == [
            BoundWidget(widget, data, None).tag()
            for data in widget.subwidgets(bound.html_name, bound.value(), attrs)
        ]
        checked += 1
    assert checked == 14
