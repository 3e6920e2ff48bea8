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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recoverybridge.evaluation.errors import EvaluationError

METHODS = ("naive", "ipw", "aipw")
ESTIMANDS = ("ate", "att")
INTERVALS = ("sandwich", "bootstrap")
# Fewer than this many treated or control rows and no estimate is attempted.
MIN_PER_GROUP = 10
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

    @property
    def effect(self) -> float:
        return self.mu1 - self.mu0


@dataclass
class _Fit:
    """One propensity fit, shared by the methods that need it."""

    data: _Data  # the analysis sample (after trimming)
    z: np.ndarray  # standardised design with intercept, analysis sample
    ps: np.ndarray
    weights: np.ndarray  # Hájek weights, analysis sample
    bread: np.ndarray  # inverse Hessian of the propensity log-likelihood, per row
    overlap: Overlap
    full_weights: np.ndarray  # weights over the complete rows, 0 for trimmed units


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


def _standardised_design(x: np.ndarray) -> np.ndarray:
    """Intercept plus centred and scaled covariates: the same model, better conditioned."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.empty((x.shape[0], x.shape[1] + 1))
    z[:, 0] = 1.0
    np.subtract(x, mean, out=z[:, 1:])
    z[:, 1:] /= scale
    return z


def _expit(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-eta))


def _logistic(z: np.ndarray, y: np.ndarray, max_iter: int = 30, tol: float = 1e-9) -> tuple[np.ndarray, bool]:
    """Newton-Raphson (IRLS) for a logistic regression: (fitted probabilities, converged)."""
    beta = np.zeros(z.shape[1])
    mean = y.mean()
    beta[0] = np.log(mean / (1 - mean))
    for _ in range(max_iter):
        eta = np.clip(z @ beta, -35.0, 35.0)
        p = _expit(eta)
        hessian = (z * (p * (1 - p))[:, None]).T @ z
        try:
            step = np.linalg.solve(hessian, z.T @ (y - p))
        except np.linalg.LinAlgError:
            return p, False
        beta += step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            return _expit(np.clip(z @ beta, -35.0, 35.0)), True
    return _expit(np.clip(z @ beta, -35.0, 35.0)), False


def _check_rank(z: np.ndarray, names: list[str]) -> None:
    gram = z.T @ z / len(z)
    eigenvalues = np.linalg.eigvalsh(gram)
    if eigenvalues[0] < 1e-10 * max(eigenvalues[-1], 1.0):
        raise EvaluationError(
            f"the covariates are collinear (one is a combination of others): {', '.join(names)}"
        )


def _separating_covariate(data: _Data) -> str | None:
    """A single covariate whose values alone tell treated from controls, if there is one."""
    treated = data.a == 1
    for j, name in enumerate(data.names):
        column = data.x[:, j]
        t, c = column[treated], column[~treated]
        if data.binary_x[j]:
            # Quasi-complete: everyone with (or without) the attribute in one group.
            for value in (0.0, 1.0):
                having = column == value
                if having.any() and np.ptp(data.a[having]) == 0:
                    return name
        elif t.max() < c.min() or c.max() < t.min():
            return name
    return None


def _propensity(data: _Data, treatment: str) -> tuple[np.ndarray, np.ndarray]:
    z = _standardised_design(data.x)
    _check_rank(z, data.names)
    ps, converged = _logistic(z, data.a)
    if not converged or ps.min() < 1e-12 or ps.max() > 1 - 1e-12:
        culprit = _separating_covariate(data)
        where = f" ({culprit!r} alone tells them apart)" if culprit else ""
        raise EvaluationError(
            f"perfect separation: the covariates predict {treatment!r} exactly{where}, so some "
            "propensity scores are 0 or 1; drop or coarsen that covariate or restrict the data"
        )
    return z, ps


def _outcome_predictions(data: _Data, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted outcome for every row under treatment and under control (one model per arm)."""
    predictions = []
    for arm in (1.0, 0.0):
        rows = data.a == arm
        if data.binary_outcome:
            # A separated outcome model only pushes predictions towards 0 or 1, which is harmless.
            beta = _logistic_coefficients(z[rows], data.y[rows])
            predictions.append(_expit(np.clip(z @ beta, -35.0, 35.0)))
        else:
            beta, *_ = np.linalg.lstsq(z[rows], data.y[rows], rcond=None)
            predictions.append(z @ beta)
    return predictions[0], predictions[1]


def _logistic_coefficients(z: np.ndarray, y: np.ndarray, max_iter: int = 25) -> np.ndarray:
    beta = np.zeros(z.shape[1])
    mean = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta[0] = np.log(mean / (1 - mean))
    for _ in range(max_iter):
        p = _expit(np.clip(z @ beta, -35.0, 35.0))
        hessian = (z * (p * (1 - p))[:, None]).T @ z
        step = np.linalg.lstsq(hessian, z.T @ (y - p), rcond=None)[0]
        beta += step
        if np.max(np.abs(step)) < 1e-9 * (1 + np.max(np.abs(beta))):
            break
    return beta


def _weights(a: np.ndarray, ps: np.ndarray, estimand: str) -> np.ndarray:
    """Hájek weights: each group's weights sum to its size."""
    if estimand == "ate":
        raw = np.where(a == 1, 1 / ps, 1 / (1 - ps))
    else:
        raw = np.where(a == 1, 1.0, ps / (1 - ps))
    treated = a == 1
    out = np.empty_like(raw)
    out[treated] = raw[treated] * treated.sum() / raw[treated].sum()
    out[~treated] = raw[~treated] * (~treated).sum() / raw[~treated].sum()
    return out


def _overlap(a: np.ndarray, ps: np.ndarray, trimmed: int, trim: float | None) -> Overlap:
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
        trimmed=trimmed,
        trim_bounds=(trim, 1 - trim) if trim is not None else None,
        bin_edges=[round(float(e), 10) for e in edges],
        treated_counts=[int(c) for c in np.histogram(pt, edges)[0]],
        control_counts=[int(c) for c in np.histogram(pc, edges)[0]],
        limited=bool(extreme > LIMITED_SHARE or outside > LIMITED_SHARE),
    )


def _fit(data: _Data, treatment: str, estimand: str, trim: float | None) -> _Fit:
    z, ps = _propensity(data, treatment)
    full_ps = ps
    trimmed = 0
    analysis = data
    if trim is not None:
        inside = (ps >= trim) & (ps <= 1 - trim)
        trimmed = int(np.sum(~inside))
        if trimmed:
            analysis = _subset(data, np.flatnonzero(inside))
            n_treated = int(analysis.a.sum())
            n_control = len(analysis.a) - n_treated
            if n_treated < MIN_PER_GROUP or n_control < MIN_PER_GROUP:
                raise EvaluationError(
                    f"trimming to propensity scores in [{trim:g}, {1 - trim:g}] leaves {n_treated} treated "
                    f"and {n_control} controls (at least {MIN_PER_GROUP} of each needed)"
                )
            _require_variation(analysis)
            z, ps = _propensity(analysis, treatment)
    weights = _weights(analysis.a, ps, estimand)
    full_weights = np.zeros(len(data.a))
    full_weights[np.searchsorted(data.keep, analysis.keep)] = weights
    # Per-row inverse Hessian of the mean log-likelihood, for the M-estimation correction.
    hessian = (z * (ps * (1 - ps))[:, None]).T @ z / len(ps)
    return _Fit(
        data=analysis,
        z=z,
        ps=ps,
        weights=weights,
        bread=np.linalg.inv(hessian),
        overlap=_overlap(data.a, full_ps, trimmed, trim),
        full_weights=full_weights,
    )


def _require_variation(data: _Data) -> None:
    if np.ptp(data.y) == 0:
        raise EvaluationError("the outcome takes one value only in the trimmed population")
    for j, name in enumerate(data.names):
        if np.ptp(data.x[:, j]) == 0:
            raise EvaluationError(f"covariate {name!r} is constant in the trimmed population")


# --- estimators ---------------------------------------------------------------------------------


def _naive(data: _Data) -> _Point:
    treated = data.a == 1
    return _Point(mu1=float(data.y[treated].mean()), mu0=float(data.y[~treated].mean()))


def _ipw(fit: _Fit, estimand: str) -> _Point:
    """Hájek IPW; influence functions stacked with the propensity score equations."""
    a, y, ps, z = fit.data.a, fit.data.y, fit.ps, fit.z
    treated = a == 1
    if estimand == "ate":
        w1 = np.where(treated, 1 / ps, 0.0)
        w0 = np.where(treated, 0.0, 1 / (1 - ps))
        # Derivatives of the weights with respect to the propensity coefficients, per row:
        # d(1/e)/dbeta = -(1-e)/e z and d(1/(1-e))/dbeta = e/(1-e) z.
        dw1 = np.where(treated, -(1 - ps) / ps, 0.0)
        dw0 = np.where(treated, 0.0, ps / (1 - ps))
    else:
        w1 = treated.astype(float)
        w0 = np.where(treated, 0.0, ps / (1 - ps))
        dw1 = np.zeros_like(ps)
        dw0 = w0  # d(e/(1-e))/dbeta = e/(1-e) z
    mu1 = float(np.sum(w1 * y) / np.sum(w1))
    mu0 = float(np.sum(w0 * y) / np.sum(w0))
    residual_a = a - ps  # the propensity score equations are z * (a - e), row by row
    influences = []
    for w, dw, mu in ((w1, dw1, mu1), (w0, dw0, mu0)):
        residual = y - mu
        gradient = (dw * residual) @ z / len(y)
        # Influence of the propensity coefficients (bread @ score) times the gradient, row by row.
        correction = residual_a * (z @ (fit.bread @ gradient))
        influences.append((w * residual + correction) / np.mean(w))
    return _Point(mu1=mu1, mu0=mu0, if1=influences[0], if0=influences[1])


def _aipw(fit: _Fit, estimand: str) -> _Point:
    """Augmented IPW with normalised augmentation terms; efficient influence functions."""
    data = fit.data
    a, y, ps = data.a, data.y, fit.ps
    m1, m0 = _outcome_predictions(data, fit.z)
    treated = a == 1
    if estimand == "ate":
        w1 = np.where(treated, 1 / ps, 0.0)
        w0 = np.where(treated, 0.0, 1 / (1 - ps))
        r1 = np.sum(w1 * (y - m1)) / np.sum(w1)
        r0 = np.sum(w0 * (y - m0)) / np.sum(w0)
        mu1 = float(m1.mean() + r1)
        mu0 = float(m0.mean() + r0)
        if1 = (m1 - m1.mean()) + w1 * (y - m1 - r1) / np.mean(w1)
        if0 = (m0 - m0.mean()) + w0 * (y - m0 - r0) / np.mean(w0)
    else:
        share = np.mean(treated)
        w0 = np.where(treated, 0.0, ps / (1 - ps))
        mu1 = float(y[treated].mean())
        base = float(m0[treated].mean())
        r0 = np.sum(w0 * (y - m0)) / np.sum(w0)
        mu0 = base + float(r0)
        if1 = treated * (y - mu1) / share
        if0 = treated * (m0 - base) / share + w0 * (y - m0 - r0) / np.mean(w0)
    return _Point(mu1=mu1, mu0=mu0, if1=if1, if0=if0)


def _point(method: str, data: _Data, fit: _Fit | None, estimand: str) -> _Point:
    if method == "naive":
        return _naive(data)
    assert fit is not None
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
    trim: float | None,
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
            fit = None if method == "naive" else _fit(sample, treatment, estimand, trim)
            points.append(_point(method, sample if fit is None else fit.data, fit, estimand))
        except EvaluationError:
            failures += 1
    if failures > reps // 10:
        raise EvaluationError(
            f"{failures} of {reps} bootstrap resamples could not be estimated (separation or too "
            "few treated or controls); use the sandwich interval or more data"
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

    weights = fit.full_weights if fit is not None else None
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
        interval=interval,
        confidence=confidence,
    )


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
    method: str, estimand: str, trim: float | None, interval: str, confidence: float, bootstrap_reps: int
) -> None:
    if method not in METHODS:
        raise EvaluationError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if estimand not in ESTIMANDS:
        raise EvaluationError(f"estimand {estimand!r}: use one of {', '.join(ESTIMANDS)}")
    if interval not in INTERVALS:
        raise EvaluationError(f"interval {interval!r}: use one of {', '.join(INTERVALS)}")
    if trim is not None and not 0 < trim < 0.5:
        raise EvaluationError(f"trim {trim!r}: use a propensity bound between 0 and 0.5, e.g. 0.05")
    if not 0 < confidence < 1:
        raise EvaluationError(f"confidence {confidence!r}: use a level between 0 and 1, e.g. 0.95")
    if interval == "bootstrap" and bootstrap_reps < 20:
        raise EvaluationError(f"bootstrap_reps {bootstrap_reps}: use at least 20 (200 or more is usual)")


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
) -> EffectEstimate:
    """The effect of `treatment` (0/1) on `outcome`, adjusted for `covariates` by `method`.

    `estimand` is "ate" (everyone) or "att" (those treated). With `trim=a` units whose propensity
    lies outside [a, 1-a] are dropped first and the estimand is that of the trimmed population
    (the naive comparison is never trimmed). `interval="bootstrap"` refits everything
    `bootstrap_reps` times (percentile interval, seeded by `seed`): slow, for small data only.
    Raises EvaluationError on bad input.
    """
    _check_options(method, estimand, trim, interval, confidence, bootstrap_reps)
    data = _prepare(frame, treatment, outcome, covariates)
    fit = None if method == "naive" else _fit(data, treatment, estimand, trim)
    return _estimate(
        method, estimand, treatment, outcome, data, fit, trim, interval, bootstrap_reps, seed, confidence
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
) -> list[EffectEstimate]:
    """Naive, IPW and AIPW estimates side by side (in that order), from one propensity fit."""
    _check_options("aipw", estimand, trim, interval, confidence, bootstrap_reps)
    data = _prepare(frame, treatment, outcome, covariates)
    fit = _fit(data, treatment, estimand, trim)
    return [
        _estimate(
            method,
            estimand,
            treatment,
            outcome,
            data,
            None if method == "naive" else fit,
            trim,
            interval,
            bootstrap_reps,
            seed,
            confidence,
        )
        for method in METHODS
    ]


def _estimate(
    method: str,
    estimand: str,
    treatment: str,
    outcome: str,
    data: _Data,
    fit: _Fit | None,
    trim: float | None,
    interval: str,
    bootstrap_reps: int,
    seed: int,
    confidence: float,
) -> EffectEstimate:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # The naive comparison uses every complete row, untrimmed and unweighted.
        analysis = data if fit is None else fit.data
        point = _point(method, analysis, fit, estimand)
        replicates = None
        if interval == "bootstrap":
            replicates = _bootstrap(
                method, data, treatment, estimand, None if fit is None else trim, bootstrap_reps, seed
            )
        return _summarise(
            method, estimand, treatment, outcome, data, analysis, point, fit, interval, confidence, replicates
        )


def propensity_weights(
    frame: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    estimand: str = "ate",
    trim: float | None = None,
) -> pd.Series:
    """Hájek weights aligned with `frame`: NaN for rows missing the treatment or a covariate,
    0 for trimmed units (for weighted survival curves and `balance_table`)."""
    _check_options("ipw", estimand, trim, "sandwich", 0.95, 200)
    data = _prepare(_with_dummy_outcome(frame), treatment, _DUMMY_OUTCOME, covariates)
    fit = _fit(data, treatment, estimand, trim)
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
