"""A full evaluation report from an analysis frame: what the web page, the PDF and the CSV show.

`build_report` works in two steps. First it computes every part from the frame (cohort counts,
funnels, effect estimates, dose-response, survival, mediation), keeping the raw results private.
Then `release` turns them into a `Report` of display-ready tables for one audience; it is the only
code that builds `Cell`s, so nothing reaches a page or a CSV without passing through it:

- audience "outside" (commissioners, service-wide or public): every count goes through
  `evaluation.suppression` (1..threshold shown as "*", others rounded, secondary suppression
  within each table), a rate goes with its counts, and an estimate computed on a group of
  threshold people or fewer (or, for a 0/1 outcome, with that few events or non-events in an
  arm) is "too few to show";
- audience "care_team": the raw numbers.

A part that cannot be estimated from these data (too few treated, a model that does not
converge) is reported as "not estimable" with its reason instead of failing the report.

The CSV (`report_csv`) holds every table of the report as long-format rows
``section, part, table, row, column, kind, value``: `kind` is count, rate, estimate or text;
withheld values are "*"; rows and columns are machine keys (unit names, covariate names, method
names), not translated labels, so files from different languages can be stacked.
"""

import csv
import dataclasses
import hashlib
import hmac
import io
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recoverybridge.accounts import access
from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation import reading
from recoverybridge.evaluation.dose import DoseResponse, dose_response
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.estimators import EffectEstimate, Overlap, compare_methods, propensity_weights
from recoverybridge.evaluation.forest import ForestRow, render_forest_svg
from recoverybridge.evaluation.funnel import (
    Funnel,
    funnel,
    funnel_from_counts,
    position_label,
    release_funnel,
    render_funnel_svg,
)
from recoverybridge.evaluation.mediation import MediationResult, mediate
from recoverybridge.evaluation.subgroups import (
    AGE_BAND,
    FAMA_LABELS,
    SHORT_LABELS,
    SUBGROUP_LABELS,
    SUBGROUPS,
    FamaDose,
    WhoBenefits,
    fama_dose,
    level_label,
    who_benefits,
)
from recoverybridge.evaluation.suppression import (
    SUPPRESSED,
    SuppressionRule,
    band,
    decimals_of,
    on_step,
    resolution,
    suppress_counts,
    suppress_table,
)
from recoverybridge.evaluation.survival import (
    Curve,
    HazardRatio,
    KaplanMeier,
    SurvivalAt,
    cox,
    kaplan_meier,
    render_km_svg,
)

logger = logging.getLogger(__name__)

OUTSIDE = "outside"
CARE_TEAM = "care_team"
AUDIENCES = (OUTSIDE, CARE_TEAM)

# What a cell holds, for the suppression scan and the CSV's `kind` column.
COUNT = "count"
RATE = "rate"
ESTIMATE = "estimate"
TEXT = "text"
BAND = "band"  # a count shown as a band (a second breakdown of the same people)

DEFAULT_TITLE = gettext_lazy("Evaluation report")
TOO_FEW = gettext_lazy("too few to show")
NOT_SHOWN = "\u2013"  # an en dash: nothing to show

T = TypeVar("T")


@dataclass(frozen=True)
class ReportSpec:
    """What to analyse: column names of the analysis frame (`evaluation.frame`)."""

    treatment: str = "peer_bridged"
    outcomes: tuple[str, ...] = ("mutual_aid_28d", "recovery_capital_change")
    covariates: tuple[str, ...] = tuple(column.name for column in columns.COVARIATES)
    estimand: str = "ate"
    trim: float | None = None
    # Common support ("crump", "treated"; None: the trim bound if any, else everyone) and the
    # propensity model (estimators.Options).
    support: str | None = None
    model: str = "logit"
    terms: str = "main"
    # Who benefits: subgroup effects for the first outcome, and the FAMA level as a dose.
    subgroups: tuple[str, ...] = SUBGROUPS
    fama: bool = True
    funnel_indicators: tuple[str, ...] = ("referred_mutual_aid", "referred_rehab")
    funnel_units: tuple[str, ...] = ("worker", "team", "service", "area")
    dose: str | None = "meetings_per_week"
    dose_outcome: str = "days_used_6m"
    mediator: str | None = "supportive_network_3m"
    mediation_outcome: str = "recovery_capital_change"
    survival: bool = True

    @property
    def propensity_choices(self) -> dict[str, Any]:
        return {"support": self.support, "model": self.model, "terms": self.terms}

    def validate(self, frame: pd.DataFrame) -> None:
        """EvaluationError naming the field when a column is missing or an option is out of range."""
        available = set(frame.columns)

        def need(field_name: str, names: Sequence[str]) -> None:
            if isinstance(names, str):
                raise EvaluationError(
                    f"ReportSpec.{field_name} must be a tuple of column names, not one string"
                )
            for name in names:
                if name not in available:
                    raise EvaluationError(f"ReportSpec.{field_name}: no column {name!r} in the data")

        need("treatment", [self.treatment])
        need("outcomes", self.outcomes)
        need("covariates", self.covariates)
        need("funnel_indicators", self.funnel_indicators)
        need("funnel_units", self.funnel_units)
        if self.treatment in self.outcomes or self.treatment in self.covariates:
            raise EvaluationError(f"ReportSpec.treatment {self.treatment!r} is also an outcome or covariate")
        if self.estimand not in ("ate", "att"):
            raise EvaluationError(f"ReportSpec.estimand {self.estimand!r}: use 'ate' or 'att'")
        if self.trim is not None and not 0 < self.trim < 0.5:
            raise EvaluationError(f"ReportSpec.trim {self.trim!r}: use a propensity bound between 0 and 0.5")
        if self.dose is not None:
            need("dose", [self.dose])
            need("dose_outcome", [self.dose_outcome])
        if self.mediator is not None:
            need("mediator", [self.mediator])
            need("mediation_outcome", [self.mediation_outcome])
        if self.survival:
            need("survival", [columns.EVENT_TIME.name, columns.EVENT.name])


# --- What a report holds: display-ready values only ------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value as released: `text` for the page, `value` for the CSV ("*" when withheld)."""

    text: str
    value: int | float | str | None
    kind: str

    @property
    def withheld(self) -> bool:
        return self.value == SUPPRESSED


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: tuple[Cell, ...]
    anchor: str = ""  # the row's id on the page, where a chart's point leads


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str = ""
    # Technical tables (balance, overlap, model diagnostics) sit in the part's details block.
    technical: bool = False


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: SafeString


@dataclass(frozen=True)
class Part:
    """One analysis: its charts, tables and reading, or why it could not be estimated."""

    key: str
    title: str
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    reading: tuple[str, ...] = ()
    not_estimable: str = ""
    # Sentences for the details block: how the figures were made, in the statisticians' terms.
    technical: tuple[str, ...] = ()

    @property
    def main_tables(self) -> tuple[Table, ...]:
        return tuple(table for table in self.tables if not table.technical)

    @property
    def technical_tables(self) -> tuple[Table, ...]:
        return tuple(table for table in self.tables if table.technical)

    @property
    def estimable(self) -> bool:
        return not self.not_estimable

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


@dataclass(frozen=True)
class Section:
    key: str  # cohort | funnels | effects | dose | survival | mediation
    title: str
    parts: tuple[Part, ...]

    def part(self, key: str) -> Part:
        return next(part for part in self.parts if part.key == key)


@dataclass(frozen=True)
class Report:
    title: str
    audience: str
    cohort_description: str
    spec: ReportSpec
    sections: tuple[Section, ...]
    notes: tuple[str, ...]  # how the numbers were released (suppression rule), for the page footer
    threshold: int | None  # the suppression rule, None for the care team
    rounding: int | None

    @property
    def suppressed(self) -> bool:
        return self.audience == OUTSIDE

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def cells(self) -> list[tuple[Section, Part, Table, Row, Column, Cell]]:
        """Every released value with where it sits (the CSV and the suppression tests read this)."""
        found = []
        for section in self.sections:
            for part in section.parts:
                for table in part.tables:
                    for row in table.rows:
                        for column, cell in zip(table.columns, row.cells, strict=True):
                            found.append((section, part, table, row, column, cell))
        return found


# --- Computing the parts (raw; never leaves this module) -------------------------------------


@dataclass(frozen=True)
class _NotEstimable:
    detail: str  # the analysis module's message: for the care team only (it may quote counts)
    reason: str = ""  # a translated reason safe for any audience; generic when empty


# Errors that mean "these data cannot support this analysis", as opposed to a bug.
_DATA_ERRORS: tuple[type[BaseException], ...] = (ValueError, ArithmeticError, np.linalg.LinAlgError)


class _Attempts:
    """Runs each part, turning data errors into _NotEstimable and timing it (for the benchmark)."""

    def __init__(
        self,
        timings: dict[str, float] | None,
        progress: Callable[[int, int, str], None] | None = None,
        total: int = 0,
    ) -> None:
        self.timings = timings if timings is not None else {}
        self.progress = progress
        self.total = total
        self.done = 0

    def step(self, what: str) -> None:
        """One more part done: tell the progress callback (a background build's page)."""
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, what)

    def __call__(
        self, what: str, compute: Callable[..., T], *args: Any, **kwargs: Any
    ) -> "T | _NotEstimable":
        started = time.perf_counter()
        try:
            return compute(*args, **kwargs)
        except _DATA_ERRORS as error:
            # The type only: messages can quote counts, and logs leave the care team.
            logger.info("evaluation report: %s not estimable (%s)", what, type(error).__name__)
            return _NotEstimable(detail=str(error))
        finally:
            self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - started
            self.step(what)


@dataclass
class _Computed:
    spec: ReportSpec
    n_episodes: int
    n_without_consent: int
    by_kind: pd.DataFrame | None
    by_area: pd.DataFrame | None
    funnels: list[tuple[str, str, "Funnel | _NotEstimable"]] = field(default_factory=list)
    effects: list[tuple[str, "list[EffectEstimate] | _NotEstimable"]] = field(default_factory=list)
    # Per outcome, per 0/1 covariate or category level: episodes with and without it in each
    # arm. A standardised difference on a level 1-7 people have narrows their count down.
    level_counts: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    # Outcomes holding whole numbers only (scores, days): a mean moves by 1/n per person.
    whole_numbers: dict[str, bool] = field(default_factory=dict)
    # Survival: the curves by treatment, the raw at-risk numbers and events behind them, and the
    # weighted (inverse probability) and covariate-adjusted Cox hazard ratios.
    dose: "DoseResponse | _NotEstimable | None" = None
    mediation: "MediationResult | _NotEstimable | None" = None
    # Treated and untreated episodes among the mediation's complete rows.
    mediation_groups: tuple[int, int] = (0, 0)
    km: "KaplanMeier | _NotEstimable | None" = None
    at_risk: dict[str, "_AtRisk"] = field(default_factory=dict)
    hazard_ratios: list["HazardRatio | _NotEstimable"] = field(default_factory=list)
    # Every worker of the cohort (labels), for their pseudonyms.
    workers: tuple[str, ...] = ()
    benefits: "WhoBenefits | _NotEstimable | None" = None
    fama: "FamaDose | _NotEstimable | None" = None


@dataclass(frozen=True)
class _AtRisk:
    """One survival group's durations (sorted) and event days (sorted), to count at risk and events."""

    durations: np.ndarray
    event_days: np.ndarray

    def at_risk(self, days: np.ndarray) -> np.ndarray:
        return len(self.durations) - np.searchsorted(self.durations, days, side="left")

    def events_by(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.event_days, days, side="right")


def _treated_codes(frame: pd.DataFrame, treatment: str) -> np.ndarray:
    values = frame[treatment].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), 2, values == 1).astype(np.int8)


def _by_treatment(frame: pd.DataFrame, by: str, codes: np.ndarray) -> pd.DataFrame:
    """Episodes by `by` (rows) and treated / untreated / not recorded (columns), in one groupby."""
    counts = (
        pd.DataFrame({"by": frame[by], "treated": codes})
        .groupby(["by", "treated"], observed=False, sort=True)
        .size()
        .unstack("treated", fill_value=0)
        .reindex(columns=[1, 0, 2], fill_value=0)
    )
    if counts[2].sum() == 0:
        counts = counts.drop(columns=2)
    return counts.astype(np.int64)


def _comparable(result: "Funnel | _NotEstimable", unit: str) -> "Funnel | _NotEstimable":
    """A funnel of one unit compares nothing: say so instead of drawing a lone point."""
    if isinstance(result, _NotEstimable) or len(result.units) >= 2:
        return result
    reason = _("there is only one %(unit)s in this cohort, so there is nothing to compare it with") % {
        "unit": columns.label(unit).lower()
    }
    return _NotEstimable(detail=reason, reason=reason)


def _level_counts(frame: pd.DataFrame, spec: ReportSpec, outcome: str) -> dict[str, tuple[int, ...]]:
    """Episodes with and without each 0/1 covariate or category level, by arm, in complete rows."""
    used = [spec.treatment, outcome, *spec.covariates]
    if any(name not in frame.columns for name in used):
        return {}
    complete = frame[used].dropna()
    treated = complete[spec.treatment].to_numpy(dtype=float) == 1
    counts: dict[str, tuple[int, ...]] = {}
    for name in spec.covariates:
        values = complete[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if not values.isin((0, 1)).all():
                continue  # a measurement, not a level
            levels = {name: values.to_numpy(dtype=float) == 1}
        else:
            levels = {f"{name}={level}": (values == level).to_numpy() for level in pd.unique(values)}
        for label, has in levels.items():
            counts[label] = tuple(
                int(n)
                for n in (
                    (has & treated).sum(),
                    (~has & treated).sum(),
                    (has & ~treated).sum(),
                    (~has & ~treated).sum(),
                )
            )
    return counts


def _compute(frame: pd.DataFrame, spec: ReportSpec, n_without_consent: int, attempt: _Attempts) -> _Computed:
    codes = _treated_codes(frame, spec.treatment)
    computed = _Computed(
        spec=spec,
        n_episodes=len(frame),
        n_without_consent=n_without_consent,
        by_kind=_by_treatment(frame, "episode_kind", codes) if "episode_kind" in frame.columns else None,
        by_area=_by_treatment(frame, "area", codes) if "area" in frame.columns else None,
    )
    if "worker" in frame.columns:
        computed.workers = tuple(str(w) for w in pd.unique(frame["worker"].dropna()))
    for indicator in spec.funnel_indicators:
        for unit in spec.funnel_units:
            result = attempt(f"funnel {indicator} by {unit}", funnel, frame, unit, indicator)
            computed.funnels.append((indicator, unit, _comparable(result, unit)))
    for outcome in spec.outcomes:
        computed.level_counts[outcome] = _level_counts(frame, spec, outcome)
        values = pd.to_numeric(frame[outcome], errors="coerce").dropna().to_numpy(dtype=float)
        computed.whole_numbers[outcome] = bool(len(values) and np.all(values == np.round(values)))
        computed.effects.append(
            (
                outcome,
                attempt(
                    f"effect on {outcome}",
                    compare_methods,
                    frame,
                    spec.treatment,
                    outcome,
                    list(spec.covariates),
                    spec.estimand,
                    spec.trim,
                    **spec.propensity_choices,
                ),
            )
        )
    if spec.dose is not None:
        # The treatment raises attendance and changes the outcome, so the dose is adjusted for it too.
        adjusters = (spec.treatment, *(c for c in spec.covariates if c != spec.dose))
        computed.dose = attempt(
            "dose-response", dose_response, frame, spec.dose, spec.dose_outcome, adjusters
        )
    if spec.mediator is not None:
        named = [spec.treatment, spec.mediator, spec.mediation_outcome, *spec.covariates]
        complete = frame[named].notna().all(axis=1).to_numpy()
        treated = int((frame[spec.treatment].to_numpy(dtype=float, na_value=np.nan)[complete] == 1).sum())
        computed.mediation_groups = (treated, int(complete.sum()) - treated)
        computed.mediation = attempt(
            "mediation",
            mediate,
            frame,
            spec.treatment,
            spec.mediator,
            spec.mediation_outcome,
            tuple(c for c in spec.covariates if c not in (spec.mediator, spec.mediation_outcome)),
        )
    if spec.survival:
        _compute_survival(frame, spec, computed, attempt)
    if spec.subgroups and spec.outcomes:
        usable = tuple(name for name in spec.subgroups if name == AGE_BAND or name in frame.columns)
        computed.benefits = attempt(
            "who benefits",
            who_benefits,
            frame,
            spec.treatment,
            spec.outcomes[0],
            list(spec.covariates),
            spec.estimand,
            usable,
            **spec.propensity_choices,
        )
    if spec.fama and spec.outcomes and "fama_level" in frame.columns:
        computed.fama = attempt("FAMA level", fama_dose, frame, spec.outcomes[0], list(spec.covariates))
    return computed


def _compute_survival(frame: pd.DataFrame, spec: ReportSpec, computed: _Computed, attempt: _Attempts) -> None:
    duration, event = columns.EVENT_TIME.name, columns.EVENT.name
    computed.km = attempt("Kaplan-Meier", kaplan_meier, frame, duration, event, spec.treatment)
    if isinstance(computed.km, KaplanMeier):
        days = pd.to_numeric(frame[duration], errors="coerce").to_numpy(dtype=float)
        happened = pd.to_numeric(frame[event], errors="coerce").to_numpy(dtype=float)
        treated = frame[spec.treatment].to_numpy(dtype=float, na_value=np.nan)
        complete = ~np.isnan(days) & ~np.isnan(happened) & ~np.isnan(treated)
        for group in computed.km.groups:
            members = complete & (treated == float(group.value))
            computed.at_risk[group.value] = _AtRisk(
                durations=np.sort(days[members]), event_days=np.sort(days[members & (happened == 1)])
            )
    weights = attempt(
        "propensity weights",
        propensity_weights,
        frame,
        spec.treatment,
        list(spec.covariates),
        spec.estimand,
        spec.trim,
        **spec.propensity_choices,
    )
    if isinstance(weights, _NotEstimable):
        computed.hazard_ratios.append(weights)
    else:
        computed.hazard_ratios.append(
            attempt("weighted Cox", cox, frame, spec.treatment, (), duration, event, weights)
        )
    computed.hazard_ratios.append(
        attempt("adjusted Cox", cox, frame, spec.treatment, tuple(spec.covariates), duration, event)
    )


# --- Release: the one step between raw results and anything shown ----------------------------


class _Releaser:
    """Makes every Cell of a report, applying the audience's rule."""

    def __init__(
        self, audience: str, rule: SuppressionRule | None, pseudonyms: dict[str, str] | None = None
    ) -> None:
        self.outside = audience == OUTSIDE
        self.rule = rule
        self.pseudonyms = pseudonyms or {}

    def unit_label(self, unit: str, name: Any) -> str:
        """A unit's name as shown: workers by a pseudonym outside a care team unless names may be
        shown (accounts.access.outside_sees_worker_names)."""
        if unit == "worker" and self.pseudonyms:
            return self.pseudonyms.get(str(name), str(name))
        return str(name)

    # Counts ------------------------------------------------------------------------------
    def count_cell(self, released: Any) -> Cell:
        if released == SUPPRESSED:
            return Cell(SUPPRESSED, SUPPRESSED, COUNT)
        value = int(released)
        return Cell(reading.count(value), value, COUNT)

    def single_count(self, value: int) -> Cell:
        """A count on its own (no line it adds up in): primary suppression and rounding only."""
        if not self.outside:
            return self.count_cell(value)
        return self.count_cell(suppress_counts([value], total=False, rule=self.rule).iloc[0])

    def band_cell(self, value: int) -> Cell:
        """A count of a second breakdown of the same people: exact for the care team; outside, a
        band ("50-99"), "*" or 0 (suppression.band). Its value for the CSV is the band's text."""
        if not self.outside or self.rule is None:
            return self.count_cell(value)
        found = band(int(value), self.rule)
        if found == SUPPRESSED:
            return Cell(SUPPRESSED, SUPPRESSED, COUNT)
        if isinstance(found, str):
            return Cell(found, 0, COUNT)
        low, high = found
        text = (
            f"{reading.count(low)}\u2013{reading.count(high)}"
            if high
            else _("%(low)s or more") % {"low": reading.count(low)}
        )
        return Cell(text, text, BAND)

    def band_step(self, *counts: int, unit: float = 1.0) -> float | None:
        """The step for a figure on groups released as bands: from the smallest lower end."""
        if not self.outside or self.rule is None:
            return None
        lows = []
        for count in counts:
            found = band(int(count), self.rule)
            if isinstance(found, str):
                return None  # "*" or 0: the figure is withheld anyway
            lows.append(found[0])
        return resolution(min(lows) + self.rule.rounding // 2, unit, self.rule)

    def line_counts(self, values: Sequence[int]) -> list[Cell]:
        """Counts that add up to a total, and the total last."""
        if not self.outside:
            return [self.count_cell(v) for v in [*values, sum(values)]]
        return [self.count_cell(v) for v in suppress_counts(list(values), total=True, rule=self.rule)]

    def crosstab(self, counts: pd.DataFrame, total_label: str) -> pd.DataFrame:
        """A table of counts with a total row and column, as released (ints and "*")."""
        if self.outside:
            return suppress_table(counts, margins=True, rule=self.rule, total_label=total_label)
        table = counts.copy()
        table[total_label] = table.sum(axis=1)
        table.loc[total_label] = table.sum(axis=0)
        return table.astype(object)

    def small(self, *groups: float) -> bool:
        """Whether an estimate on groups of these sizes must be withheld from this audience."""
        if not self.outside or self.rule is None:
            return False
        return any(0 < g <= self.rule.threshold for g in groups)

    # Estimates ---------------------------------------------------------------------------
    def estimate_cell(
        self, value: float | None, decimals: int = 2, *, withheld: bool = False, step: float | None = None
    ) -> Cell:
        """An estimate as shown: outside a care team on `step` (see `step`) when given, else to
        `decimals`, the CSV holding exactly the value the page shows."""
        if withheld:
            return Cell(str(TOO_FEW), SUPPRESSED, ESTIMATE)
        if value is None or not math.isfinite(value):
            return Cell(NOT_SHOWN, None, ESTIMATE)
        if not self.outside:
            return Cell(reading.number(value, decimals), round(float(value), max(decimals, 4)), ESTIMATE)
        if step is not None:
            shown = on_step(float(value), step)
            return Cell(reading.number(shown, decimals_of(step)), shown, ESTIMATE)
        shown = round(float(value), decimals)
        return Cell(reading.number(shown, decimals), shown, ESTIMATE)

    def step(self, *released: Any, unit: float = 1.0, finest: float = 0.0001) -> float | None:
        """The finest step for a figure resting on groups released as these counts (outside only):
        one person more or fewer must not show (suppression.resolution)."""
        if not self.outside or self.rule is None:
            return None
        sizes = [int(n) for n in released if n != SUPPRESSED and n is not None]
        if not sizes:
            return None
        return resolution(max(min(sizes), 1), unit, self.rule, finest)

    def p_cell(self, value: float | None, *, withheld: bool = False) -> Cell:
        """A p-value: to 4 places for the care team; outside to 2, and "< 0.01" below that."""
        if withheld or value is None or not math.isfinite(value) or not self.outside:
            return self.estimate_cell(value, 4, withheld=withheld)
        if value < 0.01:
            return Cell("< " + reading.number(0.01, 2), "<0.01", ESTIMATE)
        return self.estimate_cell(value, 2)

    def rate_cell(self, released_percent: Any) -> Cell:
        if released_percent == SUPPRESSED:
            return Cell(SUPPRESSED, SUPPRESSED, RATE)
        if released_percent is None:
            return Cell(NOT_SHOWN, None, RATE)
        return Cell(reading.number(float(released_percent), 1), float(released_percent), RATE)

    @staticmethod
    def text_cell(text: str, value: Any = None) -> Cell:
        return Cell(text, text if value is None else value, TEXT)

    def not_estimable(self, failure: _NotEstimable) -> str:
        reason = failure.reason or (failure.detail if not self.outside else "")
        if not reason:
            reason = _(
                "these data cannot support this analysis (too few people or events, or the model did not fit)"
            )
        return _("Not estimable: %(reason)s") % {"reason": reason}


def _label(name: str) -> str:
    """A column's label; a one-hot level `name=value` keeps its value."""
    if "=" in name:
        base, level = name.split("=", 1)
        return f"{columns.label(base)}: {level}"
    return columns.label(name)


def _episode_kind_label(kind: Any) -> str:
    from recoverybridge.care.models import EpisodeKind

    labels = {value: str(text) for value, text in EpisodeKind.choices}
    return labels.get(kind, str(kind))


def _treatment_headings(treatment: str) -> dict[int, tuple[str, str]]:
    """Column key and heading of the treated (1), untreated (0) and not recorded (2) columns."""
    return {
        1: ("treated", _("With: %(treatment)s") % {"treatment": columns.label(treatment)}),
        0: ("untreated", _("Without")),
        2: ("not_recorded", _("Not recorded")),
    }


def _crosstab_table(
    rel: _Releaser,
    key: str,
    title: str,
    counts: pd.DataFrame,
    row_label: Callable[[Any], str],
    headings: dict[int, tuple[str, str]],
) -> Table:
    total = _("Total")
    released = rel.crosstab(counts, total)
    column_keys = [headings[c][0] for c in counts.columns] + ["total"]
    column_labels = [headings[c][1] for c in counts.columns] + [total]
    rows = []
    for position, (index, values) in enumerate(released.iterrows()):
        last = position == len(released) - 1
        rows.append(
            Row(
                key="total" if last else str(index),
                label=total if last else row_label(index),
                cells=tuple(rel.count_cell(v) for v in values),
            )
        )
    return Table(
        key=key,
        title=title,
        columns=tuple(Column(k, lbl) for k, lbl in zip(column_keys, column_labels, strict=True)),
        rows=tuple(rows),
    )


def _cohort_section(rel: _Releaser, computed: _Computed) -> Section:
    headings = _treatment_headings(computed.spec.treatment)
    tables = []
    summary_rows = [
        Row("episodes", _("Episodes analysed"), (rel.single_count(computed.n_episodes),)),
        Row(
            "without_consent",
            _("Left out: consent does not cover evaluation"),
            (rel.single_count(computed.n_without_consent),),
        ),
    ]
    tables.append(Table("summary", _("Cohort"), (Column("episodes", _("Episodes")),), tuple(summary_rows)))
    for key, counts, title, row_label in (
        ("by_kind", computed.by_kind, _("Episodes by kind"), _episode_kind_label),
        ("by_area", computed.by_area, _("Episodes by area"), str),
    ):
        if counts is not None:
            tables.append(_crosstab_table(rel, key, title, counts, row_label, headings))
    return Section("cohort", _("Who is in the cohort"), (Part("cohort", _("Cohort"), tables=tuple(tables)),))


# Funnels -------------------------------------------------------------------------------------


def _funnel_part(rel: _Releaser, indicator: str, unit: str, result: "Funnel | _NotEstimable") -> Part:
    key = f"{indicator}.{unit}"
    title = _("%(indicator)s by %(unit)s") % {
        "indicator": columns.label(indicator),
        "unit": columns.label(unit).lower(),
    }
    if isinstance(result, _NotEstimable):
        return Part(key, title, not_estimable=rel.not_estimable(result))
    labels = [rel.unit_label(unit, name) for name in result.units["unit"]]
    if rel.outside:
        released = release_funnel(result, rel.rule)
        table = released.table
        hidden = set(released.hidden_units)
        shown = np.array([name not in hidden for name in result.units["unit"]], dtype=bool)
        n_values, event_values, percents = table["n"], table["events"], table["percent"]
        # Everything the chart and the summary show comes from the released counts of the shown
        # units: the overall rate, the limits, phi and tau², each unit's place against the limits.
        drawn: Funnel | None = None
        if shown.any():
            drawn = funnel_from_counts(
                [labels[i] for i in np.flatnonzero(shown)],
                [int(v) for v in n_values.iloc[:-1][shown]],
                [int(v) for v in event_values.iloc[:-1][shown]],
            )
        place = dict(zip(drawn.units["unit"], drawn.units["position"], strict=True)) if drawn else {}
        flagged = dict(zip(drawn.units["unit"], drawn.units["outlier"], strict=True)) if drawn else {}
        positions = [place.get(label, SUPPRESSED) for label in labels]
        outliers = [flagged.get(label, SUPPRESSED) for label in labels]
        summary_of = drawn
    else:
        n_values = pd.Series([*result.units["n"].tolist(), result.total_n])
        event_values = pd.Series([*result.units["events"].tolist(), result.total_events])
        percents = pd.Series([*(100 * result.units["rate"]).round(1).tolist(), round(100 * result.p0, 1)])
        positions, outliers = result.units["position"].tolist(), result.units["outlier"].tolist()
        drawn = dataclasses.replace(result, units=result.units.assign(unit=labels))
        summary_of = result
    table_columns = (
        Column("n", _("Episodes")),
        Column("events", _("Referred")),
        Column("percent", _("Rate (%)")),
        Column("position", _("Against the limits")),
        Column("outlier", _("Outlier")),
    )
    yes, no = _("yes"), _("no")
    rows = []
    anchors: dict[Any, str] = {}
    for i, label in enumerate([*labels, _("Total")]):
        last = i == len(labels)
        position = None if last else positions[i]
        outlier = None if last else outliers[i]
        anchor = "" if last else f"funnel-{slugify(key)}-{i + 1}"
        if anchor:
            anchors[label] = anchor
        rows.append(
            Row(
                key="total" if last else label,
                label=label,
                cells=(
                    rel.count_cell(n_values.iloc[i]),
                    rel.count_cell(event_values.iloc[i]),
                    rel.rate_cell(percents.iloc[i]),
                    Cell("", None, TEXT)
                    if position is None
                    else Cell(SUPPRESSED, SUPPRESSED, TEXT)
                    if position == SUPPRESSED
                    else rel.text_cell(position_label(position), position),
                    Cell("", None, TEXT)
                    if outlier is None
                    else Cell(SUPPRESSED, SUPPRESSED, TEXT)
                    if outlier == SUPPRESSED
                    else rel.text_cell(yes if outlier else no, bool(outlier)),
                ),
                anchor=anchor,
            )
        )
    unit_rows = tuple(rows)
    outlier_rows = tuple(
        dataclasses.replace(row, anchor="") for row in unit_rows[:-1] if row.cells[4].value is True
    )
    summary_rows = [
        Row(
            "dropped",
            _("Episodes left out (not applicable or unit unknown)"),
            (rel.single_count(result.dropped),),
        )
    ]
    if summary_of is not None:
        summary_rows[:0] = [
            Row("phi", _("Over-dispersion factor (phi)"), (rel.estimate_cell(summary_of.phi, 2),)),
            Row("tau2", _("Between-unit variance (tau²)"), (rel.estimate_cell(summary_of.tau2, 5),)),
            Row(
                "limits",
                _("Limits in use"),
                (
                    rel.text_cell(
                        _("widened for over-dispersion") if summary_of.overdispersed else _("exact binomial"),
                        summary_of.limits_in_use,
                    ),
                ),
            ),
        ]
    summary = Table(
        "summary",
        _("Over-dispersion"),
        (Column("value", _("Value")),),
        tuple(summary_rows),
        note=_("Outside the care team, from the shown units' released counts only.") if rel.outside else "",
        technical=True,
    )
    desc = _(
        "Rate of %(indicator)s for each %(unit)s against the number of episodes, with 95%% and 99.8%% "
        "limits around the overall rate; units outside the 99.8%% limits are named. The table below "
        "gives the numbers."
    ) % {"indicator": columns.label(indicator).lower(), "unit": columns.label(unit).lower()}
    if rel.outside and len(hidden):
        desc += " " + _("Units with too few episodes to show are not drawn.")
    charts: tuple[Chart, ...] = ()
    if drawn is not None and len(drawn.units):
        svg = render_funnel_svg(drawn, title, desc, chart_id=f"funnel-{indicator}-{unit}", row_ids=anchors)
        charts = (Chart("funnel", title, svg),)
    return Part(
        key,
        title,
        tables=(
            Table("units", _("Rates by unit"), table_columns, unit_rows),
            # xgettext:no-python-format
            Table("outliers", _("Outliers (outside the 99.8% limits)"), table_columns, outlier_rows),
            summary,
        ),
        charts=charts,
    )


def _funnel_section(rel: _Releaser, computed: _Computed) -> Section:
    parts = tuple(_funnel_part(rel, indicator, unit, result) for indicator, unit, result in computed.funnels)
    return Section("funnels", _("Referral rates: which differences are real"), parts)


# Effects -------------------------------------------------------------------------------------

_METHOD_LABELS = {
    "naive": gettext_lazy("Simple comparison (no adjustment)"),
    "ipw": gettext_lazy("Weighted so the groups are alike"),
    "aipw": gettext_lazy("Weighted and modelled (main estimate)"),
    "matching": gettext_lazy("Matched with similar people"),
    "subclassification": gettext_lazy("Compared within bands of similar people"),
}
# The statisticians' names, for the details block and the glossary.
_METHOD_TERMS = {
    "naive": gettext_lazy("difference in means"),
    "ipw": gettext_lazy("inverse probability weighting (IPW, Hájek)"),
    "aipw": gettext_lazy("doubly robust estimation (augmented IPW)"),
    "matching": gettext_lazy("nearest-neighbour propensity matching with a caliper, Abadie-Imbens errors"),
    "subclassification": gettext_lazy("subclassification on the propensity score"),
}
HEADLINE = "aipw"


def _binary_cells(estimate: EffectEstimate) -> tuple[float, ...]:
    """For a 0/1 outcome, events and non-events in each arm (the naive means are exact shares)."""
    if estimate.scale != "risk difference":
        return ()
    treated_events = round(estimate.mean_treated * estimate.n_treated)
    control_events = round(estimate.mean_control * estimate.n_control)
    return (
        treated_events,
        estimate.n_treated - treated_events,
        control_events,
        estimate.n_control - control_events,
    )


@dataclass(frozen=True)
class _Scale:
    """How an outcome's differences are shown: percentage points for a 0/1 outcome, else its units."""

    factor: float  # 100 for percentage points
    decimals: int  # for the care team
    unit: float | None  # one person's effect on a mean, in the outcome's units (None: no limit)


def _scale(risk: bool, whole_numbers: bool) -> _Scale:
    if risk:
        return _Scale(100.0, 1, 1.0)
    return _Scale(1.0, 2, 1.0 if whole_numbers else None)


def _scaled(rel: _Releaser, scale: _Scale, released: Sequence[Any]) -> float | None:
    """The step, in displayed units, for figures resting on groups released as `released`."""
    if scale.unit is None:
        return None
    step = rel.step(*released, unit=scale.unit)
    return None if step is None else step * scale.factor


def _effect_part(
    rel: _Releaser,
    spec: ReportSpec,
    outcome: str,
    result: "list[EffectEstimate] | _NotEstimable",
    level_counts: dict[str, tuple[int, ...]],
    whole_numbers: bool,
) -> Part:
    title = columns.label(outcome)
    if isinstance(result, _NotEstimable):
        return Part(outcome, title, not_estimable=rel.not_estimable(result))
    by_method = {estimate.method: estimate for estimate in result}
    naive = by_method["naive"]
    adjusted = by_method.get(HEADLINE) or by_method["ipw"]
    # Whether the groups are too small to show estimates outside: the same cells for every method.
    withheld = rel.small(naive.n_treated, naive.n_control, *_binary_cells(naive))
    risk = naive.scale == "risk difference"
    scale = _scale(risk, whole_numbers)
    unit_label = _("percentage points") if risk else _("points")

    estimate_columns = (
        Column("estimate", _("Difference (%(unit)s)") % {"unit": unit_label}),
        Column("ci_low", _("95% CI low")),
        Column("ci_high", _("95% CI high")),
        Column("mean_treated", _("With (%)") if risk else _("Mean with")),
        Column("mean_control", _("Without (%)") if risk else _("Mean without")),
        Column("n_treated", _("Episodes with")),
        Column("n_control", _("Episodes without")),
        Column("n_total", _("Episodes")),
        Column("n_dropped", _("Left out (missing values)")),
    )
    rows = []
    shown: dict[str, dict[str, Any]] = {}
    for estimate in result:
        group_withheld = withheld or rel.small(estimate.n_treated, estimate.n_control)
        counts = rel.line_counts([estimate.n_treated, estimate.n_control])
        step = _scaled(rel, scale, [counts[0].value, counts[1].value])
        cells = [
            rel.estimate_cell(scale.factor * value, scale.decimals, withheld=group_withheld, step=step)
            for value in (
                estimate.estimate,
                estimate.ci_low,
                estimate.ci_high,
                estimate.mean_treated,
                estimate.mean_control,
            )
        ]
        cells += counts
        cells.append(rel.single_count(estimate.n_dropped))
        shown[estimate.method] = {"cells": cells, "withheld": group_withheld}
        rows.append(
            Row(estimate.method, str(_METHOD_LABELS.get(estimate.method, estimate.method)), tuple(cells))
        )
    tables = [Table("estimates", _("Estimates side by side"), estimate_columns, tuple(rows))]
    tables.append(_diagnostics_table(rel, result, withheld))
    tables.append(_balance_table(rel, result, level_counts, withheld))
    overlap = adjusted.overlap
    if overlap is not None:
        tables.extend(_overlap_tables(rel, spec.treatment, overlap, withheld))

    technical = [
        _("Methods: %(methods)s.")
        % {"methods": "; ".join(f"{_METHOD_LABELS[m.method]}: {_METHOD_TERMS[m.method]}" for m in result)}
    ]
    if adjusted.model_reason:
        technical.append(_("Propensity model: %(reason)s.") % {"reason": adjusted.model_reason})
    if withheld:
        paragraphs = reading.too_few_reading(title)
    else:
        facts = _facts(rel, spec, title, result, shown, tables)
        paragraphs = reading.effect_reading(facts)
        technical += reading.effect_details(facts)
    return Part(outcome, title, tables=tuple(tables), reading=paragraphs, technical=tuple(technical))


def _facts(
    rel: _Releaser,
    spec: ReportSpec,
    title: str,
    result: list[EffectEstimate],
    shown: dict[str, dict[str, Any]],
    tables: list[Table],
) -> reading.EffectFacts:
    """What the reading quotes: only values the tables show (as released), never a withheld row."""

    def value(method: str, index: int) -> float | None:
        cell = shown[method]["cells"][index]
        return cell.value if isinstance(cell.value, float) else None

    by_method = {estimate.method: estimate for estimate in result}
    adjusted = by_method.get(HEADLINE) or by_method["ipw"]
    factor = 100.0 if adjusted.scale == "risk difference" else 1.0
    balance = next(table for table in tables if table.key == "balance")
    after = [
        abs(cell.value)
        for row in balance.rows
        for cell in row.cells[1:]
        if isinstance(cell.value, float) and not cell.withheld
    ]
    others = {
        str(_METHOD_LABELS[m]): (value(m, 0), value(m, 1), value(m, 2))
        for m in ("ipw", "matching", "subclassification")
        if m in shown and not shown[m]["withheld"] and m != adjusted.method
    }
    overlap = adjusted.overlap
    effective = adjusted.effective_control
    return reading.EffectFacts(
        treatment=columns.label(spec.treatment),
        outcome=title,
        scale=adjusted.scale,
        estimand=adjusted.estimand,
        estimate=(value(adjusted.method, 0) or 0.0) / factor,
        ci_low=(value(adjusted.method, 1) or 0.0) / factor,
        ci_high=(value(adjusted.method, 2) or 0.0) / factor,
        naive=_per(value("naive", 0), factor),
        e_value=_released_e_value(rel, adjusted.e_value),
        e_value_ci=_released_e_value(rel, adjusted.e_value_ci),
        overlap_limited=bool(overlap and overlap.limited),
        trimmed=rel.single_count(overlap.trimmed).text if overlap and overlap.trim_bounds else None,
        trim=spec.trim,
        support=overlap.support if overlap else "all",
        largest_smd_after=max(after, default=None),
        confidence=adjusted.confidence,
        others={
            label: (_per(values[0], factor), _per(values[1], factor), _per(values[2], factor))
            for label, values in others.items()
        },
        effective_comparison=_count_value(rel.single_count(int(effective)))
        if effective is not None
        else None,
        decimals=_shown_decimals(shown[adjusted.method]["cells"][0]),
    )


def _shown_decimals(cell: Cell) -> int | None:
    """How many decimals a released estimate was shown with (the reading quotes it alike)."""
    if not isinstance(cell.value, float):
        return None
    text = cell.text.replace(",", ".").lstrip("+-")
    return len(text.split(".")[1]) if "." in text else 0


def _per(value: float | None, factor: float) -> float | None:
    return None if value is None else value / factor


def _count_value(cell: Cell) -> int | str | None:
    return cell.value if isinstance(cell.value, int | str) else None


def _released_e_value(rel: _Releaser, value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 1) if rel.outside else value


def _diagnostics_table(rel: _Releaser, result: list[EffectEstimate], withheld: bool) -> Table:
    """Standard errors, E-values, effective sizes and what matching and subclassification used."""
    columns_ = (
        Column("std_error", _("Standard error")),
        Column("e_value", _("E-value")),
        Column("e_value_ci", _("E-value of the CI")),
        Column("effective_control", _("Effective comparison episodes")),
        Column("unmatched_treated", _("Treated left unmatched")),
        Column("blocks", _("Bands (subclasses)")),
    )
    rows = []
    for estimate in result:
        risk = estimate.scale == "risk difference"
        factor = 100.0 if risk else 1.0
        rows.append(
            Row(
                estimate.method,
                str(_METHOD_TERMS.get(estimate.method, estimate.method)),
                (
                    rel.estimate_cell(factor * estimate.std_error, 2 if not risk else 1, withheld=withheld),
                    rel.estimate_cell(estimate.e_value, 2 if not rel.outside else 1, withheld=withheld),
                    rel.estimate_cell(estimate.e_value_ci, 2 if not rel.outside else 1, withheld=withheld),
                    rel.single_count(int(estimate.effective_control))
                    if estimate.effective_control is not None
                    else Cell("", None, TEXT),
                    rel.single_count(estimate.unmatched_treated)
                    if estimate.method == "matching"
                    else Cell("", None, TEXT),
                    rel.single_count(estimate.blocks) if estimate.blocks else Cell("", None, TEXT),
                ),
            )
        )
    return Table("diagnostics", _("How each estimate was made"), columns_, tuple(rows), technical=True)


def _balance_table(
    rel: _Releaser, result: list[EffectEstimate], level_counts: dict[str, tuple[int, ...]], withheld: bool
) -> Table:
    """Standardised differences before adjustment and after each method's weights."""
    by_method = {estimate.method: estimate for estimate in result}
    methods = [m for m in ("ipw", "matching", "subclassification") if m in by_method]
    first = by_method[methods[0]]
    counts = rel.line_counts([first.n_treated, first.n_control])
    step = rel.step(counts[0].value, counts[1].value, unit=4.0, finest=0.01)
    rows = []
    for index, b in enumerate(first.balance):
        # Outside, a level held by 1-7 episodes of an arm shows no difference: it would narrow
        # that count down.
        rare = withheld or rel.small(*level_counts.get(b.covariate, ()))
        cells = [rel.estimate_cell(b.smd_before, 3, withheld=rare, step=step)]
        cells += [
            rel.estimate_cell(by_method[m].balance[index].smd_after, 3, withheld=rare, step=step)
            for m in methods
        ]
        rows.append(Row(b.covariate, _label(b.covariate), tuple(cells)))
    labels = {
        "ipw": _("After weighting"),
        "matching": _("After matching"),
        "subclassification": _("Within bands"),
    }
    return Table(
        "balance",
        _("Balance: standardised mean differences"),
        (Column("smd_before", _("Before")), *(Column(f"smd_{m}", str(labels[m])) for m in methods)),
        tuple(rows),
        note=_("%(treated)s episodes with, %(control)s without; |SMD| below 0.1 counts as balanced.")
        % {"treated": counts[0].text, "control": counts[1].text},
        technical=True,
    )


def _overlap_tables(rel: _Releaser, treatment: str, overlap: Overlap, withheld: bool) -> list[Table]:
    lows: tuple[float, ...] = (overlap.ps_treated_min, overlap.ps_control_min)
    highs: tuple[float, ...] = (overlap.ps_treated_max, overlap.ps_control_max)
    decimals = 3
    notes = [_("Limited overlap: the estimate leans on few comparable people.")] if overlap.limited else []
    if rel.outside:
        # A lowest or highest score is one person's: outside, only the histogram bin it lies in.
        width = overlap.bin_edges[1] - overlap.bin_edges[0]
        lows = tuple(math.floor(v / width + 1e-9) * width for v in lows)
        highs = tuple(math.ceil(v / width - 1e-9) * width for v in highs)
        decimals = 2
        notes.append(_("Outside the care team, rounded outwards to the histogram's bins."))
    ranges = Table(
        "overlap",
        _("Overlap of propensity scores"),
        (Column("min", _("Lowest")), Column("max", _("Highest"))),
        tuple(
            Row(
                key,
                label,
                (
                    rel.estimate_cell(low, decimals, withheld=withheld),
                    rel.estimate_cell(high, decimals, withheld=withheld),
                ),
            )
            for key, label, low, high in (
                ("treated", _("Episodes with"), lows[0], highs[0]),
                ("control", _("Episodes without"), lows[1], highs[1]),
            )
        ),
        note=" ".join(notes),
        technical=True,
    )
    edges = overlap.bin_edges
    bins = pd.DataFrame(
        {1: overlap.treated_counts, 0: overlap.control_counts},
        index=[f"{edges[i]:.2f}\u2013{edges[i + 1]:.2f}" for i in range(len(edges) - 1)],
    )
    headings = _treatment_headings(treatment)
    histogram = Table(
        "overlap_histogram",
        _("Episodes by propensity score"),
        tuple(Column(headings[c][0], headings[c][1]) for c in bins.columns),
        tuple(
            Row(str(index), str(index), tuple(rel.band_cell(v) for v in values))
            for index, values in bins.iterrows()
        ),
        note=_("Outside the care team, in bands: another breakdown of the same episodes.")
        if rel.outside
        else "",
        technical=True,
    )
    support_rows = [
        Row("trimmed", _("Episodes left out by common support"), (rel.single_count(overlap.trimmed),))
    ]
    if overlap.trim_bounds:
        support_rows += [
            Row("dropped_treated", _("of them with"), (rel.single_count(overlap.dropped_treated),)),
            Row("dropped_control", _("of them without"), (rel.single_count(overlap.dropped_control),)),
        ]
    summary = Table(
        "trimming",
        _("Common support"),
        (Column("value", _("Value")),),
        tuple(support_rows),
        note=str(_SUPPORT_NOTES.get(overlap.support, "")),
        technical=True,
    )
    return [ranges, histogram, summary]


_SUPPORT_NOTES = {
    "all": gettext_lazy("Everyone was kept."),
    "crump": gettext_lazy("Crump et al.'s rule: propensity scores outside the optimal bounds were left out."),
    "treated": gettext_lazy(
        "The treated group's range: comparison episodes with a propensity outside it were left out."
    ),
    "fixed": gettext_lazy("Propensity scores outside the chosen bounds were left out."),
}


def _effects_section(rel: _Releaser, computed: _Computed) -> Section:
    parts = tuple(
        _effect_part(
            rel,
            computed.spec,
            outcome,
            result,
            computed.level_counts.get(outcome, {}),
            computed.whole_numbers.get(outcome, False),
        )
        for outcome, result in computed.effects
    )
    return Section("effects", _("Programme effect"), parts)


# Who benefits --------------------------------------------------------------------------------


def _benefits_section(rel: _Releaser, computed: _Computed) -> Section:
    spec = computed.spec
    outcome = spec.outcomes[0]
    section_title = _("Who benefits")
    parts = []
    result = computed.benefits
    title = _("Effect on “%(outcome)s” by group") % {"outcome": columns.label(outcome)}
    if isinstance(result, _NotEstimable):
        parts.append(Part("subgroups", title, not_estimable=rel.not_estimable(result)))
    elif result is not None:
        parts.append(_subgroup_part(rel, computed, result, title))
    if isinstance(computed.fama, _NotEstimable):
        parts.append(
            Part(
                "fama",
                _("Support to reach mutual aid (FAMA level)"),
                not_estimable=rel.not_estimable(computed.fama),
            )
        )
    elif computed.fama is not None:
        parts.append(_fama_part(rel, computed, computed.fama))
    return Section("benefits", section_title, tuple(parts))


def _subgroup_part(rel: _Releaser, computed: _Computed, result: WhoBenefits, title: str) -> Part:
    risk = (
        computed.effects
        and not isinstance(computed.effects[0][1], _NotEstimable)
        and (computed.effects[0][1][0].scale == "risk difference")
    )
    whole = computed.whole_numbers.get(result.outcome, False)
    scale = _scale(bool(risk), whole)
    unit_label = _("percentage points") if risk else _("points")
    rows, forest = [], []
    by_variable: dict[str, list[Any]] = {}
    for effect in result.levels:
        by_variable.setdefault(effect.variable, []).append(effect)
    for variable, effects in by_variable.items():
        for effect in effects:
            n1, n0 = rel.band_cell(effect.n_treated), rel.band_cell(effect.n_control)
            events = (
                ()
                if effect.events_treated is None
                else (
                    effect.events_treated,
                    effect.n_treated - effect.events_treated,
                    effect.events_control,
                    effect.n_control - (effect.events_control or 0),
                )
            )
            withheld = rel.small(effect.n_treated, effect.n_control, *events)
            step = None
            if scale.unit is not None and not withheld:
                found = rel.band_step(effect.n_treated, effect.n_control, unit=scale.unit)
                step = None if found is None else found * scale.factor
            ci = effect.ci
            cells = (
                n1,
                n0,
                rel.estimate_cell(
                    None if effect.estimate is None else scale.factor * effect.estimate,
                    scale.decimals,
                    withheld=withheld,
                    step=step,
                ),
                rel.estimate_cell(
                    None if ci is None else scale.factor * ci[0], scale.decimals, withheld=withheld, step=step
                ),
                rel.estimate_cell(
                    None if ci is None else scale.factor * ci[1], scale.decimals, withheld=withheld, step=step
                ),
                rel.p_cell(effect.p_holm, withheld=withheld),
            )
            label = level_label(variable, effect.level)
            rows.append(Row(f"{variable}={effect.level}", f"{SUBGROUP_LABELS[variable]}: {label}", cells))
            drawn = [c.value if isinstance(c.value, float) else None for c in cells[2:5]]
            forest.append(ForestRow(f"{SHORT_LABELS[variable]}: {label}", *drawn))
    table = Table(
        "levels",
        _("Effect in each group"),
        (
            Column("n_treated", _("Episodes with")),
            Column("n_control", _("Episodes without")),
            Column("estimate", _("Difference (%(unit)s)") % {"unit": unit_label}),
            Column("ci_low", _("95% CI low")),
            Column("ci_high", _("95% CI high")),
            Column("p_holm", _("p (Holm)")),
        ),
        tuple(rows),
        note=_("p is adjusted for testing many groups at once (Holm's method)."),
    )
    test_rows = []
    differs = []
    for test in result.interactions:
        shown = rel.p_cell(test.p_holm)
        test_rows.append(
            Row(
                test.variable,
                str(SUBGROUP_LABELS[test.variable]),
                (
                    rel.p_cell(test.p_value),
                    shown,
                    rel.text_cell(_("yes") if test.p_holm < 0.05 else _("no"), test.p_holm < 0.05),
                ),
            )
        )
        if test.p_holm < 0.05:
            differs.append(str(SUBGROUP_LABELS[test.variable]).lower())
    tests = Table(
        "interactions",
        _("Does the effect differ between the groups?"),
        (Column("p_value", _("p")), Column("p_holm", _("p (Holm)")), Column("differs", _("Differs"))),
        tuple(test_rows),
        note=_(
            "Cochran's Q test of equal effects across a characteristic's groups; Holm-adjusted over the characteristics."
        ),
        technical=True,
    )
    overall_step = _scaled(rel, scale, [rel.single_count(result.n).value])
    overall = rel.estimate_cell(scale.factor * result.overall, scale.decimals, step=overall_step).value
    unit_note = _("Differences in %(unit)s") % {"unit": unit_label}
    desc = _(
        "The difference each group shows, with its 95%% interval, against no difference (dashed) and "
        "everyone's (solid). Groups too small to show are listed without a mark; the table below gives "
        "the numbers."
    )
    charts: tuple[Chart, ...] = ()
    if any(row.estimate is not None for row in forest):  # outside, every group may be too small
        svg = render_forest_svg(
            forest, overall if isinstance(overall, float) else None, title, desc, unit_note, "forest"
        )
        charts = (Chart("forest", title, svg),)
    if differs:
        paragraphs = (
            _(
                "The effect differs between groups by %(characteristics)s, more than chance would explain "
                "even allowing for testing six characteristics at once. Read the groups' estimates below."
            )
            % {"characteristics": ", ".join(differs)},
        )
    else:
        paragraphs = (
            _(
                "No characteristic shows an effect that differs between its groups by more than chance "
                "would explain, allowing for testing six characteristics at once. Differences between the "
                "groups' estimates below may be chance."
            ),
        )
    technical = (
        _(
            "Each group's effect averages the doubly robust scores of its episodes, from one propensity "
            "model and one outcome model per arm fitted on everyone."
        ),
    )
    return Part(
        "subgroups",
        title,
        tables=(table, tests),
        charts=charts,
        reading=paragraphs,
        technical=technical,
    )


def _fama_part(rel: _Releaser, computed: _Computed, result: FamaDose) -> Part:
    title = _("Support to reach mutual aid (FAMA level)")
    outcome = result.outcome
    risk = all(level.events is not None for level in result.levels)
    scale = _scale(risk, computed.whole_numbers.get(outcome, False))
    unit_label = _("percentage points") if risk else _("points")
    n_cells = [rel.band_cell(level.n) for level in result.levels] + [rel.single_count(result.n)]
    rows = []
    for level, n_cell in zip(result.levels, n_cells, strict=False):
        events = () if level.events is None else (level.events, level.n - level.events)
        withheld = rel.small(level.n, result.levels[0].n, *events) or n_cell.withheld
        found = (
            None
            if withheld or scale.unit is None
            else rel.band_step(level.n, result.levels[0].n, unit=scale.unit)
        )
        step = None if found is None else found * scale.factor
        rows.append(
            Row(
                level.level,
                str(FAMA_LABELS[level.level]),
                (
                    n_cell,
                    *(
                        rel.estimate_cell(
                            None if value is None else scale.factor * value,
                            scale.decimals,
                            withheld=withheld,
                            step=step,
                        )
                        for value in (level.estimate, level.ci_low, level.ci_high)
                    ),
                ),
            )
        )
    empty = Cell("", None, ESTIMATE)
    rows.append(Row("total", _("Total"), (n_cells[-1], empty, empty, empty)))
    step = _scaled(rel, scale, [n_cells[-1].value])
    trend = Table(
        "trend",
        _("Change per step up the levels"),
        (
            Column("trend", _("Change (%(unit)s)") % {"unit": unit_label}),
            Column("ci_low", _("95% CI low")),
            Column("ci_high", _("95% CI high")),
            Column("p_value", _("p")),
        ),
        (
            Row(
                "trend",
                _("Each step: information, introduced, accompanied"),
                (
                    rel.estimate_cell(
                        scale.factor * result.trend, scale.decimals, step=step, withheld=rel.small(result.n)
                    ),
                    rel.estimate_cell(
                        scale.factor * result.trend_ci[0],
                        scale.decimals,
                        step=step,
                        withheld=rel.small(result.n),
                    ),
                    rel.estimate_cell(
                        scale.factor * result.trend_ci[1],
                        scale.decimals,
                        step=step,
                        withheld=rel.small(result.n),
                    ),
                    rel.p_cell(result.trend_p, withheld=rel.small(result.n)),
                ),
            ),
        ),
    )
    levels = Table(
        "levels",
        _("Against information only"),
        (
            Column("n", _("Episodes")),
            Column("estimate", _("Difference (%(unit)s)") % {"unit": unit_label}),
            Column("ci_low", _("95% CI low")),
            Column("ci_high", _("95% CI high")),
        ),
        tuple(rows),
        note=_("Among episodes referred to mutual aid; adjusted for the measured characteristics."),
    )
    low, high = trend.rows[0].cells[1].value, trend.rows[0].cells[2].value
    if isinstance(low, float) and isinstance(high, float):
        if low <= 0 <= high:
            words = _(
                "We cannot tell from these data whether more support goes with a different “%(outcome)s”."
            )
        elif low > 0:
            words = _("More support goes with a higher “%(outcome)s”, step by step.")
        else:
            words = _("More support goes with a lower “%(outcome)s”, step by step.")
        paragraphs: tuple[str, ...] = (
            words % {"outcome": columns.label(outcome)}
            + " "
            + _(
                "Workers and people choose how much support to use, so this is an association, not a measured effect."
            ),
        )
    else:
        paragraphs = ()
    return Part("fama", title, tables=(levels, trend), reading=paragraphs)


# Dose-response -------------------------------------------------------------------------------


def _unestimable_section(
    rel: _Releaser, key: str, section_title: str, part_title: str, result: "_NotEstimable | None"
) -> Section:
    """A one-part section saying why its analysis has no result."""
    reason = rel.not_estimable(result) if result is not None else ""
    return Section(key, section_title, (Part(key, part_title, not_estimable=reason),))


def _dose_section(rel: _Releaser, computed: _Computed) -> Section:
    spec = computed.spec
    assert spec.dose is not None
    result = computed.dose
    title = _("%(outcome)s by %(dose)s") % {
        "outcome": columns.label(spec.dose_outcome),
        "dose": columns.label(spec.dose).lower(),
    }
    section_title = _("Dose-response")
    if result is None or isinstance(result, _NotEstimable):
        return _unestimable_section(rel, "dose", section_title, title, result)
    withheld = rel.small(result.n)
    n_cell = rel.single_count(result.n)
    step = rel.step(n_cell.value) if computed.whole_numbers.get(spec.dose_outcome, True) else None
    slope = Table(
        "slope",
        _("Adjusted change per extra unit of the dose"),
        (
            Column("slope", _("Change")),
            Column("ci_low", _("95% CI low")),
            Column("ci_high", _("95% CI high")),
            Column("p_value", _("p")),
            Column("nonlinearity_p", _("p, departure from a straight line")),
            Column("n", _("Episodes")),
            Column("n_dropped", _("Left out (missing values)")),
        ),
        (
            Row(
                "slope",
                columns.label(spec.dose),
                (
                    rel.estimate_cell(result.slope, 2, withheld=withheld, step=step),
                    rel.estimate_cell(result.ci_low, 2, withheld=withheld, step=step),
                    rel.estimate_cell(result.ci_high, 2, withheld=withheld, step=step),
                    rel.p_cell(result.p_value, withheld=withheld),
                    rel.p_cell(result.nonlinearity_p, withheld=withheld),
                    n_cell,
                    rel.single_count(result.n_dropped),
                ),
            ),
        ),
    )
    n_cells = [rel.band_cell(dose_band.n) for dose_band in result.bands] + [rel.single_count(result.n)]
    band_rows = []
    for dose_band, n_cell in zip(result.bands, n_cells, strict=False):
        band_withheld = rel.small(dose_band.n)
        band_step = None if band_withheld else rel.band_step(dose_band.n)
        band_rows.append(
            Row(
                f"{dose_band.low:g}+" if dose_band.high is None else f"{dose_band.low:g}-{dose_band.high:g}",
                dose_band.label,
                (
                    n_cell,
                    rel.estimate_cell(dose_band.adjusted_mean, 2, withheld=band_withheld, step=band_step),
                    rel.estimate_cell(dose_band.ci_low, 2, withheld=band_withheld, step=band_step),
                    rel.estimate_cell(dose_band.ci_high, 2, withheld=band_withheld, step=band_step),
                ),
            )
        )
    empty = Cell("", None, ESTIMATE)
    band_rows.append(Row("total", _("Total"), (n_cells[-1], empty, empty, empty)))
    bands = Table(
        "bands",
        _("Adjusted mean by band"),
        (
            Column("n", _("Episodes")),
            Column("adjusted_mean", _("Adjusted mean")),
            Column("ci_low", _("95% CI low")),
            Column("ci_high", _("95% CI high")),
        ),
        tuple(band_rows),
    )
    paragraphs: tuple[str, ...] = ()
    if not withheld:
        paragraphs = (
            reading.dose_reading(
                columns.label(spec.dose),
                columns.label(spec.dose_outcome),
                result.slope,
                result.ci_low,
                result.ci_high,
            ),
        )
    return Section("dose", section_title, (Part("dose", title, tables=(slope, bands), reading=paragraphs),))


# Mediation -----------------------------------------------------------------------------------


def _mediation_section(rel: _Releaser, computed: _Computed) -> Section:
    spec = computed.spec
    assert spec.mediator is not None
    result = computed.mediation
    title = _("%(outcome)s through %(mediator)s") % {
        "outcome": columns.label(spec.mediation_outcome),
        "mediator": columns.label(spec.mediator).lower(),
    }
    section_title = _("Mediation")
    if result is None or isinstance(result, _NotEstimable):
        return _unestimable_section(rel, "mediation", section_title, title, result)
    # The analysed rows are a random sample above mediation.max_rows: judge its arms pro rata.
    share = result.n_used / result.n if result.n else 0.0
    treated, untreated = computed.mediation_groups
    withheld = rel.small(result.n_used, round(treated * share), round(untreated * share))
    step = rel.step(rel.single_count(result.n_used).value)
    effect_columns = (
        Column("estimate", _("Estimate")),
        Column("ci_low", _("95% CI low")),
        Column("ci_high", _("95% CI high")),
    )
    rows = []
    for key, label, value, interval in (
        ("indirect", _("Through the mediator (indirect)"), result.indirect, result.indirect_ci),
        ("direct", _("Not through the mediator (direct)"), result.direct, result.direct_ci),
        ("total", _("Total"), result.total, result.total_ci),
    ):
        rows.append(
            Row(
                key,
                label,
                (
                    rel.estimate_cell(value, 2, withheld=withheld, step=step),
                    rel.estimate_cell(interval[0], 2, withheld=withheld, step=step),
                    rel.estimate_cell(interval[1], 2, withheld=withheld, step=step),
                ),
            )
        )
    empty = Cell("", None, ESTIMATE)
    rows.append(
        Row(
            "proportion_mediated",
            _("Share of the total through the mediator"),
            (rel.estimate_cell(result.proportion_mediated, 2, withheld=withheld), empty, empty),
        )
    )
    sample = Table(
        "sample",
        _("Episodes"),
        (Column("value", _("Episodes")),),
        (
            Row("n", _("With every value present"), (rel.single_count(result.n),)),
            Row(
                "n_used", _("Analysed (a random sample above the limit)"), (rel.single_count(result.n_used),)
            ),
            Row("n_dropped", _("Left out (missing values)"), (rel.single_count(result.n_dropped),)),
        ),
        note=_("Quasi-Bayesian intervals from %(draws)s simulation draws.") % {"draws": result.n_rep},
    )
    paragraphs: tuple[str, ...] = ()
    if not withheld:
        paragraphs = (
            reading.mediation_reading(
                columns.label(spec.treatment),
                columns.label(spec.mediator),
                columns.label(spec.mediation_outcome),
                result.indirect,
                result.indirect_ci,
                result.total,
                result.total_ci,
            ),
        )
    part = Part(
        "mediation",
        title,
        tables=(Table("effects", title, effect_columns, tuple(rows)), sample),
        reading=paragraphs,
    )
    return Section("mediation", section_title, (part,))


# Survival ------------------------------------------------------------------------------------

_COX_LABELS = {
    "weighted": gettext_lazy("Weighted by inverse probability of treatment (robust interval)"),
    "adjusted": gettext_lazy("Adjusted for the covariates"),
    "unadjusted": gettext_lazy("Unadjusted"),
}


def _released_curve(rel: _Releaser, curve: Curve, risk: "_AtRisk") -> Curve:
    """The curve drawn for outside: only points where more than `threshold` people are at risk,
    stepping only after more than `threshold` events since the last step, so no step height
    gives away a small number of events."""
    assert rel.rule is not None
    threshold = rel.rule.threshold
    times = np.asarray(curve.times, dtype=float)
    at_risk = risk.at_risk(times)
    events = risk.events_by(times)
    kept: list[int] = []
    last_events = 0
    for i in range(len(times)):  # at most survival.CURVE_POINTS points, not rows
        if at_risk[i] <= threshold:
            break
        if not kept or events[i] - last_events > threshold:
            kept.append(i)
            last_events = int(events[i])
    pick = np.asarray(kept, dtype=int)
    # Each share no finer than one person at risk there moves it: the drawing shows what the table does.
    steps = [rel.step(rel.single_count(int(at_risk[i])).value) or 0.001 for i in kept]

    def take(values: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(on_step(float(v), step) for v, step in zip(np.asarray(values)[pick], steps, strict=True))

    return Curve(
        times=take(curve.times),
        survival=take(curve.survival),
        lower=take(curve.lower),
        upper=take(curve.upper),
    )


def _at_on_curve(at: SurvivalAt, curve: Curve) -> SurvivalAt:
    """The share at `at.days` as the released curve shows it: its last step on or before that day.
    Exact shares between the drawn steps would give away how many events fell in between."""
    step = int(np.searchsorted(np.asarray(curve.times, dtype=float), at.days, side="right")) - 1
    if at.survival is None or step < 0:
        return SurvivalAt(at.days, None, None, None)
    return SurvivalAt(at.days, curve.survival[step], curve.lower[step], curve.upper[step])


def _survival_section(rel: _Releaser, computed: _Computed) -> Section:
    parts = []
    km = computed.km
    section_title = _("Time to return to use or readmission")
    # The section's heading names the event; the part's says how it is shown.
    km_title = _("Kaplan-Meier curves")
    if isinstance(km, _NotEstimable):
        parts.append(Part("kaplan_meier", km_title, not_estimable=rel.not_estimable(km)))
    elif km is not None:
        parts.append(_km_part(rel, computed, km, km_title, section_title))
    cox_rows = []
    paragraphs = []
    failures = []
    treatment = columns.label(computed.spec.treatment)
    for result in computed.hazard_ratios:
        if isinstance(result, _NotEstimable):
            failures.append(rel.not_estimable(result))
            continue
        withheld = rel.small(result.events, result.n - result.events)
        events_cells = rel.line_counts([result.events, result.n - result.events])
        cox_rows.append(
            Row(
                result.method,
                str(_COX_LABELS.get(result.method, result.method)),
                (
                    rel.estimate_cell(result.hazard_ratio, 2, withheld=withheld),
                    rel.estimate_cell(result.ci_low, 2, withheld=withheld),
                    rel.estimate_cell(result.ci_high, 2, withheld=withheld),
                    rel.p_cell(result.p_value, withheld=withheld),
                    events_cells[2],
                    events_cells[0],
                    rel.single_count(result.n_dropped),
                ),
            )
        )
        if not withheld:
            paragraphs.append(
                reading.hazard_reading(
                    treatment,
                    result.hazard_ratio,
                    result.ci_low,
                    result.ci_high,
                    str(_COX_LABELS.get(result.method, result.method)),
                )
            )
    cox_title = _("Hazard ratios (Cox)")
    if cox_rows:
        table = Table(
            "hazard_ratios",
            # The part's heading already says "Hazard ratios (Cox)".
            _("Estimates side by side"),
            (
                Column("hazard_ratio", _("Hazard ratio")),
                Column("ci_low", _("95% CI low")),
                Column("ci_high", _("95% CI high")),
                Column("p_value", _("p")),
                Column("n", _("Episodes")),
                Column("events", _("Events")),
                Column("n_dropped", _("Left out (missing values)")),
            ),
            tuple(cox_rows),
            note=" ".join(failures),
        )
        parts.append(Part("cox", cox_title, tables=(table,), reading=tuple(paragraphs)))
    elif failures:
        parts.append(Part("cox", cox_title, not_estimable=" ".join(failures)))
    return Section("survival", section_title, tuple(parts))


def _km_part(rel: _Releaser, computed: _Computed, km: KaplanMeier, title: str, chart_title: str) -> Part:
    groups = km.groups
    events = pd.DataFrame(
        {"events": [g.events for g in groups], "no_event": [g.n - g.events for g in groups]},
        index=[g.value for g in groups],
    )
    released = rel.crosstab(events, _("Total"))
    headline_rows = []
    for i, group in enumerate(groups):
        cells = released.iloc[i]
        withheld = rel.small(group.n, group.events, group.n - group.events)
        headline_rows.append(
            Row(
                group.value,
                group.label,
                (
                    rel.count_cell(cells.iloc[2]),
                    rel.count_cell(cells.iloc[0]),
                    rel.estimate_cell(group.median, 0, withheld=withheld),
                ),
            )
        )
    tables = [
        Table(
            "groups",
            _("Episodes, events and median days"),
            (Column("n", _("Episodes")), Column("events", _("Events")), Column("median", _("Median days"))),
            tuple(headline_rows),
        )
    ]
    shown = km
    desc = _("Share of episodes without return to use or readmission over time, by group.")
    note = ""
    if rel.outside:
        shown = dataclasses.replace(
            km,
            groups=tuple(
                dataclasses.replace(g, curve=_released_curve(rel, g.curve, computed.at_risk[g.value]))
                for g in groups
            ),
        )
        threshold = rel.rule.threshold if rel.rule else 0
        desc += " " + _(
            "Drawn only while more than %(threshold)s people are at risk, in steps of more than "
            "%(threshold)s events."
        ) % {"threshold": threshold}
        note = _(
            "Outside the care team each share is read from the curve as drawn, so that no two shares "
            "differ by %(threshold)s events or fewer."
        ) % {"threshold": threshold}
    # The row label is the day: no "Days" column beside it.
    at_columns = []
    for group in groups:
        at_columns += [
            Column(f"{group.value}:survival", _("%(group)s: without event") % {"group": group.label}),
            Column(f"{group.value}:ci_low", _("95% CI low")),
            Column(f"{group.value}:ci_high", _("95% CI high")),
            Column(f"{group.value}:at_risk", _("At risk")),
        ]
    at_rows = []
    for t, days in enumerate(km.times):
        at_cells: list[Cell] = []
        for group, drawn in zip(groups, shown.groups, strict=True):
            at = _at_on_curve(group.at[t], drawn.curve) if rel.outside else group.at[t]
            at_risk = int(computed.at_risk[group.value].at_risk(np.array([days]))[0])
            withheld = rel.small(at_risk)
            risk_cell = rel.single_count(at_risk)
            step = rel.step(risk_cell.value)
            at_cells += [
                rel.estimate_cell(at.survival, 3, withheld=withheld, step=step),
                rel.estimate_cell(at.ci_low, 3, withheld=withheld, step=step),
                rel.estimate_cell(at.ci_high, 3, withheld=withheld, step=step),
                risk_cell,
            ]
        at_rows.append(Row(str(days), reading.count(days), tuple(at_cells)))
    tables.append(
        Table("survival_at", _("Share without the event"), tuple(at_columns), tuple(at_rows), note=note)
    )
    chart = Chart("kaplan_meier", chart_title, render_km_svg(shown, chart_title, desc, chart_id="km"))
    return Part("kaplan_meier", title, tables=tuple(tables), charts=(chart,))


# --- The public API -----------------------------------------------------------------------------


def pseudonymous_workers(names: Sequence[str]) -> dict[str, str]:
    """ "Worker 1", "Worker 2", ... in an order set by a keyed hash of each name (the site's secret
    key): stable from report to report, but saying nothing about the names, not even their order."""
    key = settings.SECRET_KEY.encode()

    def order(name: str) -> str:
        return hmac.new(key, name.encode(), hashlib.sha256).hexdigest()

    ranked = sorted(dict.fromkeys(names), key=order)
    return {name: _("Worker %(number)s") % {"number": i + 1} for i, name in enumerate(ranked)}


def release(
    computed: _Computed,
    audience: str,
    *,
    title: str,
    cohort_description: str,
    rule: SuppressionRule | None = None,
    worker_names: bool = False,
) -> Report:
    """The report as `audience` may see it; the only constructor of released values. Outside a
    care team workers are shown by pseudonyms unless `worker_names`."""
    if audience not in AUDIENCES:
        raise EvaluationError(f"audience {audience!r}: use one of {', '.join(AUDIENCES)}")
    if audience == OUTSIDE:
        rule = rule or SuppressionRule.from_settings()
        notes = (
            _(
                "Counts from 1 to %(threshold)s are shown as *, other counts are rounded to the nearest "
                "%(rounding)s, and further cells are hidden where a hidden one could be worked out from "
                "totals; rounded counts need not add up. Estimates on groups of %(threshold)s people or "
                "fewer are not shown."
            )
            % {"threshold": rule.threshold, "rounding": rule.rounding},
        )
    else:
        rule = None
        notes = (_("Care team view: exact counts, not for release outside the care team."),)
    pseudonyms = pseudonymous_workers(computed.workers) if audience == OUTSIDE and not worker_names else None
    rel = _Releaser(audience, rule, pseudonyms)
    sections = [
        _cohort_section(rel, computed),
        _funnel_section(rel, computed),
        _effects_section(rel, computed),
    ]
    if computed.benefits is not None or computed.fama is not None:
        sections.append(_benefits_section(rel, computed))
    if computed.spec.dose is not None:
        sections.append(_dose_section(rel, computed))
    if computed.spec.survival:
        sections.append(_survival_section(rel, computed))
    if computed.spec.mediator is not None:
        sections.append(_mediation_section(rel, computed))
    return Report(
        title=title,
        audience=audience,
        cohort_description=cohort_description,
        spec=computed.spec,
        sections=tuple(sections),
        notes=notes,
        threshold=rule.threshold if rule else None,
        rounding=rule.rounding if rule else None,
    )


def build_report(
    frame: pd.DataFrame,
    spec: ReportSpec | None = None,
    audience: str = OUTSIDE,
    title: str | None = None,
    cohort_description: str = "",
    n_without_consent: int = 0,
    rule: SuppressionRule | None = None,
    timings: dict[str, float] | None = None,
    worker_names: bool | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Every part of the evaluation of `frame`, released for `audience` ("outside" or "care_team").

    `rule` overrides ``settings.EVALUATION_SUPPRESSION`` (tests; the web pages leave it None).
    `worker_names`: whether an outside audience sees workers' names; None asks
    ``accounts.access.outside_sees_worker_names`` (pseudonymous labels by default). `progress`, if
    given, is called after each part with (parts done, parts planned, the part's name).
    `timings`, if given, is filled with the seconds each part took (`bench/evaluation.py`).
    Raises EvaluationError for a bad spec or audience; data that cannot support a part make that
    part "not estimable" instead.
    """
    spec = spec or ReportSpec()
    if audience not in AUDIENCES:
        raise EvaluationError(f"audience {audience!r}: use one of {', '.join(AUDIENCES)}")
    spec.validate(frame)
    attempt = _Attempts(timings, progress, _planned_parts(spec))
    started = time.perf_counter()
    computed = _compute(frame, spec, n_without_consent, attempt)
    attempt.timings["cohort counts"] = time.perf_counter() - started - sum(attempt.timings.values())
    started = time.perf_counter()
    report = release(
        computed,
        audience,
        title=str(title) if title is not None else str(DEFAULT_TITLE),
        cohort_description=cohort_description,
        rule=rule,
        worker_names=access.outside_sees_worker_names() if worker_names is None else worker_names,
    )
    attempt.timings["release (suppression, tables, charts, reading)"] = time.perf_counter() - started
    attempt.step("release")
    return report


def _planned_parts(spec: ReportSpec) -> int:
    """How many parts `_compute` attempts, and the release: the progress bar's length."""
    return (
        len(spec.funnel_indicators) * len(spec.funnel_units)
        + len(spec.outcomes)
        + (spec.dose is not None)
        + (spec.mediator is not None)
        + (4 if spec.survival else 0)
        + bool(spec.subgroups and spec.outcomes)
        + bool(spec.fama and spec.outcomes)
        + 1
    )


CSV_HEADER = ("section", "part", "table", "row", "column", "kind", "value")


def report_csv(report: Report) -> str:
    """The report's tables as one long CSV (see the module docstring); not-estimable parts as a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section in report.sections:
        for part in section.parts:
            if part.not_estimable:
                writer.writerow((section.key, part.key, "", "", "not_estimable", TEXT, part.not_estimable))
            for table in part.tables:
                for row in table.rows:
                    for column, cell in zip(table.columns, row.cells, strict=True):
                        value = "" if cell.value is None else cell.value
                        writer.writerow(
                            (section.key, part.key, table.key, row.key, column.key, cell.kind, value)
                        )
    return out.getvalue()


__all__ = [
    "AUDIENCES",
    "CARE_TEAM",
    "OUTSIDE",
    "Cell",
    "Chart",
    "Column",
    "Part",
    "Report",
    "ReportSpec",
    "Row",
    "Section",
    "Table",
    "build_report",
    "report_csv",
]
