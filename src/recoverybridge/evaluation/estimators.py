"""Programme effects under self-selection: naive, inverse probability weighted and doubly robust.

Every function takes the analysis frame (one row per episode, `evaluation.frame`) and column
names. Rows missing the treatment, the outcome or a covariate are dropped and counted. The
treatment must hold 0/1; an outcome holding only 0/1 is binary (effects are risk differences),
any other numeric outcome gives mean differences. Covariates that are not numeric are one-hot
encoded against their first level, named `column=value`.

Methods (formulas and references in docs/evaluation.md):

- "naive": difference in means, Welch (unpooled) normal interval.
- "ipw": Hájek (normalised) inverse probability weighting with a logistic propensity model.
  ATE weights 1/e for the treated and 1/(1-e) for controls; ATT weights 1 for the treated and
  e/(1-e) for controls. The sandwich interval comes from the influence function of the Hájek
  estimator stacked with the propensity model's score (M-estimation), so it accounts for the
  propensity being estimated.
- "aipw": augmented IPW (doubly robust), with an outcome regression in each arm (linear for a
  continuous outcome, logistic for a binary one). ATE: Robins, Rotnitzky & Zhao (1994) / Bang &
  Robins (2005); ATT: the Moodie et al. (2018) / Mercatanti & Li (2014) form. The augmentation
  terms are normalised like the Hájek weights. The sandwich interval uses the efficient influence
  function, treating the nuisance models as known (valid when either model is right and both
  converge fast enough; simulation coverage is tested).

Trimming (`trim=a`) follows Crump et al. (2009): units whose propensity score from the full
sample lies outside [a, 1-a] are dropped, the propensity model is refitted on the rest and the
estimand is the ATE or ATT *of that trimmed population*, not of everyone.

A `bootstrap` interval resamples rows and refits everything (propensity, trimming, outcome
models) `bootstrap_reps` times: it is meant for small data (a few thousand rows); on large data
use the sandwich interval, which is as good there and costs nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from recoverybridge.evaluation import matching, propensity
from recoverybridge.evaluation.errors import EvaluationError

METHODS = ("naive", "ipw", "aipw", "matching", "subclassification")
# Methods whose interval comes from their own variance formula, never from a bootstrap.
MATCHING_METHODS = ("matching", "subclassification")
ESTIMANDS = ("ate", "att")
INTERVALS = ("sandwich", "bootstrap")
# Fewer than this many treated or control rows and no estimate is attempted.
MIN_PER_GROUP = 10
# Weights resting on fewer effective episodes than this compare with one person: no estimate.
MIN_EFFECTIVE = 2.0
# A categorical covariate with more levels than this is more likely an identifier.
MAX_LEVELS = 50
# Overlap is "limited" when more than this share of units has a propensity outside
# [EXTREME, 1 - EXTREME] or lies outside the other group's propensity range.
LIMITED_SHARE = 0.05
EXTREME = 0.05
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class Balance:
    covariate: str
    smd_before: float
    smd_after: float


@dataclass(frozen=True)
class Overlap:
    """Propensity scores from the model fitted on every complete row (before any trimming)."""

    ps_treated_min: float
    ps_treated_max: float
    ps_control_min: float
    ps_control_max: float
    trimmed: int
    trim_bounds: tuple[float, float] | None
    bin_edges: list[float]
    treated_counts: list[int]
    control_counts: list[int]
    limited: bool
    support: str = "all"  # the common-support rule (propensity.SUPPORTS)
    dropped_treated: int = 0
    dropped_control: int = 0


@dataclass(frozen=True)
class Options:
    """How the propensity model is fitted and used (see propensity.py and matching.py)."""

    model: str = "logit"  # "logit" | "penalised"
    terms: str = "main"  # "main" | "splines" | "interactions"
    support: str = "all"  # "all" | "crump" | "treated" | "fixed" (with trim)
    trim: float | None = None
    caliper: float = matching.DEFAULT_CALIPER
    neighbours: int = 1
    subclasses: int | None = None  # None: blocks chosen from the data

    @classmethod
    def of(cls, trim: float | None = None, **choices: Any) -> "Options":
        """A trim bound alone means fixed trimming, as before there were other rules."""
        support = choices.pop("support", None) or ("fixed" if trim is not None else "all")
        return cls(support=support, trim=trim, **choices)


@dataclass(frozen=True)
class EffectEstimate:
    method: str
    estimand: str
    treatment: str
    outcome: str
    scale: str
    estimate: float
    ci_low: float
    ci_high: float
    std_error: float
    # Estimated potential-outcome means (risks) under treatment and control for the estimand.
    mean_treated: float
    mean_control: float
    n_treated: int
    n_control: int
    n_dropped: int
    balance: tuple[Balance, ...]
    overlap: Overlap | None
    e_value: float | None
    e_value_ci: float | None
    interval: str
    confidence: float
    # The propensity model actually used ("logit" or "penalised") and why, when not the one asked for.
    model: str = ""
    model_reason: str = ""
    # Matching: episodes left without a partner within the caliper; subclassification: comparison
    # episodes below the lowest treated propensity (ATT), and the number of blocks.
    unmatched_treated: int = 0
    unmatched_control: int = 0
    blocks: int = 0
    # Kish's effective number of episodes behind each arm's weighted mean (weighting methods).
    effective_treated: float | None = None
    effective_control: float | None = None


@dataclass
class _Data:
    a: np.ndarray  # treatment, 0.0/1.0
    y: np.ndarray
    x: np.ndarray  # model covariates after one-hot encoding, no intercept
    names: list[str]
    binary_x: np.ndarray  # which columns of x hold only 0/1
    binary_outcome: bool
    n_dropped: int
    keep: np.ndarray  # positions in the frame of the rows used


@dataclass
class _Point:
    mu1: float
    mu0: float
    # Influence functions of mu1 and mu0 (None for naive, whose variance is Welch's).
    if1: np.ndarray | None = None
    if0: np.ndarray | None = None
    # Matching and subclassification: the variance of the effect, and what they matched.
    variance: float | None = None
    matched: matching.Matched | None = None

    @property
    def effect(self) -> float:
        return self.mu1 - self.mu0


@dataclass
class _Fit:
    """One propensity fit, shared by the methods that need it."""

    data: _Data  # the analysis sample (after common support)
    prop: propensity.Propensity  # fitted on the analysis sample
    weights: np.ndarray  # Hájek weights, analysis sample
    overlap: Overlap
    full_weights: np.ndarray  # weights over the complete rows, 0 for units outside common support
    model: str
    model_reason: str


# --- preparing the data -------------------------------------------------------------------------


def _check_columns(frame: pd.DataFrame, names: Sequence[str]) -> None:
    available = [str(c) for c in frame.columns]
    for name in names:
        if name not in frame.columns:
            raise EvaluationError(f"unknown column {name!r}; available: {', '.join(available)}")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _describe(values: Sequence[Any], limit: int = 5) -> str:
    shown = [repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(shown) + more


def _treatment(series: pd.Series, name: str) -> np.ndarray:
    present = series.dropna()
    if not _is_numeric(series):
        bad = sorted({str(v) for v in present.unique()})
        raise EvaluationError(f"treatment {name!r} must hold 0 and 1 only; found {_describe(bad)}")
    values = present.to_numpy(dtype=float)
    bad_values = np.unique(values[(values != 0) & (values != 1)])
    if bad_values.size:
        raise EvaluationError(
            f"treatment {name!r} must hold 0 and 1 only; found {_describe(list(bad_values))}"
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def _encode(series: pd.Series, name: str) -> tuple[np.ndarray, list[str]]:
    """A covariate as model columns: numeric as is, anything else one-hot against its first level."""
    if _is_numeric(series):
        return series.to_numpy(dtype=float, na_value=np.nan)[:, None], [name]
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = series.value_counts(sort=False)  # in category order
        levels = list(counts.index[counts.to_numpy() > 0])
    else:
        levels = sorted(series.dropna().unique(), key=str)
    if len(levels) > MAX_LEVELS:
        raise EvaluationError(
            f"covariate {name!r} has {len(levels)} distinct values; "
            f"a categorical covariate may have at most {MAX_LEVELS}"
        )
    if len(levels) < 2:
        raise EvaluationError(f"covariate {name!r} is constant: it cannot adjust for anything")
    missing = series.isna().to_numpy()
    columns = []
    for level in levels[1:]:
        column = (series == level).to_numpy(dtype=float)
        column[missing] = np.nan
        columns.append(column)
    return np.column_stack(columns), [f"{name}={level}" for level in levels[1:]]


def _prepare(frame: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str]) -> _Data:
    if isinstance(covariates, str):
        raise EvaluationError("covariates must be a list of column names, not one string")
    covariates = list(covariates)
    _check_columns(frame, [treatment, outcome, *covariates])
    if treatment == outcome:
        raise EvaluationError(f"treatment and outcome are the same column {treatment!r}")
    for name in covariates:
        if name in (treatment, outcome):
            raise EvaluationError(f"column {name!r} cannot be a covariate and the treatment or outcome")
    duplicated = sorted({n for n in covariates if covariates.count(n) > 1})
    if duplicated:
        raise EvaluationError(f"covariates listed twice: {', '.join(duplicated)}")
    if not _is_numeric(frame[outcome]):
        example = frame[outcome].dropna()
        shown = f" (e.g. {example.iloc[0]!r})" if len(example) else ""
        raise EvaluationError(f"outcome {outcome!r} is not numeric{shown}")

    a = _treatment(frame[treatment], treatment)
    y = frame[outcome].to_numpy(dtype=float, na_value=np.nan)
    blocks, names = [], []
    for name in covariates:
        block, block_names = _encode(frame[name], name)
        blocks.append(block)
        names.extend(block_names)
    x = np.column_stack(blocks) if blocks else np.empty((len(frame), 0))

    complete = ~np.isnan(a) & ~np.isnan(y)
    if x.shape[1]:
        complete &= ~np.isnan(x).any(axis=1)
    keep = np.flatnonzero(complete)
    a, y, x = a[keep], y[keep], x[keep]
    n_treated = int(a.sum())
    n_control = len(a) - n_treated
    if n_treated < MIN_PER_GROUP or n_control < MIN_PER_GROUP:
        raise EvaluationError(
            f"too few complete rows: {n_treated} treated and {n_control} controls "
            f"(at least {MIN_PER_GROUP} of each needed; {len(frame) - len(keep)} rows dropped "
            f"for missing {treatment}, {outcome} or a covariate)"
        )
    if np.ptp(y) == 0:
        raise EvaluationError(f"outcome {outcome!r} takes one value only ({y[0]:g}) in the complete rows")
    for j, name in enumerate(names):
        if np.ptp(x[:, j]) == 0:
            raise EvaluationError(f"covariate {name!r} is constant in the complete rows: drop it")
    binary_x = np.array([np.isin(x[:, j], (0.0, 1.0)).all() for j in range(x.shape[1])], dtype=bool)
    binary_outcome = bool(np.isin(y, (0.0, 1.0)).all())
    if binary_outcome:
        # A share of 0 or 1 in one arm has no sampling variance in the normal approximation, so
        # every interval built on it would be too narrow: refuse rather than mislead.
        for arm, label in ((a == 1, "treated"), (a == 0, "control")):
            share = y[arm].mean()
            if share in (0.0, 1.0):
                raise EvaluationError(
                    f"outcome {outcome!r} is {share:g} for every {label} row: "
                    "an interval for the risk difference cannot be trusted"
                )
    return _Data(
        a=a,
        y=y,
        x=x,
        names=names,
        binary_x=binary_x,
        binary_outcome=binary_outcome,
        n_dropped=len(frame) - len(keep),
        keep=keep,
    )


def _subset(data: _Data, rows: np.ndarray) -> _Data:
    return _Data(
        a=data.a[rows],
        y=data.y[rows],
        x=data.x[rows],
        names=data.names,
        binary_x=data.binary_x,
        binary_outcome=data.binary_outcome,
        n_dropped=data.n_dropped,
        keep=data.keep[rows],
    )


# --- models -------------------------------------------------------------------------------------


def _separating_covariate(data: _Data) -> tuple[str, bool] | None:
    """A single covariate whose values alone tell treated from controls, if there is one, and
    whether it does so completely (no value shared by both arms) or only in part (quasi-complete:
    one value held by one arm only)."""
    treated = data.a == 1
    for j, name in enumerate(data.names):
        column = data.x[:, j]
        t, c = column[treated], column[~treated]
        if data.binary_x[j]:
            if np.ptp(t) == 0 and np.ptp(c) == 0:
                return name, True
            for value in (0.0, 1.0):
                having = column == value
                if having.any() and np.ptp(data.a[having]) == 0:
                    return name, False
        elif t.max() < c.min() or c.max() < t.min():
            return name, True
    return None


def _propensity(data: _Data, options: "Options") -> propensity.Propensity:
    separating = _separating_covariate(data)
    if separating and separating[1]:
        raise EvaluationError(
            f"no defensible estimate: {separating[0]!r} alone tells the groups apart (no value of it is "
            "shared by treated and comparison episodes), so no comparison episode is like any treated one; "
            "drop or coarsen that covariate, or restrict the data to where the groups meet"
        )
    fitted = propensity.fit(
        data.x, data.names, data.binary_x, data.a, model=options.model, terms=options.terms
    )
    treated = data.a == 1
    if (
        fitted.eta[treated].min() > fitted.eta[~treated].max()
        or fitted.eta[treated].max() < fitted.eta[~treated].min()
    ):
        raise EvaluationError(
            "no defensible estimate: the covariates together tell the groups apart (every treated episode "
            "has a higher propensity than every comparison episode), so no comparison episode is like any "
            "treated one; use fewer or coarser covariates, or restrict the data to where the groups meet"
        )
    if fitted.reason and separating:
        return replace(fitted, reason=f"{fitted.reason} ({separating[0]!r} alone tells them apart in part)")
    return fitted


def _logistic_predictions(z: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A logistic outcome model fitted on `rows`, predicted for everyone (statsmodels; penalised
    when the outcome is separated in the arm, which only pulls predictions away from 0 and 1)."""
    beta, *_ = propensity.logistic(z[rows], y[rows])
    return expit(np.clip(z @ beta, -propensity.ETA_LIMIT, propensity.ETA_LIMIT))


def _outcome_predictions(data: _Data, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted outcome for every row under treatment and under control (one model per arm)."""
    predictions = []
    for arm in (1.0, 0.0):
        rows = data.a == arm
        if data.binary_outcome:
            predictions.append(_logistic_predictions(z, data.y, rows))
        else:
            beta, *_ = np.linalg.lstsq(z[rows], data.y[rows], rcond=None)
            predictions.append(z @ beta)
    return predictions[0], predictions[1]


def _raw_weights(a: np.ndarray, eta: np.ndarray, estimand: str) -> np.ndarray:
    """1/e and 1/(1-e) (ATE), or 1 and e/(1-e) (ATT), from the linear predictor: exact at both ends."""
    treated = a == 1
    if estimand == "ate":
        return np.where(treated, 1 + np.exp(-eta), 1 + np.exp(eta))
    return np.where(treated, 1.0, np.exp(eta))


def _weights(a: np.ndarray, eta: np.ndarray, estimand: str) -> np.ndarray:
    """Hájek weights: each group's weights sum to its size."""
    raw = _raw_weights(a, eta, estimand)
    treated = a == 1
    out = np.empty_like(raw)
    out[treated] = raw[treated] * treated.sum() / raw[treated].sum()
    out[~treated] = raw[~treated] * (~treated).sum() / raw[~treated].sum()
    return out


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    total = float(weights.sum())
    return total * total / float(np.square(weights).sum()) if total > 0 else 0.0


def _overlap(a: np.ndarray, ps: np.ndarray, support: str, bounds: tuple, dropped: tuple[int, int]) -> Overlap:
    treated = a == 1
    pt, pc = ps[treated], ps[~treated]
    edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    extreme = np.mean((ps < EXTREME) | (ps > 1 - EXTREME))
    outside = (
        np.sum(pt > pc.max()) + np.sum(pt < pc.min()) + np.sum(pc > pt.max()) + np.sum(pc < pt.min())
    ) / len(ps)
    return Overlap(
        ps_treated_min=float(pt.min()),
        ps_treated_max=float(pt.max()),
        ps_control_min=float(pc.min()),
        ps_control_max=float(pc.max()),
        trimmed=dropped[0] + dropped[1],
        trim_bounds=(float(bounds[0]), float(bounds[1])) if bounds else None,
        bin_edges=[round(float(e), 10) for e in edges],
        treated_counts=[int(c) for c in np.histogram(pt, edges)[0]],
        control_counts=[int(c) for c in np.histogram(pc, edges)[0]],
        limited=bool(extreme > LIMITED_SHARE or outside > LIMITED_SHARE),
        support=support,
        dropped_treated=dropped[0],
        dropped_control=dropped[1],
    )


def _fit(data: _Data, treatment: str, estimand: str, options: "Options") -> _Fit:
    fitted = _propensity(data, options)
    full = fitted
    analysis = data
    keep, bounds = propensity.support_mask(fitted.ps, data.a, options.support, options.trim)
    dropped = (int((~keep & (data.a == 1)).sum()), int((~keep & (data.a == 0)).sum()))
    if not keep.all():
        analysis = _subset(data, np.flatnonzero(keep))
        n_treated = int(analysis.a.sum())
        n_control = len(analysis.a) - n_treated
        if n_treated < MIN_PER_GROUP or n_control < MIN_PER_GROUP:
            raise EvaluationError(
                f"common support ({_support_words(options.support, bounds)}) leaves {n_treated} treated "
                f"and {n_control} controls (at least {MIN_PER_GROUP} of each needed)"
            )
        _require_variation(analysis)
        fitted = _propensity(analysis, options)
    weights = _weights(analysis.a, fitted.eta, estimand)
    _require_comparable(analysis.a, weights, estimand, treatment)
    full_weights = np.zeros(len(data.a))
    full_weights[np.searchsorted(data.keep, analysis.keep)] = weights
    return _Fit(
        data=analysis,
        prop=fitted,
        weights=weights,
        overlap=_overlap(data.a, full.ps, options.support, bounds, dropped),
        full_weights=full_weights,
        model=fitted.model,
        model_reason=fitted.reason or full.reason,
    )


def _support_words(support: str, bounds: tuple) -> str:
    if support == "treated":
        return f"the treated group's range {bounds[0]:.3g} to {bounds[1]:.3g}"
    return f"propensity scores in [{bounds[0]:.3g}, {bounds[1]:.3g}]"


def _require_comparable(a: np.ndarray, weights: np.ndarray, estimand: str, treatment: str) -> None:
    """Refuse only when no estimate is defensible: the weighted comparison (and, for the ATE, the
    weighted treated group) would rest on one episode (Kish effective size below MIN_EFFECTIVE).
    A small effective size above that is shown and read as a caveat, not refused."""
    treated = a == 1
    arms = [("comparison", ~treated)] + ([("treated", treated)] if estimand == "ate" else [])
    for label, rows in arms:
        size = effective_size(weights[rows])
        if size < MIN_EFFECTIVE:
            advice = (
                "ask for the effect on the treated (ATT) or restrict to common support"
                if estimand == "ate"
                else "restrict to common support; the data hold no comparison episodes like the treated ones"
            )
            raise EvaluationError(
                f"no defensible estimate: after weighting, the {label} group rests on {size:.1f} effective "
                f"episodes, in effect one person, because almost no {label} episode resembles "
                f"the other group in the covariates; {advice}"
            )


def _require_variation(data: _Data) -> None:
    if np.ptp(data.y) == 0:
        raise EvaluationError("the outcome takes one value only in the population kept by common support")
    for j, name in enumerate(data.names):
        if np.ptp(data.x[:, j]) == 0:
            raise EvaluationError(f"covariate {name!r} is constant in the population kept by common support")


# --- estimators ---------------------------------------------------------------------------------


def _naive(data: _Data) -> _Point:
    treated = data.a == 1
    return _Point(mu1=float(data.y[treated].mean()), mu0=float(data.y[~treated].mean()))


def _ipw(fit: _Fit, estimand: str) -> _Point:
    """Hájek IPW; influence functions stacked with the propensity score equations."""
    a, y, eta, z = fit.data.a, fit.data.y, fit.prop.eta, fit.prop.z
    treated = a == 1
    raw = _raw_weights(a, eta, estimand)
    w1 = np.where(treated, raw, 0.0)
    w0 = np.where(treated, 0.0, raw)
    if estimand == "ate":
        # d(1/e)/dbeta = -(1-e)/e z and d(1/(1-e))/dbeta = e/(1-e) z.
        dw1 = np.where(treated, -np.exp(-eta), 0.0)
        dw0 = np.where(treated, 0.0, np.exp(eta))
    else:
        dw1 = np.zeros_like(eta)
        dw0 = w0  # d(e/(1-e))/dbeta = e/(1-e) z
    mu1 = float(np.sum(w1 * y) / np.sum(w1))
    mu0 = float(np.sum(w0 * y) / np.sum(w0))
    psi = fit.prop.score_rows(a)  # the propensity model's estimating functions, row by row
    influences = []
    for w, dw, mu in ((w1, dw1, mu1), (w0, dw0, mu0)):
        residual = y - mu
        gradient = (dw * residual) @ z / len(y)
        # Influence of the propensity coefficients (bread @ psi) times the gradient, row by row.
        correction = psi @ (fit.prop.bread @ gradient)
        influences.append((w * residual + correction) / np.mean(w))
    return _Point(mu1=mu1, mu0=mu0, if1=influences[0], if0=influences[1])


def _aipw(fit: _Fit, estimand: str) -> _Point:
    """Augmented IPW with normalised augmentation terms; efficient influence functions."""
    data = fit.data
    a, y, eta = data.a, data.y, fit.prop.eta
    m1, m0 = _outcome_predictions(data, fit.prop.z)
    treated = a == 1
    raw = _raw_weights(a, eta, estimand)
    if estimand == "ate":
        w1 = np.where(treated, raw, 0.0)
        w0 = np.where(treated, 0.0, raw)
        r1 = np.sum(w1 * (y - m1)) / np.sum(w1)
        r0 = np.sum(w0 * (y - m0)) / np.sum(w0)
        mu1 = float(m1.mean() + r1)
        mu0 = float(m0.mean() + r0)
        if1 = (m1 - m1.mean()) + w1 * (y - m1 - r1) / np.mean(w1)
        if0 = (m0 - m0.mean()) + w0 * (y - m0 - r0) / np.mean(w0)
    else:
        share = np.mean(treated)
        w0 = np.where(treated, 0.0, raw)
        mu1 = float(y[treated].mean())
        base = float(m0[treated].mean())
        r0 = np.sum(w0 * (y - m0)) / np.sum(w0)
        mu0 = base + float(r0)
        if1 = treated * (y - mu1) / share
        if0 = treated * (m0 - base) / share + w0 * (y - m0 - r0) / np.mean(w0)
    return _Point(mu1=mu1, mu0=mu0, if1=if1, if0=if0)


def _matched(fit: _Fit, estimand: str, method: str, options: "Options") -> _Point:
    data = fit.data
    if method == "matching":
        result = matching.nearest_neighbour(
            data.a, data.y, fit.prop.eta, estimand, neighbours=options.neighbours, caliper=options.caliper
        )
    else:
        result = matching.subclassify(data.a, data.y, fit.prop.eta, estimand, subclasses=options.subclasses)
    return _Point(mu1=result.mu1, mu0=result.mu0, variance=result.variance, matched=result)


def _point(method: str, data: _Data, fit: _Fit | None, estimand: str, options: "Options") -> _Point:
    if method == "naive":
        return _naive(data)
    assert fit is not None
    if method in ("matching", "subclassification"):
        return _matched(fit, estimand, method, options)
    return _ipw(fit, estimand) if method == "ipw" else _aipw(fit, estimand)


# --- intervals and E-values ---------------------------------------------------------------------


def risk_ratio_e_value(rr: float) -> float:
    """VanderWeele & Ding (2017): the E-value of a risk ratio (protective ones inverted)."""
    if rr < 1:
        rr = 1 / rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def _e_value_of_interval(low: float, high: float) -> float:
    """E-value of the interval limit closest to the null (1 when the interval includes it)."""
    if low <= 1 <= high:
        return 1.0
    return risk_ratio_e_value(low if low > 1 else high)


def _pooled_sd(data: _Data) -> float:
    treated = data.a == 1
    n1, n0 = treated.sum(), (~treated).sum()
    v1, v0 = data.y[treated].var(ddof=1), data.y[~treated].var(ddof=1)
    return float(np.sqrt(((n1 - 1) * v1 + (n0 - 1) * v0) / (n1 + n0 - 2)))


def _bootstrap(
    method: str,
    data: _Data,
    treatment: str,
    estimand: str,
    options: Options,
    reps: int,
    seed: int,
) -> list[_Point]:
    rng = np.random.default_rng(seed)
    points = []
    failures = 0
    for _ in range(reps):
        rows = np.sort(rng.integers(0, len(data.a), len(data.a)))
        sample = _subset(data, rows)
        sample.keep = np.arange(len(rows))  # positions within the resample
        try:
            if sample.a.sum() < 2 or len(sample.a) - sample.a.sum() < 2:
                raise EvaluationError("a resample lacks treated or controls")
            fit = None if method == "naive" else _fit(sample, treatment, estimand, options)
            points.append(_point(method, sample if fit is None else fit.data, fit, estimand, options))
        except EvaluationError:
            failures += 1
    if failures > reps // 10:
        raise EvaluationError(
            f"{failures} of {reps} bootstrap resamples could not be estimated (too few treated or "
            "controls, or no comparable ones); use the sandwich interval or more data"
        )
    return points


def _summarise(
    method: str,
    estimand: str,
    treatment: str,
    outcome: str,
    data: _Data,
    analysis: _Data,
    point: _Point,
    fit: _Fit | None,
    interval: str,
    confidence: float,
    replicates: list[_Point] | None,
) -> EffectEstimate:
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    estimate = point.effect
    binary = data.binary_outcome
    treated = analysis.a == 1
    # The risk ratio on the log scale, for the binary E-value interval (delta method).
    log_rr = np.log(point.mu1 / point.mu0) if binary and point.mu1 > 0 and point.mu0 > 0 else None
    log_rr_se = None
    rr_interval: tuple[float, float] | None = None
    if replicates is not None:
        effects = np.array([p.effect for p in replicates])
        std_error = float(effects.std(ddof=1))
        alpha = (1 - confidence) / 2
        ci_low, ci_high = (float(q) for q in np.quantile(effects, [alpha, 1 - alpha]))
        if log_rr is not None:
            ratios = np.array([p.mu1 / p.mu0 for p in replicates if p.mu1 > 0 and p.mu0 > 0])
            if len(ratios):
                low, high = np.quantile(ratios, [alpha, 1 - alpha])
                rr_interval = (float(low), float(high))
    elif point.variance is not None:  # matching, subclassification: their own variance
        std_error = float(np.sqrt(point.variance))
        ci_low, ci_high = estimate - z_crit * std_error, estimate + z_crit * std_error
        if log_rr is not None:
            # The interval of the risk ratio with the comparison risk taken as known.
            low, high = (point.mu0 + ci_low) / point.mu0, (point.mu0 + ci_high) / point.mu0
            rr_interval = (max(float(low), 1e-12), max(float(high), 1e-12))
    else:
        if point.if1 is None or point.if0 is None:  # naive: Welch
            y1, y0 = analysis.y[treated], analysis.y[~treated]
            var1, var0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
            std_error = float(np.sqrt(var1 + var0))
            if log_rr is not None:
                log_rr_se = float(np.sqrt(var1 / point.mu1**2 + var0 / point.mu0**2))
        else:
            n = len(point.if1)
            std_error = float(np.sqrt(np.mean((point.if1 - point.if0) ** 2) / n))
            if log_rr is not None:
                log_rr_if = point.if1 / point.mu1 - point.if0 / point.mu0
                log_rr_se = float(np.sqrt(np.mean(log_rr_if**2) / n))
        ci_low, ci_high = estimate - z_crit * std_error, estimate + z_crit * std_error
        if log_rr is not None and log_rr_se is not None:
            rr_interval = (
                float(np.exp(log_rr - z_crit * log_rr_se)),
                float(np.exp(log_rr + z_crit * log_rr_se)),
            )

    e_value = e_value_ci = None
    if binary:
        if log_rr is not None:
            e_value = risk_ratio_e_value(float(np.exp(log_rr)))
            e_value_ci = _e_value_of_interval(*rr_interval) if rr_interval else None
    else:
        sd = _pooled_sd(analysis)
        if sd > 0:
            # Standardised mean difference d to an approximate risk ratio exp(0.91 d).
            e_value = risk_ratio_e_value(float(np.exp(0.91 * estimate / sd)))
            e_value_ci = _e_value_of_interval(
                float(np.exp(0.91 * ci_low / sd)), float(np.exp(0.91 * ci_high / sd))
            )

    weights = _balance_weights(data, fit, point)
    matched = point.matched
    return EffectEstimate(
        method=method,
        estimand=estimand,
        treatment=treatment,
        outcome=outcome,
        scale="risk difference" if binary else "mean difference",
        estimate=float(estimate),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        std_error=std_error,
        mean_treated=point.mu1,
        mean_control=point.mu0,
        n_treated=int(treated.sum()),
        n_control=int((~treated).sum()),
        n_dropped=data.n_dropped,
        balance=_balance(data, weights),
        overlap=fit.overlap if fit is not None else None,
        e_value=e_value,
        e_value_ci=e_value_ci,
        interval="abadie-imbens"
        if method == "matching"
        else ("strata" if matched and replicates is None else interval),
        confidence=confidence,
        model=fit.model if fit is not None else "",
        model_reason=fit.model_reason if fit is not None else "",
        unmatched_treated=matched.unmatched_treated if matched else 0,
        unmatched_control=matched.unmatched_control if matched else 0,
        blocks=matched.blocks if matched else 0,
        effective_treated=_effective(fit, point, 1) if fit is not None else None,
        effective_control=_effective(fit, point, 0) if fit is not None else None,
    )


def _effective(fit: _Fit, point: _Point, arm: int) -> float:
    rows = fit.data.a == arm
    weights = point.matched.weights if point.matched is not None else fit.weights
    return effective_size(weights[rows])


def _balance_weights(data: _Data, fit: _Fit | None, point: _Point) -> np.ndarray | None:
    """Weights over the complete rows for the balance table: the method's own (matching and
    subclassification weigh by how often an episode is used), 0 outside common support."""
    if fit is None:
        return None
    if point.matched is None:
        return fit.full_weights
    weights = np.zeros(len(data.a))
    weights[np.searchsorted(data.keep, fit.data.keep)] = point.matched.weights
    return weights


# --- balance ------------------------------------------------------------------------------------


def _balance(data: _Data, weights: np.ndarray | None) -> tuple[Balance, ...]:
    """Standardised mean differences; the denominator uses unweighted variances, before and after."""
    treated = data.a == 1
    rows = []
    for j, name in enumerate(data.names):
        column = data.x[:, j]
        t, c = column[treated], column[~treated]
        if data.binary_x[j]:
            pt, pc = t.mean(), c.mean()
            spread = np.sqrt((pt * (1 - pt) + pc * (1 - pc)) / 2)
        else:
            spread = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
        before = _smd(t.mean() - c.mean(), spread)
        if weights is None:
            after = before
        else:
            wt, wc = weights[treated], weights[~treated]
            after = _smd(np.sum(wt * t) / np.sum(wt) - np.sum(wc * c) / np.sum(wc), spread)
        rows.append(Balance(covariate=name, smd_before=before, smd_after=after))
    return tuple(rows)


def _smd(difference: float, spread: float) -> float:
    if spread > 0:
        return float(difference / spread)
    return 0.0 if difference == 0 else float(np.copysign(np.inf, difference))


# --- public API ---------------------------------------------------------------------------------


def _check_options(
    method: str, estimand: str, options: Options, interval: str, confidence: float, bootstrap_reps: int
) -> None:
    if method not in METHODS:
        raise EvaluationError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if estimand not in ESTIMANDS:
        raise EvaluationError(f"estimand {estimand!r}: use one of {', '.join(ESTIMANDS)}")
    if interval not in INTERVALS:
        raise EvaluationError(f"interval {interval!r}: use one of {', '.join(INTERVALS)}")
    if options.trim is not None and not 0 < options.trim < 0.5:
        raise EvaluationError(f"trim {options.trim!r}: use a propensity bound between 0 and 0.5, e.g. 0.05")
    if options.support not in propensity.SUPPORTS:
        raise EvaluationError(f"support {options.support!r}: use one of {', '.join(propensity.SUPPORTS)}")
    if options.support == "fixed" and options.trim is None:
        raise EvaluationError("support 'fixed' needs a trim bound, e.g. 0.05")
    if options.model not in propensity.MODELS:
        raise EvaluationError(
            f"propensity model {options.model!r}: use one of {', '.join(propensity.MODELS)}"
        )
    if options.terms not in propensity.TERMS:
        raise EvaluationError(f"terms {options.terms!r}: use one of {', '.join(propensity.TERMS)}")
    if not 0 < confidence < 1:
        raise EvaluationError(f"confidence {confidence!r}: use a level between 0 and 1, e.g. 0.95")
    if interval == "bootstrap" and bootstrap_reps < 20:
        raise EvaluationError(f"bootstrap_reps {bootstrap_reps}: use at least 20 (200 or more is usual)")
    if interval == "bootstrap" and method == "matching":
        raise EvaluationError(
            "the bootstrap is not valid for nearest-neighbour matching (Abadie & Imbens 2008): "
            "use the sandwich interval, which for matching is Abadie and Imbens' variance"
        )


def estimate_effect(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    method: str = "aipw",
    estimand: str = "ate",
    trim: float | None = None,
    interval: str = "sandwich",
    bootstrap_reps: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    **choices: Any,
) -> EffectEstimate:
    """The effect of `treatment` (0/1) on `outcome`, adjusted for `covariates` by `method`.

    `estimand` is "ate" (everyone) or "att" (those treated). `choices` are the fields of `Options`
    (propensity model and terms, common support, caliper, neighbours, subclasses); `trim=a` alone
    drops units whose propensity lies outside [a, 1-a] and the estimand is then that of the
    population kept (the naive comparison never drops anyone). `interval="bootstrap"` refits
    everything `bootstrap_reps` times (percentile interval, seeded by `seed`): slow, for small data
    only, and never for matching. Raises EvaluationError on bad input or where no estimate is
    defensible, saying why.
    """
    options = Options.of(trim, **choices)
    _check_options(method, estimand, options, interval, confidence, bootstrap_reps)
    data = _prepare(frame, treatment, outcome, covariates)
    fit = None if method == "naive" else _fit(data, treatment, estimand, options)
    return _estimate(
        method, estimand, treatment, outcome, data, fit, options, interval, bootstrap_reps, seed, confidence
    )


def compare_methods(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    estimand: str = "ate",
    trim: float | None = None,
    interval: str = "sandwich",
    bootstrap_reps: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    methods: Sequence[str] = METHODS,
    **choices: Any,
) -> list[EffectEstimate]:
    """Every method side by side (METHODS' order), from one propensity fit. Matching always uses its
    Abadie-Imbens interval, whatever `interval` says. A method that cannot be estimated on these data
    (no comparable episodes within the caliper, say) raises like the others."""
    options = Options.of(trim, **choices)
    _check_options("aipw", estimand, options, interval, confidence, bootstrap_reps)
    data = _prepare(frame, treatment, outcome, covariates)
    fit = _fit(data, treatment, estimand, options)
    return [
        _estimate(
            method,
            estimand,
            treatment,
            outcome,
            data,
            None if method == "naive" else fit,
            options,
            "sandwich" if method == "matching" else interval,
            bootstrap_reps,
            seed,
            confidence,
        )
        for method in methods
    ]


def _estimate(
    method: str,
    estimand: str,
    treatment: str,
    outcome: str,
    data: _Data,
    fit: _Fit | None,
    options: Options,
    interval: str,
    bootstrap_reps: int,
    seed: int,
    confidence: float,
) -> EffectEstimate:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # The naive comparison uses every complete row, unweighted.
        analysis = data if fit is None else fit.data
        point = _point(method, analysis, fit, estimand, options)
        replicates = None
        if interval == "bootstrap":
            replicates = _bootstrap(method, data, treatment, estimand, options, bootstrap_reps, seed)
        return _summarise(
            method, estimand, treatment, outcome, data, analysis, point, fit, interval, confidence, replicates
        )


def propensity_weights(
    frame: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    estimand: str = "ate",
    trim: float | None = None,
    **choices: Any,
) -> pd.Series:
    """Hájek weights aligned with `frame`: NaN for rows missing the treatment or a covariate,
    0 for units outside common support (for weighted survival curves and `balance_table`)."""
    options = Options.of(trim, **choices)
    _check_options("ipw", estimand, options, "sandwich", 0.95, 200)
    data = _prepare(_with_dummy_outcome(frame), treatment, _DUMMY_OUTCOME, covariates)
    fit = _fit(data, treatment, estimand, options)
    out = np.full(len(frame), np.nan)
    out[data.keep] = fit.full_weights
    return pd.Series(out, index=frame.index, name="weight")


# Balance and weights need no outcome: a dummy one, never missing and never constant, stands in.
_DUMMY_OUTCOME = "__no_outcome__"


def _with_dummy_outcome(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{_DUMMY_OUTCOME: np.arange(len(frame)) % 2})


def balance_table(
    frame: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    weights: Sequence[float] | np.ndarray | pd.Series | None,
) -> tuple[Balance, ...]:
    """Standardised mean differences of the (one-hot encoded) covariates, unweighted and with
    `weights` (aligned with `frame`'s rows; None for unweighted only).

    SMD = (mean_t - mean_c) / sqrt((s2_t + s2_c) / 2), with p(1-p) as the variance of a 0/1
    covariate. The denominator always uses the unweighted variances of the complete rows, so
    before and after differ only in their numerators. Rows missing the treatment, a covariate or
    a weight are left out; weights of 0 (trimmed units) count for nothing after weighting.
    """
    if weights is None:
        w = None
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(frame),):
            raise EvaluationError(f"weights: expected {len(frame)} values, one per row, got {w.shape}")
        if (w[~np.isnan(w)] < 0).any():
            raise EvaluationError("weights must not be negative")
    extended = _with_dummy_outcome(frame)
    if w is not None:
        extended[_DUMMY_OUTCOME] = np.where(np.isnan(w), np.nan, extended[_DUMMY_OUTCOME])
    data = _prepare(extended, treatment, _DUMMY_OUTCOME, covariates)
    if w is None:
        return _balance(data, None)
    kept = w[data.keep]
    treated = data.a == 1
    if kept[treated].sum() <= 0 or kept[~treated].sum() <= 0:
        raise EvaluationError("weights: every treated or every control row has weight 0")
    return _balance(data, kept)


@dataclass(frozen=True)
class Scores:
    """Doubly robust scores of every complete row, to average over subgroups (as grf's subset
    average treatment effects do): the nuisance models are fitted once, on everyone.

    ATE: psi_i = m1 - m0 + a (y - m1) / e - (1 - a)(y - m0) / (1 - e), and the effect of a group g
    is the mean of psi over g. ATT: psi_i = a (y - m0) - (1 - a) e/(1 - e) (y - m0), and the effect
    of g is the sum of psi over g divided by g's treated. Both have influence functions from which
    the variance is the usual mean of squares."""

    estimand: str
    psi: np.ndarray
    a: np.ndarray
    keep: np.ndarray  # positions in the frame of these rows
    binary_outcome: bool
    y: np.ndarray

    def effect(self, rows: np.ndarray) -> tuple[float, float]:
        """(effect, standard error) over the rows selected by the boolean `rows` (over `keep`)."""
        psi, a = self.psi[rows], self.a[rows]
        if self.estimand == "ate":
            n = len(psi)
            tau = float(psi.mean())
            return tau, float(np.sqrt(np.mean((psi - tau) ** 2) / n))
        treated = float(a.sum())
        tau = float(psi.sum() / treated)
        influence = (psi - a * tau) / (treated / len(psi))
        return tau, float(np.sqrt(np.mean(influence**2) / len(psi)))


def doubly_robust_scores(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    estimand: str = "ate",
    trim: float | None = None,
    **choices: Any,
) -> Scores:
    """The doubly robust scores of every complete row (see `Scores`), from one propensity fit and
    one outcome model per arm; rows outside common support are left out."""
    options = Options.of(trim, **choices)
    _check_options("aipw", estimand, options, "sandwich", 0.95, 200)
    data = _prepare(frame, treatment, outcome, covariates)
    fit = _fit(data, treatment, estimand, options)
    analysis = fit.data
    a, y, eta = analysis.a, analysis.y, fit.prop.eta
    m1, m0 = _outcome_predictions(analysis, fit.prop.z)
    treated = a == 1
    raw = _raw_weights(a, eta, estimand)
    if estimand == "ate":
        psi = m1 - m0 + np.where(treated, raw * (y - m1), -raw * (y - m0))
    else:
        psi = np.where(treated, y - m0, -raw * (y - m0))
    return Scores(
        estimand=estimand, psi=psi, a=a, keep=analysis.keep, binary_outcome=analysis.binary_outcome, y=y
    )
