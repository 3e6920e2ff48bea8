"""The charts' scale and their text: how wide a text is drawn, wrapped to a width, as SVG <text>.

There is no browser on the server to measure text, so widths are estimated from glyph kinds
(`text_width`); that is enough to keep labels apart and inside the picture.
"""

from collections.abc import Sequence

from django.utils.html import escape

# Drawing area in SVG user units; the page scales the picture to its column, text and all. The
# text is FONT_SIZE / WIDTH of the picture's width: 14 / 360 keeps it at 11 px or more in the
# 288 px column of a 320 px phone, and the stylesheet caps the picture's width (.chart-box) so
# that it stays near body size on a desktop. Everything is laid out in about 25 ems across.
WIDTH = 360
FONT_SIZE = 14
LINE_HEIGHT = 18
# Glyph widths in ems by kind (_glyph_width), for keeping texts apart without a browser to measure them.
NARROW_GLYPHS = frozenset(" iljI.,:;'|!")
MIDDLE_GLYPHS = frozenset("ftr()-/[]")
WIDE_GLYPHS = frozenset("mwMW%")


def fmt(value: float) -> str:
    """A number as an SVG attribute: one decimal at most, without trailing zeros (12, 12.5)."""
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
        return f'<text x="{fmt(x)}" y="{fmt(y)}"{attributes}>{escape(lines[0])}</text>'
    spans = "".join(
        f'<tspan x="{fmt(x)}" dy="{0 if index == 0 else LINE_HEIGHT}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text x="{fmt(x)}" y="{fmt(y)}"{attributes}>{spans}</text>'
