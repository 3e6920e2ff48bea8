"""The forest plot of subgroup effects: each level's estimate and interval on one row, drawn in
the chart kit's frame (recoverybridge.charts), with no-difference and the overall effect marked."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from recoverybridge.charts import (
    AXIS_COLOUR,
    BLUE,
    INK,
    RUST,
    SLATE,
    WIDTH,
    Frame,
    legend_rows,
    line,
    nice_ticks,
    stroke,
    text_lines,
    wrap,
)
from recoverybridge.charts.text import fmt

ROW_HEIGHT = 22


@dataclass(frozen=True)
class ForestRow:
    label: str
    estimate: float | None  # None: not shown (too few, or not estimable)
    low: float | None
    high: float | None


def render_forest_svg(
    rows: Sequence[ForestRow], overall: float | None, title: str, desc: str, unit_note: str, chart_id: str
) -> SafeString:
    """Rows top to bottom; a square at each estimate with its interval as a line; a dashed line at
    no difference and a solid one at the overall effect. Values are drawn as given (released)."""
    values = [0.0]
    for row in rows:
        if row.estimate is not None and row.low is not None and row.high is not None:
            values += [row.low, row.high]
    if overall is not None:
        values.append(overall)
    ticks = nice_ticks(min(values), max(values), 4)
    count = len(rows)
    frame = Frame(
        chart_id,
        title,
        desc,
        css_class="chart forest",
        plot_height=ROW_HEIGHT * max(count, 1),
        y_title=_("Group"),
        y_ticks=[(count - 1 - i + 0.5, row.label) for i, row in enumerate(rows)],
        y_range=(0, max(count, 1)),
        x_range=(ticks[0], ticks[-1]),
        x_title=_("Difference"),
    )
    out = [
        line(
            frame.x_of(0),
            frame.x_of(0),
            frame.top,
            frame.base,
            stroke(SLATE, 1.5, "4 3"),
            ' class="forest-zero"',
        )
    ]
    if overall is not None:
        x = frame.x_of(overall)
        out.append(line(x, x, frame.top, frame.base, stroke(INK, 2), ' class="forest-overall"'))
    for i, row in enumerate(rows):
        if row.estimate is None or row.low is None or row.high is None:
            continue
        y = frame.y_of(count - 1 - i + 0.5)
        out.append(
            line(frame.x_of(row.low), frame.x_of(row.high), y, y, stroke(BLUE, 2), ' class="forest-ci"')
        )
        x = frame.x_of(row.estimate)
        out.append(
            f'<rect class="forest-point" x="{fmt(x - 4)}" y="{fmt(y - 4)}" width="8" height="8" fill="{RUST}"/>'
        )
    legend = [
        wrap(unit_note, WIDTH - frame.left - 4),
        wrap(_("Dashed line: no difference"), WIDTH - frame.left - 4),
        wrap(_("Solid line: everyone's effect"), WIDTH - frame.left - 4),
    ]
    baselines, height = legend_rows(legend, frame.below_axes)
    for lines, y in zip(legend, baselines, strict=True):
        out.append(text_lines(lines, frame.left, y, f' fill="{AXIS_COLOUR}"'))
    return frame.svg(out, height, [(tick, f"{tick:g}") for tick in ticks])
