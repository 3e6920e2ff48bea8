"""Statistical disclosure control: the one step every aggregate passes before it leaves a care team.

The rule (issue 6, configurable through ``settings.EVALUATION_SUPPRESSION``):

1. Primary suppression. A count from 1 to ``threshold`` (default 7) is released as "*". Zero is
   released as 0: an empty cell says nothing about a person.
2. Rounding. Every other count, margins included, is rounded to the nearest multiple of
   ``rounding`` (default 5), halves upward (only possible with an even base). Margins are rounded
   from the true totals, not summed from rounded cells, so rounded cells need not add up to
   rounded totals. Rounding is deterministic: the same table always releases the same values.
3. Secondary suppression. A table with margins is a set of additive lines: each row (cells and
   its row total), each column (cells and its column total), and the margins themselves (the
   row totals add up to the grand total, and so do the column totals). In 1-D the cells and the
   total are one line. A line is unsafe when it holds exactly one "*" (that cell is its total
   minus the others, up to the rounding slack), or when its total is shown and its hidden cells
   sum to less than their number plus the threshold: every "*" is at least 1 (zeros are shown
   and never picked), so m hidden cells summing to S each lie in 1..S-m+1, and a small S - m
   would pin them when the other cells are known exactly (as exact rates make them, below).
   In an unsafe line the smallest other non-zero entry is suppressed too (ties: the first in
   table order, cells before the total). Each new "*" may make another line unsafe, so this
   repeats until every line is safe: a fixed point, reached because suppression only grows.

Rates. ``suppress_rates`` releases a rate (a percentage to ``decimals`` places) only when its
numerator, its complement (denominator minus numerator) and its denominator are all released
as numbers; otherwise the rate is "*". The rate is computed from the released (rounded) counts:
a rate from the exact counts, with the denominator known to within the rounding, would give the
exact numerator back and undo the rounding. The hidden cells are protected by the suppression
pattern: the numerator and its complement form a row whose total is the denominator, so a hidden
numerator always brings a second "*" in its row and in its column. ``tests/evaluation/test_suppression.py`` checks this with integer
linear programming: given everything released, including the rates and the overall rate, no
count from 1 to the threshold can be pinned down.

What this does not cover: differencing between releases over overlapping populations (e.g. two
periods or two nested areas released separately) can still expose small counts; reports should
release fixed, non-overlapping breakdowns.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recoverybridge.evaluation.errors import EvaluationError

SUPPRESSED = "*"
DEFAULT_THRESHOLD = 7
DEFAULT_ROUNDING = 5


@dataclass(frozen=True)
class SuppressionRule:
    """Counts 1..threshold become "*", others are rounded to the nearest multiple of `rounding`."""

    threshold: int = DEFAULT_THRESHOLD
    rounding: int = DEFAULT_ROUNDING

    def __post_init__(self) -> None:
        if int(self.threshold) != self.threshold or self.threshold < 0:
            raise EvaluationError(f"suppression threshold must be a whole number ≥ 0, not {self.threshold!r}")
        if int(self.rounding) != self.rounding or self.rounding < 1:
            raise EvaluationError(f"suppression rounding must be a whole number ≥ 1, not {self.rounding!r}")

    @classmethod
    def from_settings(cls) -> "SuppressionRule":
        """The rule in ``settings.EVALUATION_SUPPRESSION``; the defaults outside Django or when unset."""
        from django.conf import settings

        config: dict[str, Any] = {}
        if settings.configured:
            config = dict(getattr(settings, "EVALUATION_SUPPRESSION", None) or {})
        unknown = set(config) - {"threshold", "rounding"}
        if unknown:
            raise EvaluationError(f"EVALUATION_SUPPRESSION has unknown keys: {', '.join(sorted(unknown))}")
        return cls(
            threshold=config.get("threshold", DEFAULT_THRESHOLD),
            rounding=config.get("rounding", DEFAULT_ROUNDING),
        )

    def is_small(self, counts: np.ndarray) -> np.ndarray:
        """Where a count must be hidden for itself (primary suppression)."""
        counts = np.asarray(counts)
        return (counts >= 1) & (counts <= self.threshold)

    def round(self, counts: np.ndarray) -> np.ndarray:
        """Counts rounded to the nearest multiple of the base, halves upward."""
        counts = np.asarray(counts, dtype=np.int64)
        base = self.rounding
        return ((2 * counts + base) // (2 * base)) * base


def resolve_rule(
    rule: SuppressionRule | None = None, *, threshold: int | None = None, rounding: int | None = None
) -> SuppressionRule:
    """Explicit threshold/rounding win over `rule`, which wins over the settings."""
    base = rule if rule is not None else SuppressionRule.from_settings()
    return SuppressionRule(
        threshold=base.threshold if threshold is None else threshold,
        rounding=base.rounding if rounding is None else rounding,
    )


def _total_label() -> str:
    from django.conf import settings

    if settings.configured:
        from django.utils.translation import gettext

        return gettext("Total")
    return "Total"


def _as_counts(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.isnan(array).any():
        raise EvaluationError(f"{what} has missing values; counts must be whole numbers ≥ 0")
    if (array < 0).any():
        raise EvaluationError(f"{what} has negative counts")
    if (array != np.floor(array)).any():
        raise EvaluationError(f"{what} has counts that are not whole numbers")
    return array.astype(np.int64)


def secondary_suppression(
    values: np.ndarray, hidden: np.ndarray, lines: Sequence[np.ndarray], protection: int
) -> np.ndarray:
    """Grow `hidden` until every line is safe (see the module docstring).

    `values` and `hidden` are flat arrays over every released entry (cells and margins); each
    line is an array of positions into them, in table order with its total last.
    """
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for line in lines:
            line_hidden = hidden[line]
            count = int(line_hidden.sum())
            if count == 0:
                continue
            cells_hidden = line_hidden[:-1]
            total_shown = not line_hidden[-1]
            if count > 1 and not (total_shown and values[line[:-1]][cells_hidden].sum() - count < protection):
                continue
            candidates = line[~line_hidden & (values[line] > 0)]
            if candidates.size == 0:  # cannot happen: the total includes the hidden counts
                continue
            hidden[candidates[np.argmin(values[candidates])]] = True
            changed = True
    return hidden


def _release(values: np.ndarray, hidden: np.ndarray, rule: SuppressionRule) -> np.ndarray:
    released = rule.round(values).astype(object)
    released[hidden] = SUPPRESSED
    return released


def suppress_counts(
    counts: "pd.Series | Sequence[int] | np.ndarray",
    *,
    total: bool = True,
    rule: SuppressionRule | None = None,
    threshold: int | None = None,
    rounding: int | None = None,
    total_label: str | None = None,
) -> pd.Series:
    """A 1-D table of counts as released: ints (rounded) and "*", with the total last if `total`.

    Without a total there is no line to derive a hidden cell from, so only primary suppression
    applies; release the total elsewhere and the cells must come through here with `total=True`.
    """
    rule = resolve_rule(rule, threshold=threshold, rounding=rounding)
    series = counts if isinstance(counts, pd.Series) else pd.Series(list(counts))
    values = _as_counts(series.to_numpy(), "the counts")
    index = list(series.index)
    lines: list[np.ndarray] = []
    if total:
        values = np.append(values, values.sum())
        index.append(total_label if total_label is not None else _total_label())
        lines.append(np.arange(values.size))
    hidden = secondary_suppression(values, rule.is_small(values), lines, rule.threshold)
    return pd.Series(_release(values, hidden, rule), index=index, name=series.name, dtype=object)


def _table_lines(rows: int, cols: int) -> list[np.ndarray]:
    """Rows and columns of a (rows x cols) table laid out flat, the last row and column the margins."""
    grid = np.arange(rows * cols).reshape(rows, cols)
    return [grid[i, :] for i in range(rows)] + [grid[:, j] for j in range(cols)]


def suppress_table(
    counts: pd.DataFrame,
    *,
    margins: bool = True,
    rule: SuppressionRule | None = None,
    threshold: int | None = None,
    rounding: int | None = None,
    total_label: str | None = None,
) -> pd.DataFrame:
    """A 2-D table of counts (cells only) as released, with a total row and column if `margins`.

    The result holds ints (rounded counts) and "*" (object dtype), ready for a template or CSV.
    """
    rule = resolve_rule(rule, threshold=threshold, rounding=rounding)
    cells = _as_counts(counts.to_numpy(), "the table")
    index, columns = list(counts.index), list(counts.columns)
    if margins:
        label = total_label if total_label is not None else _total_label()
        with_rows = np.column_stack([cells, cells.sum(axis=1)])
        cells = np.vstack([with_rows, with_rows.sum(axis=0)])
        index.append(label)
        columns.append(label)
    rows, cols = cells.shape
    flat = cells.reshape(-1)
    lines = _table_lines(rows, cols) if margins else []
    hidden = secondary_suppression(flat, rule.is_small(flat), lines, rule.threshold)
    released = _release(flat, hidden, rule).reshape(rows, cols)
    return pd.DataFrame(released, index=index, columns=columns, dtype=object)


def suppress_rates(
    units: "pd.Index | Sequence[Any]",
    n: "Sequence[int] | np.ndarray | pd.Series",
    events: "Sequence[int] | np.ndarray | pd.Series",
    *,
    decimals: int = 1,
    rule: SuppressionRule | None = None,
    threshold: int | None = None,
    rounding: int | None = None,
    total_label: str | None = None,
) -> pd.DataFrame:
    """Per unit: `n` and `events` as released and `percent` (100·events/n to `decimals` places).

    The counts go through ``suppress_table`` as a units x (events, others) table with margins, so
    a hidden numerator takes its complement and another unit's numerator with it; `percent` is
    "*" unless events, others and n are all released as numbers, and None where n is 0. The last
    row is the total (its percent is the overall rate); leaving it out of a display is safe.
    """
    rule = resolve_rule(rule, threshold=threshold, rounding=rounding)
    n_values = _as_counts(np.asarray(n), "n")
    event_values = _as_counts(np.asarray(events), "events")
    if n_values.shape != event_values.shape or len(units) != n_values.size:
        raise EvaluationError("units, n and events must have the same length")
    if (event_values > n_values).any():
        raise EvaluationError("events exceed n for some units")
    table = pd.DataFrame({"events": event_values, "others": n_values - event_values}, index=list(units))
    released = suppress_table(table, margins=True, rule=rule, total_label=total_label)
    n_released = released[released.columns[-1]]
    n_all = np.append(n_values, n_values.sum())
    shown = (
        (released["events"] != SUPPRESSED).to_numpy()
        & (released["others"] != SUPPRESSED).to_numpy()
        & (n_released != SUPPRESSED).to_numpy()
    )
    # From the released counts, never the exact ones: a rate shows nothing its counts do not.
    released_events = np.array([v if v != SUPPRESSED else 0 for v in released["events"]], dtype=float)
    released_n = np.array([v if v != SUPPRESSED else 0 for v in n_released], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = np.round(100 * released_events / released_n, decimals)
    percent_released = np.where(shown, percent, SUPPRESSED).astype(object)
    percent_released[shown] = percent[shown].tolist()
    percent_released[(n_all == 0) | (shown & (released_n == 0))] = None
    return pd.DataFrame(
        {"n": n_released.to_numpy(), "events": released["events"].to_numpy(), "percent": percent_released},
        index=released.index,
        dtype=object,
    )


# --- How finely an estimate may be shown --------------------------------------------------------

# A released figure moves by at least this many people's worth per step (see `resolution`).
PEOPLE_PER_STEP = 2
# The steps a released figure may be rounded to, finest first.
STEPS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0)


def resolution(n_released: int, unit: float, rule: SuppressionRule, finest: float = STEPS[0]) -> float:
    """The finest step a figure resting on a group released as `n_released` may be shown at.

    One person more or fewer in a group of n moves a share (or the mean of a whole-number score) by
    about unit/n. Shown to a step of at least twice that, the figure is consistent with every size
    the rounded n could stand for and, whatever the size, with at least two counts behind it (an
    interval of 2/n holds two whole numbers), so it can neither undo the rounding nor, with the other
    figures, pin the count it rests on. The group is taken at the smallest size its rounded count
    allows, so the step itself says nothing the released count does not.
    """
    smallest = max(int(n_released) - rule.rounding // 2, 1)
    needed = max(PEOPLE_PER_STEP * unit / smallest, finest)
    return next((step for step in STEPS if step >= needed - 1e-12), STEPS[-1])


def on_step(value: float, step: float) -> float:
    """`value` rounded to a multiple of `step` (halves away from zero), without float dust."""
    multiple = np.floor(abs(value) / step + 0.5) * np.sign(value)
    return float(round(multiple * step, 10)) + 0.0  # no "-0"


def decimals_of(step: float) -> int:
    """How many decimals show multiples of `step` exactly (0.05 -> 2, 5 -> 0)."""
    text = f"{step:.10f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


# --- Counts of a second breakdown of the same people: bands ----------------------------------------

# Lower ends of the bands a breakdown's counts are shown in, outside a care team.
BAND_EDGES = (
    8,
    20,
    50,
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
)


def band(count: int, rule: SuppressionRule) -> tuple[int, int | None] | str:
    """A count as a band (lowest, highest or None for "or more"), "*" for 1..threshold, or "0".

    The cohort's own tables round counts to the nearest `rounding`. A second breakdown of the same
    people (subgroups, propensity bins, FAMA levels, dose bands) rounded the same way would let a
    reader add its rounded cells up and intersect the result with the first table's rounded totals,
    which can pin a total, and then a cell, exactly. Bands are too wide for that: a sum of bands
    says less than the rounded totals already do."""
    if count == 0:
        return "0"
    if count <= rule.threshold:
        return SUPPRESSED
    edges = [max(edge, rule.threshold + 1) for edge in BAND_EDGES]
    for low, high in itertools.pairwise(edges):
        if count < high:
            return low, high - 1
    return edges[-1], None
