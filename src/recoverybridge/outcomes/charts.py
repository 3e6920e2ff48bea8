"""Accessible line charts drawn on the server as SVG, with the same numbers as a table.

A chart is an image with a name and a description (role="img", <title>, <desc>), a labelled
y axis, dated x axis ticks, an optional labelled reference line (BARC-10's 47), and each
series told apart by colour, dash pattern and marker shape, never colour alone. The page
shows the numbers beside it as a table (`Chart.rows`), so nothing is only in the picture.
No scripts and no style attributes: the content security policy forbids inline styles, and
SVG presentation attributes are not styles.
"""

import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Drawing area in SVG user units; the page scales the picture to its column.
WIDTH = 440
HEIGHT = 260
LEFT = 44
RIGHT = 16
TOP = 16
BOTTOM = 44
FONT_SIZE = 12
# Colours with at least 4.5:1 contrast on white (text and lines alike); dashes and marker
# shapes repeat the distinction for anyone who cannot tell the colours apart.
STYLES = (
    ("#0b5cab", "", "circle"),
    ("#1d6b35", "6 3", "square"),
    ("#6b2fa0", "2 3", "triangle"),
    ("#1c1f23", "8 3 2 3", "diamond"),
)
REFERENCE_COLOUR = "#8a3b00"
GRID_COLOUR = "#d5dae1"
AXIS_COLOUR = "#4a5058"


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


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def axis_top(values: Sequence[float | None], at_least: float) -> float:
    """The top of a y axis that starts at 0: at least `at_least`, rounded up to a tick."""
    top = max([at_least, *(v for v in values if v is not None)])
    ticks = nice_ticks(0, top)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
    return math.ceil(top / step - 1e-9) * step


def _date_ticks(first: datetime.date, last: datetime.date, most: int = 5) -> list[datetime.date]:
    """First days of months (or of years, over a long span) between first and last."""
    months = (last.year - first.year) * 12 + last.month - first.month
    if months <= 0:
        return [first]
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60) if months / s <= most)
    ticks = []
    year, month = first.year, first.month
    if step >= 12:
        year, month = first.year, 1
    while True:
        candidate = datetime.date(year, month, 1)
        if candidate > last:
            break
        if candidate >= first:
            ticks.append(candidate)
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return ticks or [first]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 4.0
    if shape == "circle":
        return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{_fmt(x - r)}" y="{_fmt(y - r)}" width="{_fmt(2 * r)}" height="{_fmt(2 * r)}"'
            f' fill="{colour}"/>'
        )
    if shape == "triangle":
        points = (
            f"{_fmt(x)},{_fmt(y - r - 1)} {_fmt(x - r - 1)},{_fmt(y + r)} {_fmt(x + r + 1)},{_fmt(y + r)}"
        )
        return f'<polygon points="{points}" fill="{colour}"/>'
    points = f"{_fmt(x)},{_fmt(y - r - 1)} {_fmt(x + r + 1)},{_fmt(y)} {_fmt(x)},{_fmt(y + r + 1)} {_fmt(x - r - 1)},{_fmt(y)}"
    return f'<polygon points="{points}" fill="{colour}"/>'


def render_svg(chart: Chart) -> SafeString:
    """The chart as an inline <svg> element (safe to put in a template as it is)."""
    cid = escape(chart.chart_id)
    dates = sorted({p.on for s in chart.series for p in s.points})
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    span = (dates[-1] - dates[0]).days if dates else 0

    def x_of(on: datetime.date) -> float:
        if not dates or span == 0:
            return LEFT + inner_w / 2
        return LEFT + inner_w * (on - dates[0]).days / span

    def y_of(value: float) -> float:
        clamped = min(max(value, chart.y_min), chart.y_max)
        return TOP + inner_h * (1 - (clamped - chart.y_min) / (chart.y_max - chart.y_min))

    out = [
        f'<svg class="chart" id="{cid}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' aria-labelledby="{cid}-title {cid}-desc" focusable="false"'
        f' font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(chart.description)}</desc>',
    ]
    # Grid and y axis labels.
    for tick in chart.y_ticks or nice_ticks(chart.y_min, chart.y_max):
        y = y_of(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}" stroke="{GRID_COLOUR}"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end" fill="{AXIS_COLOUR}">'
            f"{escape(chart.value_format(tick))}</text>"
        )
    out.append(
        f'<text x="12" y="{_fmt(TOP + inner_h / 2)}" text-anchor="middle" fill="{AXIS_COLOUR}"'
        f' transform="rotate(-90 12 {_fmt(TOP + inner_h / 2)})">{escape(chart.y_label)}</text>'
    )
    # x axis and its dated ticks.
    base = TOP + inner_h
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{AXIS_COLOUR}"/>')
    if dates:
        for on in _date_ticks(dates[0], dates[-1]):
            x = x_of(on)
            out.append(
                f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{base}" y2="{base + 5}" stroke="{AXIS_COLOUR}"/>'
            )
            out.append(
                f'<text x="{_fmt(x)}" y="{base + 18}" text-anchor="middle" fill="{AXIS_COLOUR}">'
                f"{escape(dateformat.format(on, 'M Y'))}</text>"
            )
    # The reference line, labelled on the line itself.
    if chart.reference is not None:
        y = y_of(chart.reference.value)
        out.append(
            f'<line class="chart-reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"'
            f' stroke="{REFERENCE_COLOUR}" stroke-width="2" stroke-dasharray="8 4"/>'
        )
    # The series: lines broken where a value is missing, a marker on every value.
    for index, series in enumerate(chart.series):
        colour, dash, shape = STYLES[index % len(STYLES)]
        segments: list[list[str]] = [[]]
        markers = []
        for point in sorted(series.points, key=lambda p: p.on):
            if point.value is None:
                segments.append([])
                continue
            x, y = x_of(point.on), y_of(point.value)
            segments[-1].append(f"{_fmt(x)},{_fmt(y)}")
            markers.append(_marker(shape, x, y, colour))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="chart-series" data-series="{index}">')
        for segment in segments:
            if len(segment) > 1:
                out.append(
                    f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}"'
                    f' stroke-width="2.5"{dash_attr}/>'
                )
        out.extend(markers)
        out.append("</g>")
    # The reference line's label last, over the series, with a white halo to stay readable.
    if chart.reference is not None:
        y = y_of(chart.reference.value)
        out.append(
            f'<text x="{WIDTH - RIGHT - 4}" y="{_fmt(y - 6)}" text-anchor="end" fill="{REFERENCE_COLOUR}"'
            f' font-weight="700" stroke="#ffffff" stroke-width="4" paint-order="stroke">'
            f"{escape(chart.reference.label)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)


def legend(chart: Chart) -> list[tuple[str, str, str, str]]:
    """(name, colour, dash, shape) per series, for the page's legend."""
    return [(series.name, *STYLES[index % len(STYLES)]) for index, series in enumerate(chart.series)]
