"""Accessible line charts drawn on the server as SVG, with the same numbers as a table.

A chart is an image with a name and a description (role="img", <title>, <desc>), a labelled
y axis, dated x axis ticks, an optional labelled reference line (BARC-10's 47), and each
series told apart by colour, dash pattern and marker shape, never colour alone. The page
shows the numbers beside it as a table (`Chart.rows`), so nothing is only in the picture.
No scripts and no style attributes: the content security policy forbids inline styles, and
SVG presentation attributes are not styles.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils import dateformat
from django.utils.safestring import SafeString

from recoverybridge.charts.frame import TOP, Frame
from recoverybridge.charts.style import REFERENCE_COLOUR, STYLES, halo, line, marker, polyline, stroke
from recoverybridge.charts.text import FONT_SIZE, LINE_HEIGHT, text_lines, wrap
from recoverybridge.charts.ticks import DATE_STEPS, date_ticks, nice_ticks

HEIGHT = 260
BOTTOM = 32  # under the plot: the x tick labels


@dataclass(frozen=True)
class Point:
    on: datetime.date
    value: float | None  # None: a response without a value (e.g. too many items missing)


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]


@dataclass(frozen=True)
class ReferenceLine:
    value: float
    label: str


@dataclass(frozen=True)
class Row:
    on: datetime.date
    values: tuple[str, ...]


@dataclass
class Chart:
    chart_id: str
    title: str
    description: str
    y_label: str
    series: Sequence[Series]
    y_min: float
    y_max: float
    reference: ReferenceLine | None = None
    y_ticks: Sequence[float] = ()  # default: round numbers from y_min to y_max
    note: str = ""  # shown under the title, e.g. how the number is made
    value_format: Callable[[float], str] = field(default=lambda v: f"{v:g}")

    @property
    def empty(self) -> bool:
        return not any(p.value is not None for s in self.series for p in s.points)

    @property
    def rows(self) -> list[Row]:
        """One row per date, one column per series; "—" where a series has no value then."""
        by_date: dict[datetime.date, list[str]] = {}
        for index, series in enumerate(self.series):
            for point in series.points:
                cells = by_date.setdefault(point.on, ["—"] * len(self.series))
                if point.value is not None:
                    cells[index] = self.value_format(point.value)
        return [Row(on, tuple(cells)) for on, cells in sorted(by_date.items())]

    @property
    def svg(self) -> SafeString:
        return render_svg(self)

    @property
    def legend(self) -> list[tuple[str, str, str, str]]:
        return legend(self)


def render_svg(chart: Chart) -> SafeString:
    """The chart as an inline <svg> element (safe to put in a template as it is)."""
    dates = sorted({p.on for s in chart.series for p in s.points})
    span = (dates[-1] - dates[0]).days if dates else 0
    frame = Frame(
        chart.chart_id,
        chart.title,
        chart.description,
        plot_height=HEIGHT - TOP - BOTTOM,
        y_title=chart.y_label,
        y_ticks=[
            (tick, chart.value_format(tick)) for tick in chart.y_ticks or nice_ticks(chart.y_min, chart.y_max)
        ],
        y_range=(chart.y_min, chart.y_max),
        x_range=(0, span),  # days since the first date
    )

    def x_of(on: datetime.date) -> float:
        return frame.x_of((on - dates[0]).days)

    # The most dated ticks whose labels fit side by side: month and year, or the year alone when
    # the ticks are years apart.
    x_ticks: list[tuple[float, str]] = []
    if dates:
        for step, format_ in DATE_STEPS:
            x_ticks = [
                ((on - dates[0]).days, dateformat.format(on, format_))
                for on in date_ticks(dates[0], dates[-1], step)
            ]
            if frame.fits(x_ticks):
                break
    out = []
    if chart.reference is not None:
        y = frame.y_of(chart.reference.value)
        out.append(
            line(
                frame.left,
                frame.right,
                y,
                y,
                stroke(REFERENCE_COLOUR, 2, "8 4"),
                ' class="chart-reference"',
            )
        )
    # The series: lines broken where a value is missing, a marker on every value.
    for index, series in enumerate(chart.series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        segments: list[list[tuple[float, float]]] = [[]]
        markers = []
        for point in sorted(series.points, key=lambda p: p.on):
            if point.value is None:
                segments.append([])
                continue
            x, y = x_of(point.on), frame.y_of(point.value)
            segments[-1].append((x, y))
            markers.append(marker(shape, x, y, colour))
        out.append(f'<g class="chart-series" data-series="{index}">')
        out.extend(polyline(segment, stroke(colour, 2.5, dash)) for segment in segments if len(segment) > 1)
        out.extend(markers)
        out.append("</g>")
    # The reference line's label last, over the series, with a white halo to stay readable: above
    # the line, in two lines if it is too long for one, or under it when there is no room above.
    if chart.reference is not None:
        y = frame.y_of(chart.reference.value)
        lines = wrap(chart.reference.label, frame.width - 8, bold=True)
        height = LINE_HEIGHT * (len(lines) - 1)
        first = y - 7 - height if y - 7 - height - FONT_SIZE >= 0 else y + FONT_SIZE + 5
        out.append(
            text_lines(
                lines,
                frame.right - 4,
                first,
                f' text-anchor="end" fill="{REFERENCE_COLOUR}" font-weight="700"{halo(4)}',
            )
        )
    return frame.svg(out, HEIGHT, x_ticks)


def legend(chart: Chart) -> list[tuple[str, str, str, str]]:
    """(name, colour, dash, shape) per series, for the page's legend."""
    return [(series.name, *STYLES[index % len(STYLES)]) for index, series in enumerate(chart.series)]
