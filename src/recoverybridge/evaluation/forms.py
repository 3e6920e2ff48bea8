"""The report form: read from the query string, so a report's URL can be bookmarked and shared
with a colleague who has the same access (who then sees only what their own scope allows)."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recoverybridge.care.models import EpisodeKind
from recoverybridge.evaluation import frame
from recoverybridge.organisations.models import Team

# Exposures a report may compare (referral to rehab is a funnel indicator, not a programme).
TREATMENTS = ("peer_bridged", "referred_mutual_aid", "online_group")
DEFAULT_OUTCOMES = ("mutual_aid_28d", "recovery_capital_change")
TRIMMING = (
    ("", _("Keep everyone")),
    ("crump", _("Keep the people the groups have in common (Crump's rule)")),
    ("treated", _("Leave out people without the programme who are unlike anyone who had it")),
    ("0.05", _("Leave out propensity scores below 0.05 or above 0.95")),
    ("0.10", _("Leave out propensity scores below 0.10 or above 0.90")),
)
SUPPORT_RULES = ("crump", "treated")


class DateInput(forms.DateInput):
    input_type = "date"


class ReportForm(forms.Form):
    episode_kinds = forms.MultipleChoiceField(
        label=_("Episode kinds"),
        choices=EpisodeKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to include every kind of episode."),
    )
    started_from = forms.DateField(label=_("Episodes started on or after"), required=False, widget=DateInput)
    started_to = forms.DateField(label=_("Episodes started on or before"), required=False, widget=DateInput)
    teams = forms.MultipleChoiceField(
        label=_("Teams"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to include every team you may see."),
    )
    treatment = forms.ChoiceField(
        label=_("Programme or exposure"),
        choices=[(column.name, column.label) for column in frame.EXPOSURES if column.name in TREATMENTS],
        initial="peer_bridged",
        widget=forms.RadioSelect,
        help_text=_("People who had it are compared with people who did not."),
    )
    outcomes = forms.MultipleChoiceField(
        label=_("Outcomes"),
        choices=[(column.name, column.label) for column in frame.OUTCOMES],
        initial=list(DEFAULT_OUTCOMES),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one outcome.")},
    )
    covariates = forms.MultipleChoiceField(
        label=_("Adjust for"),
        choices=[(column.name, column.label) for column in frame.COVARIATES],
        initial=[column.name for column in frame.COVARIATES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The characteristics the adjusted estimates balance between the groups. Leave all "
            "unticked to adjust for every one of them."
        ),
    )
    estimand = forms.ChoiceField(
        label=_("Whose effect"),
        choices=[
            ("ate", _("Everyone in the cohort (average treatment effect, ATE)")),
            ("att", _("The people who had it (average effect on the treated, ATT)")),
        ],
        initial="ate",
        widget=forms.RadioSelect,
        help_text=_(
            "ATE asks what would change if everyone had it rather than no one. ATT asks what it "
            "changed for the people who actually had it, who may differ from the rest."
        ),
    )
    trim = forms.ChoiceField(
        label=_("Who to compare"),
        choices=TRIMMING,
        required=False,
        help_text=_(
            "People who were almost certain to have it, or not to, have nobody like them to compare "
            "with. Leaving them out changes who the estimate is about (except the second choice, for "
            "the people who had it); the report says how many were left out."
        ),
    )

    def __init__(self, *args: Any, teams: Iterable[Team] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team_labels = {str(team.pk): f"{team.organisation.name}, {team.name}" for team in teams}
        field = self.fields["teams"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(self.team_labels.items())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The same choices in any order are the same report (and one cache entry): keep the form's order.
        orders = {
            "episode_kinds": EpisodeKind.values,
            "teams": list(self.team_labels),
            "outcomes": [column.name for column in frame.OUTCOMES],
            "covariates": [column.name for column in frame.COVARIATES],
        }
        for name, order in orders.items():
            if name in cleaned:
                chosen = set(cleaned[name])
                cleaned[name] = [value for value in order if value in chosen]
        if "covariates" in cleaned and not cleaned["covariates"]:
            cleaned["covariates"] = [column.name for column in frame.COVARIATES]
        start, end = cleaned.get("started_from"), cleaned.get("started_to")
        if start and end and start > end:
            self.add_error("started_to", _("This date is before the first one: the period would be empty."))
        return cleaned

    def team_ids(self, scope_ids: Iterable[int]) -> tuple[int, ...]:
        """The chosen teams, or every team in scope when none is chosen."""
        chosen = tuple(int(pk) for pk in self.cleaned_data["teams"])
        return chosen or tuple(sorted(scope_ids))

    def trim_value(self) -> float | None:
        chosen = self.cleaned_data.get("trim")
        return float(chosen) if chosen and chosen not in SUPPORT_RULES else None

    def support_value(self) -> str | None:
        chosen = self.cleaned_data.get("trim")
        return chosen if chosen in SUPPORT_RULES else None
