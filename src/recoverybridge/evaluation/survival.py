"""Time to return to use or readmission: Kaplan-Meier curves and Cox hazard ratios.

Kaplan-Meier and the Cox fit itself come from lifelines. Two things are done here instead:

- Weighted Kaplan-Meier (e.g. inverse probability weights from `evaluation.estimators`):
  lifelines reads weights as frequency weights, so Greenwood intervals would shrink with the
  weights' scale. Each group's weights are rescaled to sum to their Kish effective sample size
  ((sum w)^2 / sum w^2): the curve is unchanged and the pointwise intervals reflect the
  information the weighted sample really holds (an approximation; a bootstrap is the exact way).
- The robust (sandwich, Lin-Wei) variance of a weighted Cox fit: lifelines' own loops over
  rows in Python, which takes minutes at 100,000 episodes. It is computed here from Breslow
  score residuals with cumulative sums over the distinct days, exactly as lifelines would
  apart from how tied days are ordered (tests compare the two on a small frame).

Shared helpers for the other analyses (`complete_rows`, `design_matrix`, `binary_values`)
live here too, so every analysis drops and counts incomplete rows the same way.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from scipy import stats

from recoverybridge.charts import (
    STYLES,
    WIDTH,
    Frame,
    legend_rows,
    line,
    nice_ticks,
    polyline,
    stroke,
    text_lines,
    wrap,
)
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.frame import BY_NAME, label

CURVE_POINTS = 200
MAX_GROUPS = 12
Z95 = float(stats.norm.ppf(0.975))

ALL_EPISODES = _("All episodes")
GROUP_YES = _("%(column)s: yes")
GROUP_NO = _("%(column)s: no")
DAYS_AXIS = _("Days")
SURVIVAL_AXIS = _("Still without the event (%)")

# ---------------------------------------------------------------------------------------------
# Shared input checks and design matrices.


def require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise EvaluationError(f"column not in the data: {', '.join(missing)}")


def row_weights(frame: pd.DataFrame, weights: "str | np.ndarray | pd.Series | None") -> np.ndarray | None:
    """Weights aligned to the frame's rows (a column name or an array), checked; None when unweighted."""
    if weights is None:
        return None
    if isinstance(weights, str):
        require_columns(frame, [weights])
        values = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
    else:
        values = np.asarray(weights, dtype=float)
        if values.shape != (len(frame),):
            raise EvaluationError(f"weights: expected one per row ({len(frame)}), got shape {values.shape}")
    if np.any(values[~np.isnan(values)] < 0) or np.any(np.isinf(values)):
        raise EvaluationError("weights: must be finite and not negative")
    return values


def complete_rows(frame: pd.DataFrame, columns: Sequence[str], extra: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask of rows with every column (and `extra`, e.g. weights) present."""
    mask = frame[list(columns)].notna().all(axis=1).to_numpy() if columns else np.ones(len(frame), bool)
    if extra is not None:
        mask &= ~np.isnan(extra)
    return mask


def binary_values(values: pd.Series, name: str) -> np.ndarray:
    """A 0/1 column as floats; anything else is an error naming the column."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any() or not numeric.isin((0, 1)).all():
        raise EvaluationError(f"{name}: must hold only 0 and 1")
    return numeric.to_numpy(dtype=float)


def is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Covariates as float columns: categories one-hot (first level dropped), constant columns dropped."""
    parts: list[pd.DataFrame] = []
    for name in covariates:
        values = frame[name]
        if is_categorical(values) and not pd.api.types.is_bool_dtype(values):
            dummies = pd.get_dummies(values.astype("category"), prefix=name, prefix_sep="=", dtype=float)
            dummies = dummies.loc[:, dummies.sum() > 0].iloc[:, 1:]
            parts.append(dummies)
        else:
            parts.append(values.astype(float).to_frame(name))
    if not parts:
        return pd.DataFrame(index=frame.index)
    matrix = pd.concat(parts, axis=1)
    varying = matrix.columns[matrix.nunique() > 1]
    return matrix[varying]


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier.


@dataclass(frozen=True)
class SurvivalAt:
    days: int
    survival: float | None  # None: nobody in the group was followed this long
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Curve:
    """Step points of a survival curve (at most `CURVE_POINTS`), ready to draw."""

    times: tuple[float, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]


@dataclass(frozen=True)
class SurvivalGroup:
    value: str
    label: str
    n: int
    events: int
    median: float | None  # None: half the group had not had the event by the end of follow-up
    at: tuple[SurvivalAt, ...]
    curve: Curve


@dataclass(frozen=True)
class KaplanMeier:
    duration: str
    event: str
    group: str | None
    weighted: bool
    n: int
    n_dropped: int
    times: tuple[int, ...]
    groups: tuple[SurvivalGroup, ...]


def _group_levels(values: pd.Series, name: str) -> list[tuple[object, str]]:
    """(value, label) of each group, in order; a binary column always has both."""
    column = BY_NAME.get(name)
    numeric = pd.to_numeric(values, errors="coerce") if not is_categorical(values) else None
    is_binary = (column is not None and column.binary) or (
        numeric is not None and len(numeric) > 0 and numeric.isin((0, 1)).all()
    )
    if is_binary:
        if numeric is None or not numeric.isin((0, 1)).all():
            raise EvaluationError(f"{name}: must hold only 0 and 1")
        for level in (0.0, 1.0):
            if not (numeric == level).any():
                raise EvaluationError(f"{name}: no rows with value {level:g}")
        column_label = label(name)
        return [(0.0, GROUP_NO % {"column": column_label}), (1.0, GROUP_YES % {"column": column_label})]
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = [level for level in values.cat.categories if (values == level).any()]
    else:
        levels = sorted(values.unique().tolist(), key=str)
    if not levels:
        raise EvaluationError(f"{name}: no rows")
    if len(levels) > MAX_GROUPS:
        raise EvaluationError(f"{name}: {len(levels)} groups, at most {MAX_GROUPS} can be compared")
    return [(level, str(level)) for level in levels]


def _downsample(count: int) -> np.ndarray:
    if count <= CURVE_POINTS:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, CURVE_POINTS)).astype(int))


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _fit_group(
    durations: np.ndarray,
    events: np.ndarray,
    weights: np.ndarray | None,
    value: object,
    group_label: str,
    times: Sequence[int],
) -> SurvivalGroup:
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter()
    if weights is None:
        fitter.fit(durations, events, label="km")
    else:
        total = weights.sum()
        if total <= 0:
            raise EvaluationError(f"weights: all zero in the group {group_label}")
        effective = total**2 / np.square(weights).sum()
        with warnings.catch_warnings():
            # The weights are rescaled to the effective sample size on purpose (module docstring).
            warnings.simplefilter("ignore")
            fitter.fit(durations, events, weights=weights * (effective / total), label="km")
    timeline = fitter.survival_function_.index.to_numpy(dtype=float)
    survival = fitter.survival_function_["km"].to_numpy(dtype=float)
    bounds = fitter.confidence_interval_survival_function_.to_numpy(dtype=float)
    lower = np.where(np.isnan(bounds[:, 0]), survival, bounds[:, 0])
    upper = np.where(np.isnan(bounds[:, 1]), survival, bounds[:, 1])

    followed = float(durations.max())
    at = []
    for days in times:
        if days > followed:
            at.append(SurvivalAt(int(days), None, None, None))
            continue
        i = int(np.searchsorted(timeline, days, side="right")) - 1
        at.append(SurvivalAt(int(days), float(survival[i]), float(lower[i]), float(upper[i])))

    median = float(fitter.median_survival_time_)
    keep = _downsample(len(timeline))
    return SurvivalGroup(
        value=str(value),
        label=group_label,
        n=len(durations),
        events=int(events.sum()),
        median=median if math.isfinite(median) else None,
        at=tuple(at),
        curve=Curve(
            times=_floats(timeline[keep]),
            survival=_floats(survival[keep]),
            lower=_floats(lower[keep]),
            upper=_floats(upper[keep]),
        ),
    )


def kaplan_meier(
    frame: pd.DataFrame,
    duration: str = "days_to_event",
    event: str = "event",
    group: str | None = "peer_bridged",
    weights: "str | np.ndarray | pd.Series | None" = None,
    times: Sequence[int] = (30, 90, 180, 365),
) -> KaplanMeier:
    """Kaplan-Meier survival per group, with 95% pointwise intervals (lifelines' log(-log) Greenwood)."""
    require_columns(frame, [duration, event, *([group] if group else [])])
    if any(days < 0 for days in times):
        raise EvaluationError("times: must not be negative")
    w = row_weights(frame, weights)
    keep = complete_rows(frame, [duration, event, *([group] if group else [])], w)
    data = frame.loc[keep]
    if data.empty:
        raise EvaluationError(f"{duration}: no rows with a duration, an event and a group")
    durations = pd.to_numeric(data[duration], errors="coerce").to_numpy(dtype=float)
    if np.isnan(durations).any() or (durations < 0).any():
        raise EvaluationError(f"{duration}: must be numbers of days, not negative")
    events = binary_values(data[event], event)
    w_kept = None if w is None else w[keep]

    if group is None:
        levels: list[tuple[object, str]] = [(None, str(ALL_EPISODES))]
        masks = [np.ones(len(data), bool)]
    else:
        levels = _group_levels(data[group], group)
        values = data[group]
        if not is_categorical(values):
            values = pd.to_numeric(values)
        masks = [(values == level).to_numpy() for level, _label in levels]

    groups = tuple(
        _fit_group(
            durations[mask],
            events[mask],
            None if w_kept is None else w_kept[mask],
            "all" if level is None else level,
            str(group_label),
            times,
        )
        for (level, group_label), mask in zip(levels, masks, strict=True)
    )
    return KaplanMeier(
        duration=duration,
        event=event,
        group=group,
        weighted=w is not None,
        n=len(data),
        n_dropped=len(frame) - len(data),
        times=tuple(int(t) for t in times),
        groups=groups,
    )


# ---------------------------------------------------------------------------------------------
# Cox proportional hazards.


@dataclass(frozen=True)
class HazardRatio:
    treatment: str
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    events: int
    n_dropped: int
    # "unadjusted": treatment only; "adjusted": covariates in the model; "weighted": weighted
    # (e.g. inverse probability weights) with a robust variance, covariates as well if given.
    method: str
    covariates: tuple[str, ...]


def _robust_variance(
    x: np.ndarray,
    durations: np.ndarray,
    events: np.ndarray,
    weights: np.ndarray,
    beta: np.ndarray,
    information_inverse: np.ndarray,
) -> np.ndarray:
    """Lin-Wei sandwich variance from Breslow score residuals, vectorised over the distinct times."""
    day, at_day = np.unique(durations, return_inverse=True)
    count = len(day)
    risk = weights * np.exp(x @ beta)
    # Sums over everyone still at risk on each distinct day (reverse cumulative sums).
    s0 = np.bincount(at_day, weights=risk, minlength=count)[::-1].cumsum()[::-1]
    s1 = np.column_stack(
        [np.bincount(at_day, weights=risk * x[:, j], minlength=count) for j in range(x.shape[1])]
    )[::-1].cumsum(axis=0)[::-1]
    x_bar = s1 / s0[:, None]
    hazard = np.bincount(at_day, weights=weights * events, minlength=count) / s0
    cumulative_hazard = hazard.cumsum()
    cumulative_x_hazard = (x_bar * hazard[:, None]).cumsum(axis=0)
    phi = np.exp(x @ beta)
    residuals = events[:, None] * (x - x_bar[at_day]) - phi[:, None] * (
        x * cumulative_hazard[at_day, None] - cumulative_x_hazard[at_day]
    )
    influence = (weights[:, None] * residuals) @ information_inverse
    return influence.T @ influence


def cox(
    frame: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str] = (),
    duration: str = "days_to_event",
    event: str = "event",
    weights: "np.ndarray | pd.Series | str | None" = None,
) -> HazardRatio:
    """The treatment's hazard ratio from a Cox model (lifelines, Efron ties), with its 95% interval."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    covariates = tuple(covariates)
    if treatment in covariates:
        raise EvaluationError(f"covariates: {treatment} is the treatment")
    require_columns(frame, [treatment, duration, event, *covariates])
    w = row_weights(frame, weights)
    columns = [treatment, duration, event, *covariates]
    keep = complete_rows(frame, columns, w)
    data = frame.loc[keep, columns]
    if data.empty:
        raise EvaluationError(f"{treatment}: no rows with the treatment, outcome and every covariate")
    treated = binary_values(data[treatment], treatment)
    if treated.min() == treated.max():
        raise EvaluationError(f"{treatment}: every row has the value {treated[0]:g}; nothing to compare")
    durations = pd.to_numeric(data[duration], errors="coerce").to_numpy(dtype=float)
    if np.isnan(durations).any() or (durations < 0).any():
        raise EvaluationError(f"{duration}: must be numbers of days, not negative")
    events = binary_values(data[event], event)
    if events.sum() == 0:
        raise EvaluationError(f"{event}: no events, so there is no hazard to compare")

    adjusters = design_matrix(data, covariates)
    x = np.column_stack([treated, adjusters.to_numpy(dtype=float)])
    w_kept = None if w is None else w[keep]
    if w_kept is not None and w_kept.sum() <= 0:
        raise EvaluationError("weights: all zero")
    # One float block: lifelines copies and consolidates its input several times.
    extra = [durations, events] + ([w_kept] if w_kept is not None else [])
    model = pd.DataFrame(
        np.column_stack([x, *extra]),
        columns=[
            "__treatment__",
            *adjusters.columns,
            "__duration__",
            "__event__",
            *(["__weight__"] if w_kept is not None else []),
        ],
    )
    fitter = CoxPHFitter()
    try:
        with warnings.catch_warnings():
            # lifelines warns that non-integer weights need a robust variance: it is computed below.
            warnings.simplefilter("ignore")
            fitter.fit(
                model,
                duration_col="__duration__",
                event_col="__event__",
                weights_col="__weight__" if w_kept is not None else None,
                # Durations are whole days, so a million episodes share a few hundred distinct
                # times: lifelines' batch mode then takes seconds where its row mode takes minutes.
                batch_mode=True if len(np.unique(durations)) < len(durations) / 2 else None,
            )
    except ConvergenceError as error:
        raise EvaluationError(
            f"covariates: the Cox model did not converge ({', '.join(covariates) or treatment})"
        ) from error

    beta = fitter.params_.to_numpy(dtype=float)
    if w_kept is None:
        se = float(fitter.standard_errors_["__treatment__"])
    else:
        variance = _robust_variance(
            x,
            durations,
            events,
            w_kept,
            beta,
            fitter.variance_matrix_.to_numpy(dtype=float),
        )
        se = float(np.sqrt(variance[0, 0]))
    log_hr = float(beta[0])
    method = "weighted" if w_kept is not None else ("adjusted" if covariates else "unadjusted")
    return HazardRatio(
        treatment=treatment,
        hazard_ratio=math.exp(log_hr),
        ci_low=math.exp(log_hr - Z95 * se),
        ci_high=math.exp(log_hr + Z95 * se),
        p_value=float(2 * stats.norm.sf(abs(log_hr / se))),
        n=len(data),
        events=int(events.sum()),
        n_dropped=len(frame) - len(data),
        method=method,
        covariates=covariates,
    )


# ---------------------------------------------------------------------------------------------
# The Kaplan-Meier chart.

# Drawn in the chart kit's frame, at its scale (recoverybridge.charts.text): 360 units wide, text
# 14. The plot is tall enough for the y axis title in one line.
PLOT_HEIGHT = 240


def render_km_svg(km: KaplanMeier, title: str, desc: str, chart_id: str = "km") -> SafeString:
    """Step curves as an inline <svg> (role="img", title, desc); the legend is drawn inside it.

    Groups differ by colour and dash pattern, never colour alone; presentation attributes only
    (no style attributes or scripts, for the CSP). No counts are drawn: the page's table shows
    them after suppression.
    """
    last_day = max([1.0, *(g.curve.times[-1] for g in km.groups if g.curve.times)])
    x_ticks = nice_ticks(0, last_day, most=5)
    frame = Frame(
        chart_id,
        title,
        desc,
        css_class="chart km-chart",
        plot_height=PLOT_HEIGHT,
        y_title=str(SURVIVAL_AXIS),
        y_ticks=[(percent / 100, str(percent)) for percent in (0, 25, 50, 75, 100)],
        y_range=(0, 1),
        x_range=(0, max(x_ticks[-1], last_day)),
        x_title=str(DAYS_AXIS),
    )
    # The legend under the x axis title: one group a row, long names wrapped.
    legend_lines = [wrap(group.label, WIDTH - frame.left - 40 - 4) for group in km.groups]
    baselines, height = legend_rows(legend_lines, frame.below_axes)
    out = []
    for index, group in enumerate(km.groups):
        colour, dash, _shape = STYLES[index % len(STYLES)]
        steps: list[tuple[float, float]] = []
        for day, survival in zip(group.curve.times, group.curve.survival, strict=True):
            x, y = frame.x_of(day), frame.y_of(survival)
            if steps:
                steps.append((x, steps[-1][1]))
            steps.append((x, y))
        out.append(f'<g class="chart-series" data-series="{index}">')
        if len(steps) > 1:
            out.append(polyline(steps, stroke(colour, 2.5, dash)))
        out.append("</g>")
        y = baselines[index]
        out.append(line(frame.left, frame.left + 32, y - 5, y - 5, stroke(colour, 2.5, dash)))
        out.append(text_lines(legend_lines[index], frame.left + 40, y, f' fill="{colour}"'))
    return frame.svg(out, height, [(tick, f"{tick:g}") for tick in x_ticks])
