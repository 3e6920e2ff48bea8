"""Who benefits: the programme effect in pre-specified subgroups, tests of whether it differs
between them, and the FAMA level as a dose.

Subgroups (pre-specified, `SUBGROUPS`): on MOUD or not, the gender of group preferred, age band,
secular preference, online or in-person group, and the approach of the fellowship referred to. The
effect in each level is the mean of the doubly robust scores over that level (`estimators.Scores`;
the propensity and outcome models are fitted once on the whole cohort, as in grf's subset
effects), with a normal interval. Levels are disjoint, so their estimates are independent:

- whether the effect differs between a variable's levels is Cochran's Q, Σ (τ_k - τ̄)² / v_k with
  τ̄ the inverse-variance weighted mean, on K - 1 degrees of freedom;
- with several variables (and many levels) some test will look significant by chance, so the
  p-values are adjusted by Holm's step-down method (Holm 1979), within the family of interaction
  tests and within the family of level effects: the chance of any false positive in a family is at
  most 5% when nothing differs.

FAMA level (facilitated access to mutual aid: information only, introduced to a member,
accompanied to a meeting), among episodes referred to mutual aid: each level against information
only (doubly robust, on those two levels' episodes), and a test of a linear trend over the three
levels (least squares of the outcome on the level, 0-1-2, and the covariates, with robust errors).
Both are associations: people and workers choose the level.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _
from scipy import stats

from recoverybridge.evaluation import estimators
from recoverybridge.evaluation.dose import ols_hc1
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.frame import FAMA_LEVELS
from recoverybridge.evaluation.survival import design_matrix

AGE_BAND = "age_band"
AGE_BANDS = ((18, 29), (30, 44), (45, 59), (60, None))
SUBGROUPS = ("on_moud", "group_gender", AGE_BAND, "prefers_secular", "online_group", "fellowship_approach")
SUBGROUP_LABELS = {
    "on_moud": _("On medication for opioid use disorder"),
    "group_gender": _("Gender of group preferred"),
    AGE_BAND: _("Age band"),
    "prefers_secular": _("Prefers a secular group"),
    "online_group": _("Online or in person"),
    "fellowship_approach": _("Approach of the fellowship referred to"),
}
# Short names for the forest plot's rows.
SHORT_LABELS = {
    "on_moud": _("MOUD"),
    "group_gender": _("Group"),
    AGE_BAND: _("Age"),
    "prefers_secular": _("Secular"),
    "online_group": _("Online"),
    "fellowship_approach": _("Approach"),
}
FAMA_LABELS = {
    "information": _("Information only"),
    "introduced": _("Introduced to a member"),
    "accompanied": _("Accompanied to a meeting"),
}


def level_label(variable: str, level: str) -> str:
    """A reader's name for a level (yes/no, the group gender and approach choices, age bands)."""
    from recoverybridge.care.models import GroupGenderPreference
    from recoverybridge.directory.models import Approach

    if level in ("yes", "no"):
        return str(_("yes") if level == "yes" else _("no"))
    if variable == "group_gender":
        return str(dict(GroupGenderPreference.choices).get(level, level))
    if variable == "fellowship_approach":
        return str(dict(Approach.choices).get(level, _("several") if level == "mixed" else level))
    return level


# A level with fewer treated or comparison episodes than this has no estimate at all.
MIN_PER_ARM = 2
Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class LevelEffect:
    variable: str
    level: str
    n_treated: int
    n_control: int
    # Events in each arm for a 0/1 outcome (None otherwise): what suppression judges.
    events_treated: int | None
    events_control: int | None
    estimate: float | None  # None: too few in an arm to estimate
    std_error: float | None
    p_value: float | None
    p_holm: float | None = None

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.estimate is None or self.std_error is None:
            return None
        return self.estimate - Z95 * self.std_error, self.estimate + Z95 * self.std_error


@dataclass(frozen=True)
class Interaction:
    variable: str
    statistic: float
    df: int
    p_value: float
    p_holm: float = 1.0


@dataclass(frozen=True)
class WhoBenefits:
    outcome: str
    estimand: str
    overall: float
    overall_se: float
    levels: tuple[LevelEffect, ...]
    interactions: tuple[Interaction, ...]
    n: int


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def age_bands(age: pd.Series) -> pd.Series:
    labels = [f"{low}\u2013{high}" if high else f"{low}+" for low, high in AGE_BANDS]
    edges = [band[0] for band in AGE_BANDS] + [np.inf]
    edges[0] = -np.inf
    return pd.cut(age, bins=edges, labels=labels, right=False)


def subgroup_values(frame: pd.DataFrame, variable: str) -> pd.Series:
    """The variable's level per row as text (NaN where it does not apply)."""
    if variable == AGE_BAND:
        return age_bands(frame["age"]).astype(object)
    values = frame[variable]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(object)
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.map({0.0: "no", 1.0: "yes"}).astype(object)


def level_order(frame: pd.DataFrame, variable: str, values: pd.Series) -> list[str]:
    if variable == AGE_BAND:
        return [str(c) for c in age_bands(pd.Series([], dtype=float)).cat.categories]
    column = frame[variable]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories if (values == c).any()]
    return ["no", "yes"]


def who_benefits(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    estimand: str = "ate",
    subgroups: Sequence[str] = SUBGROUPS,
    **choices: object,
) -> WhoBenefits:
    """The effect in each level of each subgroup variable, interaction tests and Holm adjustment."""
    scores = estimators.doubly_robust_scores(frame, treatment, outcome, covariates, estimand, **choices)  # type: ignore[arg-type]
    overall, overall_se = scores.effect(np.ones(len(scores.psi), dtype=bool))
    rows = frame.iloc[scores.keep]
    levels: list[LevelEffect] = []
    interactions: list[Interaction] = []
    for variable in subgroups:
        if variable != AGE_BAND and variable not in frame.columns:
            raise EvaluationError(f"subgroup {variable!r}: no such column")
        values = subgroup_values(rows, variable).to_numpy()
        found = []
        for level in level_order(rows, variable, pd.Series(values)):
            member = values == level
            treated = member & (scores.a == 1)
            control = member & (scores.a == 0)
            n1, n0 = int(treated.sum()), int(control.sum())
            events: tuple[int | None, int | None] = (None, None)
            if scores.binary_outcome:
                events = (int(scores.y[treated].sum()), int(scores.y[control].sum()))
            estimate = se = p = None
            if n1 >= MIN_PER_ARM and n0 >= MIN_PER_ARM:
                estimate, se = scores.effect(member)
                p = float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else None
            effect = LevelEffect(variable, level, n1, n0, events[0], events[1], estimate, se, p)
            levels.append(effect)
            if estimate is not None and se is not None and se > 0:
                found.append(effect)
        if len(found) >= 2:
            weights = np.array([1 / e.std_error**2 for e in found])  # type: ignore[operator]
            taus = np.array([e.estimate for e in found], dtype=float)
            pooled = float(np.sum(weights * taus) / weights.sum())
            q = float(np.sum(weights * (taus - pooled) ** 2))
            interactions.append(
                Interaction(variable, q, len(found) - 1, float(stats.chi2.sf(q, len(found) - 1)))
            )
    tested = [i for i, e in enumerate(levels) if e.p_value is not None]
    adjusted = holm([levels[i].p_value for i in tested])  # type: ignore[misc]
    for i, p_holm in zip(tested, adjusted, strict=True):
        e = levels[i]
        levels[i] = LevelEffect(**{**e.__dict__, "p_holm": p_holm})
    interaction_holm = holm([t.p_value for t in interactions])
    interactions = [
        Interaction(t.variable, t.statistic, t.df, t.p_value, p)
        for t, p in zip(interactions, interaction_holm, strict=True)
    ]
    return WhoBenefits(
        outcome=outcome,
        estimand=estimand,
        overall=overall,
        overall_se=overall_se,
        levels=tuple(levels),
        interactions=tuple(interactions),
        n=len(scores.psi),
    )


@dataclass(frozen=True)
class FamaLevel:
    level: str
    n: int
    # Against information only (None for information only itself, or when too few to estimate).
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    events: int | None  # for a 0/1 outcome


@dataclass(frozen=True)
class FamaDose:
    outcome: str
    levels: tuple[FamaLevel, ...]
    trend: float  # change in the outcome per step up the levels, adjusted
    trend_ci: tuple[float, float]
    trend_p: float
    n: int


def fama_dose(
    frame: pd.DataFrame, outcome: str, covariates: Sequence[str], level: str = "fama_level"
) -> FamaDose:
    """Each FAMA level against information only, and the adjusted linear trend over the levels."""
    covariates = [c for c in covariates if c != level]
    needed = [level, outcome, *covariates]
    data = frame.loc[frame[needed].notna().all(axis=1), needed]
    if data.empty:
        raise EvaluationError(f"{level}: no episodes referred to mutual aid with the outcome and covariates")
    codes = data[level].astype(object).map({name: i for i, name in enumerate(FAMA_LEVELS)}).astype(float)
    y = data[outcome].to_numpy(dtype=float)
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    results = []
    for index, name in enumerate(FAMA_LEVELS):
        members = codes.to_numpy() == index
        estimate = low = high = None
        if index and members.any():
            pair = data[(codes == 0) | members].assign(
                __level__=(codes[(codes == 0) | members] == index).astype(float)
            )
            try:
                result = estimators.estimate_effect(pair, "__level__", outcome, covariates, method="aipw")
                estimate, low, high = result.estimate, result.ci_low, result.ci_high
            except EvaluationError:
                pass  # too few at this level, or no comparable information-only episodes
        results.append(
            FamaLevel(
                name, int(members.sum()), estimate, low, high, int(y[members].sum()) if binary else None
            )
        )
    adjusters = design_matrix(data, covariates).to_numpy(dtype=float)
    x = np.column_stack([codes.to_numpy(), np.ones(len(data)), adjusters - adjusters.mean(axis=0)])
    params, cov = ols_hc1(y, x)
    se = float(np.sqrt(cov[0, 0]))
    return FamaDose(
        outcome=outcome,
        levels=tuple(results),
        trend=float(params[0]),
        trend_ci=(float(params[0] - Z95 * se), float(params[0] + Z95 * se)),
        trend_p=float(2 * stats.norm.sf(abs(params[0] / se))),
        n=len(data),
    )
