"""Colours, strokes and markers, and the SVG elements the charts draw them with.

Presentation attributes only (fill, stroke, ...), never a style attribute: the content security
policy forbids inline styles, and SVG presentation attributes are not styles.
"""

from collections.abc import Sequence

from recoverybridge.charts.text import fmt

# Colours with at least 4.5:1 contrast on white (text and lines alike); dashes and marker
# shapes repeat the distinction for anyone who cannot tell the colours apart.
BLUE = "#0b5cab"
GREEN = "#1d6b35"
PURPLE = "#6b2fa0"
INK = "#1c1f23"
RUST = "#8a3b00"
SLATE = "#4a5058"
WHITE = "#ffffff"
# The grid is lighter on purpose: it guides the eye and says nothing of its own.
GRID_COLOUR = "#d5dae1"
AXIS_COLOUR = SLATE
REFERENCE_COLOUR = RUST
# (colour, dash pattern, marker shape) of the 1st, 2nd, ... series; a fifth starts again.
STYLES = (
    (BLUE, "", "circle"),
    (GREEN, "6 3", "square"),
    (PURPLE, "2 3", "triangle"),
    (INK, "8 3 2 3", "diamond"),
)


def stroke(colour: str, width: float | None = None, dash: str = "") -> str:
    """The stroke attributes of a line: its colour, width (if not 1) and dash pattern (if any)."""
    width_attr = f' stroke-width="{fmt(width)}"' if width is not None else ""
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return f' stroke="{colour}"{width_attr}{dash_attr}'


def halo(width: float) -> str:
    """A white outline drawn under a text's fill, so that it stays readable over the lines it crosses."""
    return f'{stroke(WHITE, width)} paint-order="stroke"'


def line(x1: float, x2: float, y1: float, y2: float, strokes: str, attributes: str = "") -> str:
    """A <line>; `attributes` (e.g. a class) come first, `strokes` (see `stroke`) last."""
    return f'<line{attributes} x1="{fmt(x1)}" x2="{fmt(x2)}" y1="{fmt(y1)}" y2="{fmt(y2)}"{strokes}/>'


def polyline(points: Sequence[tuple[float, float]], strokes: str, attributes: str = "") -> str:
    """An unfilled <polyline> through (x, y) `points`; attributes first, strokes last as for `line`."""
    coordinates = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
    return f'<polyline{attributes} points="{coordinates}" fill="none"{strokes}/>'


def marker(shape: str, x: float, y: float, colour: str) -> str:
    """A series' marker centred on (x, y): circle, square, triangle or (else) diamond, about 8 across."""
    r = 4.0
    if shape == "circle":
        return f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{fmt(r)}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{fmt(x - r)}" y="{fmt(y - r)}" width="{fmt(2 * r)}" height="{fmt(2 * r)}"'
            f' fill="{colour}"/>'
        )
    if shape == "triangle":
        points = f"{fmt(x)},{fmt(y - r - 1)} {fmt(x - r - 1)},{fmt(y + r)} {fmt(x + r + 1)},{fmt(y + r)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    points = f"{fmt(x)},{fmt(y - r - 1)} {fmt(x + r + 1)},{fmt(y)} {fmt(x)},{fmt(y + r + 1)} {fmt(x - r - 1)},{fmt(y)}"
    return f'<polygon points="{points}" fill="{colour}"/>'
