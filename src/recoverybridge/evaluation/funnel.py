"""Funnel plots of referral rates by unit (worker, team, service, area): which differences are real.

Each unit's rate y = events / n is plotted against n around the overall rate p0 = Σ events / Σ n,
with control limits that narrow as n grows.

Exact limits (Spiegelhalter 2005, "Funnel plots for comparing institutional performance",
Stat Med 24:1185, appendix A.1.1): for a tail probability p, r_p is the p-quantile of
Binomial(n, p0) (the smallest r with F(r) >= p), and the limit is interpolated between the
integers: alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)), limit = (r_p - alpha) / n, clipped to
[0, 1]. The 95% limits use p = 0.025 and 0.975, the 99.8% limits p = 0.001 and 0.999. A unit is
outside a limit when its rate is strictly beyond it.

Over-dispersion (Spiegelhalter 2005, "Handling over-dispersion of performance indicators",
Qual Saf Health Care 14:347; Spiegelhalter et al. 2012, JRSS A 175:1): z_i = (y_i - p0) / s_i with
s_i² = p0(1 - p0) / n_i; the z-scores are Winsorised at the 10th and 90th percentiles (linear
interpolation between order statistics, as numpy's and R's default quantile); phi = (1/I) Σ z_w².
When I·phi > I - 1 the units are over-dispersed, and an additive random effect
tau² = max(0, (I·phi - (I - 1)) / (Σ w_i - Σ w_i² / Σ w_i)), w_i = 1 / s_i², widens the limits to
p0 ± z_alpha · sqrt(s_i² + tau²) (normal approximation, as in the paper). Otherwise tau² = 0.

Outliers are the units outside the 99.8% limits in use (the adjusted ones when over-dispersed,
else the exact ones); "watch" are the units outside the 95% limits in use but not outliers.

Input rows with a missing unit or a missing indicator (NaN: the question does not apply, see
`evaluation.frame`) are dropped and counted in `Funnel.dropped`; units with n = 0 (e.g. unused
categories) are left out and listed in `Funnel.excluded`.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from scipy.stats import binom, norm

from recoverybridge.charts import (
    AXIS_COLOUR,
    BLUE,
    FONT_SIZE,
    INK,
    LINE_HEIGHT,
    RUST,
    SLATE,
    WIDTH,
    Frame,
    fmt,
    halo,
    legend_rows,
    line,
    nice_ticks,
    polyline,
    stroke,
    text_lines,
    text_width,
    wrap,
)
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.suppression import SUPPRESSED, SuppressionRule, suppress_rates

# Two-sided coverage of the limits and the tail probabilities that make them.
LEVELS = {"95": 0.95, "998": 0.998}
POSITIONS = ("above_998", "above_95", "inside", "below_95", "below_998")
GRID_POINTS = 200


def exact_limits(n: "np.ndarray | Sequence[int]", p0: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Spiegelhalter's interpolated exact binomial (lower, upper) limits for each n at `level`."""
    sizes = np.asarray(n, dtype=float)
    tail = (1 - level) / 2
    return _exact_limit(sizes, p0, tail), _exact_limit(sizes, p0, 1 - tail)


def _exact_limit(n: np.ndarray, p0: float, p: float) -> np.ndarray:
    if p0 <= 0 or p0 >= 1:
        return np.full(n.shape, float(p0))
    r = binom.ppf(p, n, p0)
    at_r = binom.cdf(r, n, p0)
    below_r = binom.cdf(r - 1, n, p0)
    step = at_r - below_r
    alpha = np.divide(at_r - p, step, out=np.zeros_like(step), where=step > 0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def normal_limits(n: np.ndarray, p0: float, level: float, tau2: float) -> tuple[np.ndarray, np.ndarray]:
    """p0 ± z_alpha · sqrt(p0(1 - p0)/n + tau²), clipped to [0, 1]."""
    z_alpha = norm.ppf(1 - (1 - level) / 2)
    half = z_alpha * np.sqrt(p0 * (1 - p0) / np.asarray(n, dtype=float) + tau2)
    return np.clip(p0 - half, 0.0, 1.0), np.clip(p0 + half, 0.0, 1.0)


def overdispersion(
    n: np.ndarray, events: np.ndarray, p0: float, winsor: float = 0.1
) -> tuple[np.ndarray, float, float, bool]:
    """(z-scores, phi, tau², over-dispersed?) from Winsorised z-scores (see the module docstring)."""
    n = np.asarray(n, dtype=float)
    units = n.size
    if not 0 <= winsor < 0.5:
        raise EvaluationError(f"winsor must be in [0, 0.5), not {winsor!r}")
    if units == 0 or p0 <= 0 or p0 >= 1:
        return np.zeros(units), 0.0, 0.0, False
    variance = p0 * (1 - p0) / n
    z = (np.asarray(events, dtype=float) / n - p0) / np.sqrt(variance)
    low, high = np.quantile(z, [winsor, 1 - winsor])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    overdispersed = units >= 2 and units * phi > units - 1
    tau2 = 0.0
    if overdispersed:
        w = 1 / variance
        tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return z, phi, float(tau2), bool(overdispersed)


def _positions(rate: np.ndarray, limits: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    lower_95, upper_95 = limits["95"]
    lower_998, upper_998 = limits["998"]
    return np.select(
        [rate > upper_998, rate > upper_95, rate < lower_998, rate < lower_95],
        ["above_998", "above_95", "below_998", "below_95"],
        default="inside",
    )


@dataclass(frozen=True)
class Funnel:
    """A funnel plot's numbers.

    `units`: one row per unit with n > 0, in unit order, columns
      unit, n, events, rate, z,
      lower_95, upper_95, lower_998, upper_998 (exact limits at the unit's n),
      adj_lower_95, adj_upper_95, adj_lower_998, adj_upper_998 (p0 ± z·sqrt(s² + tau²)),
      exact, adjusted (where the rate falls against each set: one of POSITIONS),
      position (against the limits in use), outlier, watch (bools).
    `curves`: the limits over a grid of n for drawing: n and the same eight limit columns.
    """

    units: pd.DataFrame
    curves: pd.DataFrame
    p0: float
    total_n: int
    total_events: int
    phi: float
    tau2: float
    overdispersed: bool
    winsor: float
    excluded: tuple[Any, ...] = ()
    dropped: int = 0

    @property
    def limits_in_use(self) -> str:
        """The limits that decide outliers: "adjusted" when over-dispersed, else "exact"."""
        return "adjusted" if self.overdispersed else "exact"

    @property
    def outliers(self) -> pd.DataFrame:
        return self.units[self.units["outlier"]]

    @property
    def watch(self) -> pd.DataFrame:
        return self.units[self.units["watch"]]


def funnel(frame: pd.DataFrame, unit: str, indicator: str, *, winsor: float = 0.1) -> Funnel:
    """The funnel of `indicator` (0/1 per episode row) by `unit`."""
    for column in (unit, indicator):
        if column not in frame.columns:
            raise EvaluationError(
                f"no column {column!r} in the data (columns: {', '.join(map(str, frame.columns))})"
            )
    values = frame[indicator]
    if values.dtype != bool:
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna() & values.notna()
        bad |= numeric.notna() & ~numeric.isin([0, 1])
        if bad.any():
            raise EvaluationError(
                f"column {indicator!r} must hold 0 or 1 (or be missing); found {values[bad].iloc[0]!r}"
            )
        values = numeric
    keep = values.notna() & frame[unit].notna()
    dropped = int((~keep).sum())
    data = pd.DataFrame({"unit": frame[unit], "event": values.astype(float)})
    if dropped:
        data = data[keep.to_numpy()]
    grouped = data.groupby("unit", observed=False, sort=True)["event"]
    counts = grouped.agg(["size", "sum"])
    return _build(counts.index, counts["size"].to_numpy(), counts["sum"].to_numpy(), winsor, dropped)


def funnel_from_counts(
    units: "Sequence[Any] | pd.Index | np.ndarray",
    n: "Sequence[int] | np.ndarray | pd.Series",
    events: "Sequence[int] | np.ndarray | pd.Series",
    *,
    winsor: float = 0.1,
) -> Funnel:
    """The funnel from counts already aggregated: one unit, its n and its events per position."""
    labels = pd.Index(list(units))
    sizes = np.asarray(n, dtype=float)
    hits = np.asarray(events, dtype=float)
    if not (labels.size == sizes.size == hits.size) or sizes.ndim != 1 or hits.ndim != 1:
        raise EvaluationError("units, n and events must be flat and of the same length")
    if labels.hasnans or labels.has_duplicates:
        raise EvaluationError("units must be distinct and not missing")
    for name, array in (("n", sizes), ("events", hits)):
        if np.isnan(array).any() or (array != np.floor(array)).any():
            raise EvaluationError(f"{name} must be whole numbers")
        if (array < 0).any():
            raise EvaluationError(f"{name} has negative counts")
    if (hits > sizes).any():
        raise EvaluationError(f"events exceed n for unit {labels[np.argmax(hits > sizes)]!r}")
    return _build(labels, sizes, hits, winsor, 0)


def _build(labels: pd.Index, n: np.ndarray, events: np.ndarray, winsor: float, dropped: int) -> Funnel:
    empty = n == 0
    excluded = tuple(labels[empty])
    labels, n, events = labels[~empty], n[~empty].astype(np.int64), events[~empty].astype(np.int64)
    total_n, total_events = int(n.sum()), int(events.sum())
    if total_n == 0:
        raise EvaluationError("no episodes to compare")
    p0 = total_events / total_n
    rate = events / n
    z, phi, tau2, overdispersed = overdispersion(n, events, p0, winsor)

    def limit_columns(sizes: np.ndarray) -> tuple[dict[str, np.ndarray], dict, dict]:
        exact = {key: exact_limits(sizes, p0, level) for key, level in LEVELS.items()}
        adjusted = {key: normal_limits(sizes, p0, level, tau2) for key, level in LEVELS.items()}
        columns: dict[str, np.ndarray] = {}
        for prefix, limits in (("", exact), ("adj_", adjusted)):
            for key, (lower, upper) in limits.items():
                columns[f"{prefix}lower_{key}"] = lower
                columns[f"{prefix}upper_{key}"] = upper
        return columns, exact, adjusted

    columns, exact, adjusted = limit_columns(n)
    exact_position = _positions(rate, exact)
    adjusted_position = _positions(rate, adjusted)
    position = adjusted_position if overdispersed else exact_position
    units = pd.DataFrame(
        {
            "unit": labels,
            "n": n,
            "events": events,
            "rate": rate,
            "z": z,
            **columns,
            "exact": exact_position,
            "adjusted": adjusted_position,
            "position": position,
            "outlier": np.isin(position, ["above_998", "below_998"]),
            "watch": np.isin(position, ["above_95", "below_95"]),
        }
    )
    grid = np.unique(np.round(np.geomspace(max(1, n.min()), max(n.max(), 2), GRID_POINTS)).astype(np.int64))
    curves = pd.DataFrame({"n": grid, **limit_columns(grid)[0]})
    return Funnel(
        units=units,
        curves=curves,
        p0=p0,
        total_n=total_n,
        total_events=total_events,
        phi=phi,
        tau2=tau2,
        overdispersed=overdispersed,
        winsor=winsor,
        excluded=excluded,
        dropped=dropped,
    )


# --- Release outside a care team -------------------------------------------------------------


@dataclass(frozen=True)
class ReleasedFunnel:
    """The funnel's table as it may be shown outside a care team.

    `table`: one row per unit then the total, columns unit, n, events (released: ints or "*"),
    percent (float, "*" or None), position, outlier, watch ("*" where the percent is hidden: a
    unit's place against the limits would narrow down its count). `hidden_units`: the units to
    leave out of the drawing.
    """

    table: pd.DataFrame
    hidden_units: tuple[Any, ...]


def release_funnel(
    funnel: Funnel, rule: SuppressionRule | None = None, *, decimals: int = 1
) -> ReleasedFunnel:
    """Suppress the funnel's counts and rates (``suppression.suppress_rates``); `rule` from settings if None."""
    units = funnel.units
    released = suppress_rates(units["unit"], units["n"], units["events"], decimals=decimals, rule=rule)
    released = released.reset_index(names="unit")
    hidden = (released["percent"] == SUPPRESSED).to_numpy()[:-1]
    for column in ("position", "outlier", "watch"):
        values = units[column].to_numpy().astype(object)
        values[hidden] = SUPPRESSED
        released[column] = [*values.tolist(), None]
    return ReleasedFunnel(table=released, hidden_units=tuple(units["unit"][hidden]))


# --- Drawing ------------------------------------------------------------------------------------

# Drawn in the chart kit's frame, at its scale (recoverybridge.charts.text): 360 units wide, text 14.
PLOT_HEIGHT = 220
TARGET_COLOUR = INK
LIMIT_95_COLOUR = BLUE
LIMIT_998_COLOUR = RUST
INSIDE_COLOUR = SLATE
WATCH_COLOUR = BLUE
OUTLIER_COLOUR = RUST
MAX_LABELS = 12
MIN_RATE_SPAN = 0.02


def _percent(value: float) -> str:
    """A rate as a percentage, with as many decimals (up to two) as it needs: 0.25%, 1%, 12.5%."""
    return f"{100 * value:.2f}".rstrip("0").rstrip(".")


def _point(kind: str, x: float, y: float) -> str:
    if kind == "inside":
        return f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="3" fill="none"{stroke(INSIDE_COLOUR, 1.5)}/>'
    if kind == "watch":
        return f'<rect x="{fmt(x - 4)}" y="{fmt(y - 4)}" width="8" height="8" fill="{WATCH_COLOUR}"/>'
    points = f"{fmt(x)},{fmt(y - 6)} {fmt(x - 6)},{fmt(y + 4)} {fmt(x + 6)},{fmt(y + 4)}"
    return f'<polygon points="{points}" fill="{OUTLIER_COLOUR}"/>'


def fitted_range(
    low: float, high: float, most: int, floor: float | None = None, ceiling: float | None = None
) -> list[float]:
    """Round ticks around the data's own range (not from 0), padded by a twentieth each side."""
    pad = (high - low) / 20 if high > low else max(abs(high) / 10, 1e-3)
    low, high = low - pad, high + pad
    if floor is not None:
        low = max(low, floor)
    if ceiling is not None:
        high = min(high, ceiling)
    ticks = nice_ticks(low, high, most)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    first = ticks[0] - step if ticks[0] > low else ticks[0]
    last = ticks[-1] + step if ticks[-1] < high else ticks[-1]
    if floor is not None:
        first = max(first, floor)
    if ceiling is not None:
        last = min(last, ceiling)
    return [t for t in nice_ticks(first, last, most) if first - 1e-9 <= t <= last + 1e-9] or [first, last]


def render_funnel_svg(
    funnel: Funnel,
    title: str,
    desc: str,
    *,
    hide_units: Collection[Any] = (),
    chart_id: str = "funnel",
    row_ids: dict[Any, str] | None = None,
) -> SafeString:
    """The funnel as an inline, accessible <svg> (role="img", <title>, <desc>, no styles or scripts).

    Both axes are fitted to the data (the episodes from about the smallest to the largest unit, the
    rate around the units' rates and the limits over that range), so the funnel's shape shows
    rather than points squashed at one edge. Points are told apart by shape as well as colour
    (hollow circle inside the limits, square outside 95%, triangle outside 99.8%); outliers are
    labelled with their names (at most MAX_LABELS). Each point carries its unit's name and numbers
    as a tooltip and, given `row_ids`, the id of its table row (`data-row`: the page's script takes
    a click on the point to the row; the table is the accessible way to the same numbers). The
    limits drawn are those in use (adjusted for over-dispersion when needed). `hide_units` are left
    out of the picture.
    """
    units = funnel.units[~funnel.units["unit"].isin(list(hide_units))]
    curves = funnel.curves
    prefix = "adj_" if funnel.overdispersed else ""
    sizes = units["n"] if len(units) else funnel.units["n"]
    shown_ticks = fitted_range(float(sizes.min()), float(max(sizes.max(), sizes.min() + 1)), 4, floor=0)
    x_low, x_high = shown_ticks[0], shown_ticks[-1]
    within = curves[(curves["n"] >= max(x_low, 1)) & (curves["n"] <= x_high)]
    if within.empty:
        within = curves
    rates = [funnel.p0, *(units["rate"].tolist() if len(units) else [])]
    lows = [*rates, float(within[f"{prefix}lower_998"].min())]
    highs = [*rates, float(within[f"{prefix}upper_998"].max())]
    # At least two percentage points tall, so that ticks stay distinct when every rate is near 0.
    low_rate, high_rate = min(lows), max(highs)
    if high_rate - low_rate < MIN_RATE_SPAN:
        middle = (low_rate + high_rate) / 2
        low_rate, high_rate = middle - MIN_RATE_SPAN / 2, middle + MIN_RATE_SPAN / 2
    y_ticks = fitted_range(low_rate, high_rate, 5, floor=0.0, ceiling=1.0)
    frame = Frame(
        chart_id,
        title,
        desc,
        css_class="chart funnel",
        plot_height=PLOT_HEIGHT,
        y_title=_("Rate"),
        y_ticks=[(tick, f"{_percent(tick)}%") for tick in y_ticks],
        y_range=(y_ticks[0], y_ticks[-1]),
        x_range=(x_low, x_high),
        x_title=_("Number of episodes"),
    )
    x_of, y_of = frame.x_of, frame.y_of

    # Under the plot: the legend one entry a row and the note.
    legend_width = WIDTH - frame.left - 30 - 4
    entries = [
        ("line", TARGET_COLOUR, "", _("Overall rate %(rate)s%%") % {"rate": _percent(funnel.p0)}),
        # xgettext:no-python-format
        ("line", LIMIT_95_COLOUR, "6 3", _("95% limits")),
        # xgettext:no-python-format
        ("line", LIMIT_998_COLOUR, "2 3", _("99.8% limits")),
        ("inside", "", "", _("Within limits")),
        ("watch", "", "", _("Outside 95%")),
        ("outlier", "", "", _("Outside 99.8% (labelled)")),
    ]
    legend_lines = [wrap(text, legend_width) for *_kind, text in entries]
    note_lines: list[str] = []
    if funnel.overdispersed:
        note = _("Limits widened for over-dispersion (phi %(phi)s)") % {"phi": f"{funnel.phi:.2f}"}
        note_lines = wrap(note, frame.width)
    baselines, note_top = legend_rows(legend_lines, frame.below_axes)
    height = note_top + (LINE_HEIGHT * len(note_lines) + 4 if note_lines else 0)

    # Target and limit curves.
    target = y_of(funnel.p0)
    out = [
        line(frame.left, frame.right, target, target, stroke(TARGET_COLOUR, 2), ' class="funnel-target"'),
    ]
    drawn = curves[(curves["n"] >= x_low) & (curves["n"] <= x_high)]
    grid_x = [x_of(v) for v in drawn["n"]]
    for key, colour, dash in (("95", LIMIT_95_COLOUR, "6 3"), ("998", LIMIT_998_COLOUR, "2 3")):
        for side in ("lower", "upper"):
            out.append(
                polyline(
                    [(x, y_of(v)) for x, v in zip(grid_x, drawn[f"{prefix}{side}_{key}"], strict=True)],
                    stroke(colour, 1.5, dash),
                    f' class="funnel-limit" data-limit="{key}"',
                )
            )
    # Points: inside first, so flagged ones are drawn on top.
    kinds = np.where(units["outlier"], "outlier", np.where(units["watch"], "watch", "inside"))
    for kind in ("inside", "watch", "outlier"):
        chosen = units[kinds == kind]
        out.append(f'<g class="funnel-points" data-kind="{kind}">')
        for unit, n, events, rate in zip(
            chosen["unit"], chosen["n"], chosen["events"], chosen["rate"], strict=True
        ):
            row = f' data-row="{escape(row_ids[unit])}"' if row_ids and unit in row_ids else ""
            tip = _("%(unit)s: %(events)s of %(n)s, %(rate)s%%") % {
                "unit": unit,
                "events": events,
                "n": n,
                "rate": _percent(rate),
            }
            out.append(
                f'<g class="funnel-point"{row}><title>{escape(tip)}</title>{_point(kind, x_of(n), y_of(rate))}</g>'
            )
        out.append("</g>")
    out.extend(_outlier_labels(units[kinds == "outlier"], frame))
    # The legend, one entry a row (long ones wrapped), so that it fits a phone's width too.
    for (kind, colour, dash, _text), lines, y in zip(entries, legend_lines, baselines, strict=True):
        if kind == "line":
            out.append(line(frame.left, frame.left + 24, y - 5, y - 5, stroke(colour, 2, dash)))
        else:
            out.append(_point(kind, frame.left + 12, y - 5))
        out.append(text_lines(lines, frame.left + 30, y, f' fill="{AXIS_COLOUR}"'))
    if note_lines:
        out.append(text_lines(note_lines, frame.left, note_top, f' fill="{AXIS_COLOUR}"'))
    return frame.svg(out, height, [(tick, f"{tick:g}") for tick in shown_ticks])


def _outlier_labels(outliers: pd.DataFrame, frame: Frame) -> list[str]:
    """Names by the most extreme outliers (at most MAX_LABELS): above or below their point, to its
    right or left, wherever the name stays inside the plot and clear of the names already placed;
    a name too long for one line there is wrapped (a phone's chart is narrow)."""
    placed: list[tuple[float, float, float, float]] = []
    out = []
    ordered = outliers.sort_values("z", key=np.abs, ascending=False)
    for label, n, rate in zip(ordered["unit"], ordered["n"], ordered["rate"], strict=True):
        if len(placed) >= MAX_LABELS:
            break
        text = str(label)
        x, y = frame.x_of(n), frame.y_of(rate)
        room = max(x - 8 - frame.left, WIDTH - 2 - x - 8)
        for lines in (
            [text],
            wrap(text, room),
        ):
            width = max(text_width(line) for line in lines)
            depth = (len(lines) - 1) * LINE_HEIGHT  # below the first baseline
            spot = _free_spot(x, y, width, depth, frame, placed)
            if spot is not None:
                anchor, baseline, box = spot
                placed.append(box)
                out.append(
                    text_lines(
                        lines,
                        x + 8 if anchor == "start" else x - 8,
                        baseline,
                        f' text-anchor="{anchor}" fill="{OUTLIER_COLOUR}"{halo(3)}',
                    )
                )
                break
    return out


def _free_spot(
    x: float,
    y: float,
    width: float,
    depth: float,
    frame: Frame,
    placed: list[tuple[float, float, float, float]],
) -> tuple[str, float, tuple[float, float, float, float]] | None:
    """Where a label `width` wide goes by the point (x, y): its anchor, first baseline and box."""
    for anchor, baseline in (
        ("start", y - 7 - depth),
        ("end", y - 7 - depth),
        ("start", y + FONT_SIZE + 5),
        ("end", y + FONT_SIZE + 5),
    ):
        start = x + 8 if anchor == "start" else x - 8 - width
        box = (start, baseline - FONT_SIZE, start + width, baseline + depth + 4)
        inside = frame.left <= box[0] and box[2] <= WIDTH - 2 and box[1] >= 0 and box[3] <= frame.base
        if inside and not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed
        ):
            return anchor, baseline, box
    return None


def position_label(position: str) -> str:
    """A reader's name for a POSITIONS code."""
    labels = {
        # xgettext:no-python-format
        "above_998": _("Above the 99.8% limit"),
        # xgettext:no-python-format
        "above_95": _("Above the 95% limit"),
        "inside": _("Within the limits"),
        # xgettext:no-python-format
        "below_95": _("Below the 95% limit"),
        # xgettext:no-python-format
        "below_998": _("Below the 99.8% limit"),
    }
    return str(labels.get(position, position))


__all__ = [
    "LEVELS",
    "POSITIONS",
    "Funnel",
    "ReleasedFunnel",
    "exact_limits",
    "funnel",
    "funnel_from_counts",
    "normal_limits",
    "overdispersion",
    "position_label",
    "release_funnel",
    "render_funnel_svg",
]
