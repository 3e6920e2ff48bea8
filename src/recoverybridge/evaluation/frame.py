"""The analysis frame: one row per episode, the single shape every estimator reads.

`evaluation.cohorts` builds it from care and outcome records (only people whose consent covers
evaluation); `evaluation.simulate` builds the same shape with a known truth, for tests and the
benchmark; researchers bring their own CSV to `manage.py evaluate`. Estimators take column names,
so the frame may carry more columns than listed here.

Indicators are floats holding 0.0 / 1.0, with NaN where the question does not apply or the answer
is not yet known (e.g. treatment within 14 days only for detox discharges). Estimators drop rows
missing the treatment, outcome or a covariate and say how many they dropped.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    name: str
    label: Promise
    kind: (
        str  # "unit" | "exposure" | "outcome" | "event_time" | "covariate" | "dose" | "mediator" | "subgroup"
    )
    binary: bool = False


# Units of comparison for funnel plots (labels, never personal data).
UNITS = (
    Column("worker", _("Worker"), "unit"),
    Column("team", _("Team"), "unit"),
    Column("service", _("Service"), "unit"),
    Column("area", _("Area"), "unit"),
)

# Exposures: what a person received. Referral indicators double as the funnel plots' rates.
EXPOSURES = (
    Column("peer_bridged", _("Peer bridged (introduced or accompanied)"), "exposure", binary=True),
    Column("referred_mutual_aid", _("Referred to mutual aid"), "exposure", binary=True),
    Column("referred_rehab", _("Referred to residential rehab"), "exposure", binary=True),
    Column("online_group", _("Chose an online group"), "exposure", binary=True),
)

OUTCOMES = (
    Column("treatment_within_14d", _("Started treatment within 14 days of detox discharge"), "outcome", True),
    Column("mutual_aid_28d", _("Attended mutual aid within 28 days"), "outcome", binary=True),
    Column("recovery_capital_change", _("Change in recovery capital (BARC-10)"), "outcome"),
    Column("days_used_6m", _("Days used in the past 28, at 6 months"), "outcome"),
    Column("days_used_12m", _("Days used in the past 28, at 12 months"), "outcome"),
    Column("treatment_completed", _("Completed treatment"), "outcome", binary=True),
)

# Time to return to use or readmission: days from the episode's end (or start, while ongoing)
# to the event or to censoring, and whether the event happened.
EVENT_TIME = Column("days_to_event", _("Days to return to use or readmission"), "event_time")
EVENT = Column("event", _("Returned to use or readmitted"), "event_time", binary=True)

COVARIATES = (
    Column("age", _("Age"), "covariate"),
    Column("on_moud", _("On medication for opioid use disorder"), "covariate", binary=True),
    Column("baseline_recovery_capital", _("Recovery capital at baseline"), "covariate"),
    Column("baseline_days_used", _("Days used in the past 28, at baseline"), "covariate"),
    Column("prior_episodes", _("Earlier episodes"), "covariate"),
    Column("prefers_secular", _("Prefers a secular group"), "covariate", binary=True),
)

# Dose: mutual-aid meetings per week over the first 90 days (from check-ins or the
# mutual-help instrument). Mediators: measured at 3 months, between exposure and outcome.
DOSE = Column("meetings_per_week", _("Mutual-aid meetings per week"), "dose")
MEDIATORS = (
    Column("supportive_network_3m", _("Recovery-supportive people in the network at 3 months"), "mediator"),
    Column("recovery_capital_3m", _("Recovery capital at 3 months"), "mediator"),
)

# Who benefits: characteristics the subgroup effects are pre-specified for, beside age bands and
# the covariates on_moud and prefers_secular, and the exposure online_group.
FAMA_LEVELS = ("information", "introduced", "accompanied")
SUBGROUPS = (
    Column("group_gender", _("Gender of group preferred"), "subgroup"),
    Column("fellowship_approach", _("Approach of the fellowship referred to"), "subgroup"),
    # Facilitated access to mutual aid: the most support a mutual-aid referral of the episode had.
    Column("fama_level", _("Support to reach mutual aid (FAMA level)"), "dose"),
)

ID_COLUMNS = ("episode_id", "episode_kind", "started_on", "ended_on")

ALL = UNITS + EXPOSURES + OUTCOMES + (EVENT_TIME, EVENT) + COVARIATES + (DOSE,) + MEDIATORS + SUBGROUPS
BY_NAME = {column.name: column for column in ALL}


def label(name: str) -> str:
    """The translated label of a known column, or the name itself for a researcher's own column."""
    column = BY_NAME.get(name)
    return str(column.label) if column else name
