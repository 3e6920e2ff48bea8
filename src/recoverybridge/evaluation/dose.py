"""Dose-response of mutual-aid participation: more meetings a week, fewer days of use?

Three linear models fitted by least squares with heteroscedasticity-robust (HC1) errors, all
adjusted for the same covariates:

- the slope: outcome on dose and covariates, the change per extra meeting a week;
- the bands (none, over 0 up to 1, over 1 up to 3, over 3 meetings a week by default; the dose
  is a mean over weeks, so bands must leave no gaps between whole numbers): a band (low, high)
  holds doses above `low` up to `high`, the first band from `low` itself, a band (v, v) the dose
  v only and (low, None) everything above `low`. Outcome on one indicator per band and the
  covariates centred at their means. Each band's coefficient is then its mean outcome had
  everyone had the covariate mix of the whole cohort (marginal standardisation, which for a
  linear model without interactions is the same as g-computation);
- a non-linearity check: the slope model plus restricted cubic spline terms of the dose
  (knots at the 5th, 35th, 65th and 95th centiles, Harrell's default), with a robust Wald test
  that the spline terms are all zero. Skipped (None) when the dose has too few distinct values.

An association, not an effect: people choose how many meetings they go to, and the covariates
can only adjust for what was measured.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _
from scipy import stats

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.frame import COVARIATES
from recoverybridge.evaluation.propensity import spline_terms
from recoverybridge.evaluation.survival import Z95, complete_rows, design_matrix, require_columns

# Peer bridging both raises attendance and lowers use, so it is adjusted for by default.
DEFAULT_COVARIATES = ("peer_bridged", *(column.name for column in COVARIATES))
DEFAULT_BANDS: tuple[tuple[float, float | None], ...] = ((0, 0), (0, 1), (1, 3), (3, None))
SPLINE_CENTILES = (5, 35, 65, 95)

BAND_ONE = _("%(low)s")
BAND_RANGE = _("%(low)s\u2013%(high)s")
BAND_OPEN = _("%(low)s or more")
BAND_ABOVE_RANGE = _("over %(low)s, up to %(high)s")
BAND_ABOVE = _("over %(low)s")


@dataclass(frozen=True)
class DoseBand:
    label: str
    low: float
    high: float | None  # None: no upper limit
    n: int
    # None when no one's dose falls in the band.
    adjusted_mean: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class DoseResponse:
    dose: str
    outcome: str
    covariates: tuple[str, ...]
    slope: float  # outcome units per unit of dose, adjusted
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    n_dropped: int
    bands: tuple[DoseBand, ...]
    # Robust Wald test that a restricted cubic spline adds nothing to the straight line.
    nonlinearity_p: float | None


def _number(value: float) -> str:
    return f"{value:g}"


def band_label(low: float, high: float | None, first: bool = True) -> str:
    """A band's name; bands after the first start strictly above `low` (see the module docstring)."""
    values = {"low": _number(low), "high": _number(high) if high is not None else ""}
    if high == low:
        return str(BAND_ONE % values)
    if high is None:
        return str((BAND_OPEN if first else BAND_ABOVE) % values)
    return str((BAND_RANGE if first else BAND_ABOVE_RANGE) % values)


def _check_bands(bands: Sequence[tuple[float, float | None]]) -> None:
    if not bands:
        raise EvaluationError("bands: at least one band is needed")
    previous_high: float | None = None
    for index, (low, high) in enumerate(bands):
        if high is not None and high < low:
            raise EvaluationError(f"bands: band {index + 1} ends ({high:g}) before it starts ({low:g})")
        point = high == low
        if index and (previous_high is None or low < previous_high or (point and low == previous_high)):
            raise EvaluationError(f"bands: band {index + 1} overlaps the one before; list them in order")
        previous_high = high


def _band_masks(amount: np.ndarray, bands: Sequence[tuple[float, float | None]]) -> list[np.ndarray]:
    masks = []
    for index, (low, high) in enumerate(bands):
        if high == low:
            masks.append(amount == low)
            continue
        above = amount >= low if index == 0 else amount > low
        masks.append(above & (amount <= (np.inf if high is None else high)))
    return masks


def ols_hc1(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and their HC1 (robust) covariance, from the normal equations.

    statsmodels' OLS gives the same numbers (the tests compare them) but spends seconds on a
    pseudo-inverse at a million rows; columns are scaled first to keep the equations well
    conditioned, and a design that is too close to collinear is refused.
    """
    n, p = x.shape
    if n <= p:
        raise EvaluationError(f"covariates: {n} rows are too few for {p} model terms")
    scale = np.sqrt(np.square(x).mean(axis=0))
    scale[scale == 0] = 1.0
    scaled = x / scale
    cross = scaled.T @ scaled
    if np.linalg.cond(cross) > 1e12:
        raise EvaluationError("covariates: some are (nearly) combinations of others or of the dose")
    bread = np.linalg.inv(cross)
    coefficients = bread @ (scaled.T @ y)
    residuals = y - scaled @ coefficients
    meat = (scaled * np.square(residuals)[:, None]).T @ scaled
    covariance = bread @ meat @ bread * (n / (n - p))
    return coefficients / scale, covariance / np.outer(scale, scale)


def _nonlinearity_p(y: np.ndarray, dose: np.ndarray, adjusters: np.ndarray) -> float | None:
    knots = np.unique(np.percentile(dose, SPLINE_CENTILES))
    if len(knots) < 3:
        return None
    splines = spline_terms(dose, knots)
    params, cov = ols_hc1(y, np.column_stack([splines, dose, adjusters]))
    k = splines.shape[1]
    b, v = params[:k], cov[:k, :k]
    try:
        statistic = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return None
    return float(stats.chi2.sf(statistic, k))


def dose_response(
    frame: pd.DataFrame,
    dose: str = "meetings_per_week",
    outcome: str = "days_used_6m",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    bands: Sequence[tuple[float, float | None]] = DEFAULT_BANDS,
    nonlinearity: bool = True,
) -> DoseResponse:
    """The adjusted slope of outcome on dose, adjusted band means, and a test of non-linearity."""
    covariates = tuple(covariates)
    if dose in covariates or outcome in covariates or dose == outcome:
        raise EvaluationError("covariates: dose, outcome and covariates must be different columns")
    _check_bands(bands)
    require_columns(frame, [dose, outcome, *covariates])
    keep = complete_rows(frame, [dose, outcome, *covariates])
    data = frame.loc[keep]
    if data.empty:
        raise EvaluationError(f"{dose}: no rows with the dose, the outcome and every covariate")
    for name in (dose, outcome):
        if not pd.api.types.is_numeric_dtype(data[name]) or isinstance(data[name].dtype, pd.CategoricalDtype):
            raise EvaluationError(f"{name}: must be numbers")
    amount = data[dose].to_numpy(dtype=float)
    if amount.min() == amount.max():
        raise EvaluationError(f"{dose}: every row has the same dose, {amount[0]:g}; nothing to compare")
    y = data[outcome].to_numpy(dtype=float)
    adjusters = design_matrix(data, covariates).to_numpy(dtype=float)
    centred = adjusters - adjusters.mean(axis=0)

    ones = np.ones((len(data), 1))
    params, cov = ols_hc1(y, np.column_stack([amount, ones, centred]))
    slope, slope_se = float(params[0]), float(np.sqrt(cov[0, 0]))

    in_band = _band_masks(amount, bands)
    filled = [index for index, mask in enumerate(in_band) if mask.any()]
    means: dict[int, tuple[float, float]] = {}
    if filled:
        rows = np.logical_or.reduce([in_band[i] for i in filled])
        indicators = np.column_stack([in_band[i][rows] for i in filled]).astype(float)
        band_params, band_cov = ols_hc1(y[rows], np.column_stack([indicators, centred[rows]]))
        means = {
            index: (float(band_params[k]), float(np.sqrt(band_cov[k, k]))) for k, index in enumerate(filled)
        }
    results = []
    for index, (low, high) in enumerate(bands):
        found = means.get(index)
        results.append(
            DoseBand(
                label=band_label(low, high, first=index == 0),
                low=float(low),
                high=None if high is None else float(high),
                n=int(in_band[index].sum()),
                adjusted_mean=found[0] if found else None,
                ci_low=found[0] - Z95 * found[1] if found else None,
                ci_high=found[0] + Z95 * found[1] if found else None,
            )
        )

    return DoseResponse(
        dose=dose,
        outcome=outcome,
        covariates=covariates,
        slope=slope,
        ci_low=slope - Z95 * slope_se,
        ci_high=slope + Z95 * slope_se,
        p_value=float(2 * stats.norm.sf(abs(slope / slope_se))),
        n=len(data),
        n_dropped=len(frame) - len(data),
        bands=tuple(results),
        nonlinearity_p=_nonlinearity_p(y, amount, np.column_stack([ones, centred])) if nonlinearity else None,
    )
