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

# Drawing area in SVG user units; the page scales the picture to its column, text and all. The
# text is FONT_SIZE / WIDTH of the picture's width: 14 / 360 keeps it at 11 px or more in the
# 288 px column of a 320 px phone, and the stylesheet caps the picture's width (.chart-box) so
# that it stays near body size on a desktop. Everything is laid out in about 25 ems across.
WIDTH = 360
HEIGHT = 260
RIGHT = 12
TOP = 16
BOTTOM = 32
FONT_SIZE = 14
LINE_HEIGHT = 18
# Glyph widths in ems by kind (_glyph_width), for keeping texts apart without a browser to measure them.
NARROW_GLYPHS = frozenset(" iljI.,:;'|!")
MIDDLE_GLYPHS = frozenset("ftr()-/[]")
WIDE_GLYPHS = frozenset("mwMW%")
TICK_GAP = FONT_SIZE / 2  # the least room between two tick labels
X_TICK_BASELINE = FONT_SIZE + 9  # under the x axis, clear of the lowest y tick label
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


DATE_STEPS = ((1, "M Y"), (2, "M Y"), (3, "M Y"), (6, "M Y"), (12, "Y"), (24, "Y"), (60, "Y"))


def _date_ticks(first: datetime.date, last: datetime.date, step: int) -> list[datetime.date]:
    """First days of months `step` months apart (of years, for a step of 12 or more), first..last."""
    months = (last.year - first.year) * 12 + last.month - first.month
    if months <= 0:
        return [first]
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


def _glyph_width(char: str) -> float:
    if char in NARROW_GLYPHS:
        return 0.3
    if char in MIDDLE_GLYPHS:
        return 0.42
    if char in WIDE_GLYPHS:
        return 0.92
    if char.isdigit():
        return 0.64
    return 0.72 if char.isupper() else 0.62


def text_width(text: str, bold: bool = False) -> float:
    """About how wide `text` is drawn at FONT_SIZE, in SVG units: within a few percent of DejaVu
    Sans (Debian's system-ui), one of the widest sans-serif faces, so narrower ones fit too."""
    return sum(_glyph_width(char) for char in text) * FONT_SIZE * (1.12 if bold else 1)


def wrap(text: str, width: float, bold: bool = False) -> list[str]:
    """`text` in lines about `width` wide at most, broken between words (a longer word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", bold) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


def text_lines(lines: Sequence[str], x: float, y: float, attributes: str = "") -> str:
    """One <text> holding `lines` one under the other, the first on baseline y; escaped."""
    if len(lines) == 1:
        return f'<text x="{_fmt(x)}" y="{_fmt(y)}"{attributes}>{escape(lines[0])}</text>'
    spans = "".join(
        f'<tspan x="{_fmt(x)}" dy="{0 if index == 0 else LINE_HEIGHT}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text x="{_fmt(x)}" y="{_fmt(y)}"{attributes}>{spans}</text>'


def y_axis_title(text: str, middle: float, length: float) -> tuple[str, float]:
    """The y axis's title, turned to run up the left edge beside a plot `length` tall, centred on
    `middle`; in two or more lines side by side if longer. Returns the SVG and its right edge."""
    lines = wrap(text, length)
    x = FONT_SIZE
    svg = text_lines(
        lines,
        x,
        middle,
        f' text-anchor="middle" fill="{AXIS_COLOUR}" transform="rotate(-90 {x} {_fmt(middle)})"',
    )
    return svg, x + 4 + LINE_HEIGHT * (len(lines) - 1)


def plot_left(title_right: float, tick_labels: Sequence[str]) -> float:
    """The plot's left edge: room for the y axis title and the widest tick label right-aligned to it."""
    return math.ceil(title_right + 6 + max([text_width(label) for label in tick_labels] or [0]) + 6)


def _place_x_labels(
    ticks: Sequence[tuple[float, str]], left: float, right: float, drop: bool
) -> list[tuple[str, float, str]] | None:
    """(anchor, x, label) for each tick label, centred under its tick but pulled in at the edges
    rather than cut off; a label that would touch the one before is left out, or when not `drop`
    the answer is None."""
    placed: list[tuple[str, float, str]] = []
    last_right = -math.inf
    for x, label in ticks:
        width = text_width(label)
        start = x - width / 2
        anchor, at = "middle", x
        if start < left:
            anchor, at, start = "start", left, left
        elif start + width > right:
            anchor, at, start = "end", right, right - width
        if start < last_right + TICK_GAP:
            if not drop:
                return None
            continue
        last_right = start + width
        placed.append((anchor, at, label))
    return placed


def x_tick_labels(
    ticks: Sequence[tuple[float, str]], y: float, left: float = 2, right: float = WIDTH - 2
) -> list[str]:
    """<text> on baseline y for each (x, label) under an x axis (see _place_x_labels)."""
    return [
        f'<text x="{_fmt(at)}" y="{_fmt(y)}" text-anchor="{anchor}" fill="{AXIS_COLOUR}">{escape(label)}</text>'
        for anchor, at, label in _place_x_labels(ticks, left, right, drop=True) or []
    ]


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
    inner_h = HEIGHT - TOP - BOTTOM
    y_ticks = list(chart.y_ticks or nice_ticks(chart.y_min, chart.y_max))
    tick_labels = [chart.value_format(tick) for tick in y_ticks]
    y_title, title_right = y_axis_title(chart.y_label, TOP + inner_h / 2, inner_h)
    left = plot_left(title_right, tick_labels)
    inner_w = WIDTH - left - RIGHT
    span = (dates[-1] - dates[0]).days if dates else 0

    def x_of(on: datetime.date) -> float:
        if not dates or span == 0:
            return left + inner_w / 2
        return left + inner_w * (on - dates[0]).days / span

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
    for tick, label in zip(y_ticks, tick_labels, strict=True):
        y = y_of(tick)
        out.append(
            f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}" stroke="{GRID_COLOUR}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{_fmt(y + 5)}" text-anchor="end" fill="{AXIS_COLOUR}">{escape(label)}</text>'
        )
    out.append(y_title)
    # x axis and its dated ticks: month and year, or the year alone when the ticks are years apart.
    base = TOP + inner_h
    out.append(f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{AXIS_COLOUR}"/>')
    if dates:
        # The most ticks whose labels fit side by side.
        for step, format_ in DATE_STEPS:
            ticks = _date_ticks(dates[0], dates[-1], step)
            labelled = [(x_of(on), dateformat.format(on, format_)) for on in ticks]
            if _place_x_labels(labelled, 2, WIDTH - 2, drop=False) is not None:
                break
        for x, _label in labelled:
            out.append(
                f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{base}" y2="{base + 5}" stroke="{AXIS_COLOUR}"/>'
            )
        out.extend(x_tick_labels(labelled, base + X_TICK_BASELINE))
    # The reference line, labelled on the line itself.
    if chart.reference is not None:
        y = y_of(chart.reference.value)
        out.append(
            f'<line class="chart-reference" x1="{left}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"'
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
    # The reference line's label last, over the series, with a white halo to stay readable: above
    # the line, in two lines if it is too long for one, or under it when there is no room above.
    if chart.reference is not None:
        y = y_of(chart.reference.value)
        lines = wrap(chart.reference.label, inner_w - 8, bold=True)
        height = LINE_HEIGHT * (len(lines) - 1)
        first = y - 7 - height if y - 7 - height - FONT_SIZE >= 0 else y + FONT_SIZE + 5
        out.append(
            text_lines(
                lines,
                WIDTH - RIGHT - 4,
                first,
                f' text-anchor="end" fill="{REFERENCE_COLOUR}" font-weight="700" stroke="#ffffff"'
                ' stroke-width="4" paint-order="stroke"',
            )
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)


def legend(chart: Chart) -> list[tuple[str, str, str, str]]:
    """(name, colour, dash, shape) per series, for the page's legend."""
    return [(series.name, *STYLES[index % len(STYLES)]) for index, series in enumerate(chart.series)]
