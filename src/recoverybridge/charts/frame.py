"""The frame every chart is drawn in: an accessible <svg> with its plot area, grid and axes.

A chart is an image with a name and a description (role="img", <title>, <desc> named by
aria-labelledby), a y axis with a title and labelled ticks, and an x axis with ticks and, if
given, a title. The frame lays these out (the plot's left edge leaves room for the y title and
the widest y tick label), scales values to the plot (`x_of`, `y_of`) and writes the <svg>; the
chart adds its own marks (lines, points, labels, a legend under the plot) in between.
"""

import math
from collections.abc import Iterable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from recoverybridge.charts.style import AXIS_COLOUR, GRID_COLOUR, line, stroke
from recoverybridge.charts.text import FONT_SIZE, LINE_HEIGHT, WIDTH, fmt, text_lines, text_width, wrap
from recoverybridge.charts.ticks import X_LABEL_MARGIN, place_x_labels, x_tick_labels

TOP = 16  # above the plot: room for the top tick label
RIGHT = 12  # right of the plot
X_TICK_BASELINE = FONT_SIZE + 9  # under the x axis, clear of the lowest y tick label
LEGEND_ROW = 22  # a legend row of one line, baseline to baseline


class Frame:
    """An <svg> chart's frame: title, description, grid, axes and their labels around a plot
    `plot_height` tall, between `left` (room for the y axis title and tick labels) and `right`.

    `y_ticks` and x ticks are (value, label) pairs in the chart's units; `y_range` and `x_range`
    are the values at the plot's bottom and top, left and right edges. Draw with `svg`.
    """

    def __init__(
        self,
        chart_id: str,
        title: str,
        description: str,
        *,
        plot_height: float,
        y_title: str,
        y_ticks: Sequence[tuple[float, str]],
        y_range: tuple[float, float],
        x_range: tuple[float, float],
        x_title: str = "",
        css_class: str = "chart",
    ) -> None:
        self.chart_id = chart_id
        self.title = title
        self.description = description
        self.css_class = css_class
        self.y_ticks = list(y_ticks)
        self.y_low, self.y_high = y_range
        self.x_low, self.x_high = x_range
        self.x_title = x_title
        self.top = TOP
        self.base = TOP + plot_height  # the x axis
        self.plot_height = plot_height
        self._y_title, title_right = y_axis_title(y_title, TOP + plot_height / 2, plot_height)
        self.left = plot_left(title_right, [label for _value, label in self.y_ticks])
        self.right = WIDTH - RIGHT
        self.width = self.right - self.left

    @property
    def below_axes(self) -> float:
        """The baseline of the first line of text under the x axis title (e.g. a legend's)."""
        return self.base + 2 * LINE_HEIGHT + 32

    def x_of(self, value: float) -> float:
        """Where `value` is across the plot (its middle when the x range is a single value)."""
        if self.x_high == self.x_low:
            return self.left + self.width / 2
        return self.left + self.width * (value - self.x_low) / (self.x_high - self.x_low)

    def y_of(self, value: float) -> float:
        """Where `value` is up the plot; values beyond the y range stay on its edge."""
        clamped = min(max(value, self.y_low), self.y_high)
        return self.top + self.plot_height * (1 - (clamped - self.y_low) / (self.y_high - self.y_low))

    def fits(self, x_ticks: Sequence[tuple[float, str]]) -> bool:
        """Whether every one of these x tick labels fits beside the others."""
        scaled = [(self.x_of(value), label) for value, label in x_ticks]
        return place_x_labels(scaled, X_LABEL_MARGIN, WIDTH - X_LABEL_MARGIN, drop=False) is not None

    def svg(
        self, marks: Iterable[str], height: float, x_ticks: Sequence[tuple[float, str]] = ()
    ) -> SafeString:
        """The chart as an inline <svg> `height` tall (safe to put in a template as it is), with the
        chart's `marks` drawn over the grid and axes; each of their texts must be escaped
        (`text_lines` does). An x tick label that would touch the one before is left out."""
        cid = escape(self.chart_id)
        out = [
            f'<svg class="{escape(self.css_class)}" id="{cid}" role="img" viewBox="0 0 {WIDTH} {fmt(height)}"'
            f' aria-labelledby="{cid}-title {cid}-desc" focusable="false"'
            f' font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
            f'<title id="{cid}-title">{escape(self.title)}</title>',
            f'<desc id="{cid}-desc">{escape(self.description)}</desc>',
        ]
        for value, label in self.y_ticks:
            y = self.y_of(value)
            out.append(line(self.left, self.right, y, y, stroke(GRID_COLOUR)))
            out.append(text_lines([label], self.left - 6, y + 5, f' text-anchor="end" fill="{AXIS_COLOUR}"'))
        out.append(self._y_title)
        out.append(line(self.left, self.right, self.base, self.base, stroke(AXIS_COLOUR)))
        for value, _label in x_ticks:
            x = self.x_of(value)
            out.append(line(x, x, self.base, self.base + 5, stroke(AXIS_COLOUR)))
        out.extend(
            x_tick_labels(
                [(self.x_of(value), label) for value, label in x_ticks], self.base + X_TICK_BASELINE
            )
        )
        if self.x_title:
            out.append(
                text_lines(
                    [self.x_title],
                    self.left + self.width / 2,
                    self.base + X_TICK_BASELINE + LINE_HEIGHT + 4,
                    f' text-anchor="middle" fill="{AXIS_COLOUR}"',
                )
            )
        out.extend(marks)
        out.append("</svg>")
        return mark_safe("".join(out))  # noqa: S308  (every text above is escaped, and the marks' too)


def y_axis_title(text: str, middle: float, length: float) -> tuple[str, float]:
    """The y axis's title, turned to run up the left edge beside a plot `length` tall, centred on
    `middle`; in two or more lines side by side if longer. Returns the SVG and its right edge."""
    lines = wrap(text, length)
    x = FONT_SIZE
    svg = text_lines(
        lines,
        x,
        middle,
        f' text-anchor="middle" fill="{AXIS_COLOUR}" transform="rotate(-90 {x} {fmt(middle)})"',
    )
    return svg, x + 4 + LINE_HEIGHT * (len(lines) - 1)


def plot_left(title_right: float, tick_labels: Sequence[str]) -> int:
    """The plot's left edge: room for the y axis title and the widest tick label right-aligned to it."""
    return math.ceil(title_right + 6 + max([text_width(label) for label in tick_labels] or [0]) + 6)


def legend_rows(rows: Sequence[Sequence[str]], top: float) -> tuple[list[float], float]:
    """The baselines of a legend's rows, one entry a row, each of its wrapped `rows` lines, the
    first at `top`; and the baseline after the last row."""
    baselines = []
    y = top
    for lines in rows:
        baselines.append(y)
        y += LEGEND_ROW + LINE_HEIGHT * (len(lines) - 1)
    return baselines, y
