"""Axis ticks: round values, dated ticks, and where their labels go so that none touch."""

import datetime
import math
from collections.abc import Sequence

from recoverybridge.charts.style import AXIS_COLOUR
from recoverybridge.charts.text import FONT_SIZE, WIDTH, text_lines, text_width

TICK_GAP = FONT_SIZE / 2  # the least room between two tick labels
X_LABEL_MARGIN = 2  # x tick labels may reach this close to the picture's edges
# Steps in months between dated ticks, most ticks first, and how a tick is labelled at that step:
# month and year, or the year alone when the ticks are years apart.
DATE_STEPS = ((1, "M Y"), (2, "M Y"), (3, "M Y"), (6, "M Y"), (12, "Y"), (24, "Y"), (60, "Y"))


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


def date_ticks(first: datetime.date, last: datetime.date, step: int) -> list[datetime.date]:
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


def place_x_labels(
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
    ticks: Sequence[tuple[float, str]],
    y: float,
    left: float = X_LABEL_MARGIN,
    right: float = WIDTH - X_LABEL_MARGIN,
) -> list[str]:
    """<text> on baseline y for each (x, label) under an x axis (see place_x_labels)."""
    return [
        text_lines([label], at, y, f' text-anchor="{anchor}" fill="{AXIS_COLOUR}"')
        for anchor, at, label in place_x_labels(ticks, left, right, drop=True) or []
    ]
