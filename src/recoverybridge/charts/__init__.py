"""The chart kit, on the ground floor: SVG charts drawn on the server, for any app to use.

`Frame` draws what every chart has (an accessible <svg> with a title, a description, a grid and
labelled axes) and scales values to its plot; a chart adds its own marks with the helpers of
`style` and `text`. `lines` is the line chart of dated values (outcome trajectories).

A plain package, not a Django app: it imports Django's utilities and the standard library only,
never another recoverybridge module, so that every app can draw with it.
"""

from recoverybridge.charts.frame import Frame, legend_rows
from recoverybridge.charts.lines import Chart, Point, ReferenceLine, Row, Series, legend, render_svg
from recoverybridge.charts.style import (
    AXIS_COLOUR,
    BLUE,
    GREEN,
    GRID_COLOUR,
    INK,
    PURPLE,
    REFERENCE_COLOUR,
    RUST,
    SLATE,
    STYLES,
    WHITE,
    halo,
    line,
    marker,
    polyline,
    stroke,
)
from recoverybridge.charts.text import FONT_SIZE, LINE_HEIGHT, WIDTH, fmt, text_lines, text_width, wrap
from recoverybridge.charts.ticks import axis_top, date_ticks, nice_ticks, place_x_labels

__all__ = [
    "AXIS_COLOUR",
    "BLUE",
    "FONT_SIZE",
    "GREEN",
    "GRID_COLOUR",
    "INK",
    "LINE_HEIGHT",
    "PURPLE",
    "REFERENCE_COLOUR",
    "RUST",
    "SLATE",
    "STYLES",
    "WHITE",
    "WIDTH",
    "Chart",
    "Frame",
    "Point",
    "ReferenceLine",
    "Row",
    "Series",
    "axis_top",
    "date_ticks",
    "fmt",
    "halo",
    "legend",
    "legend_rows",
    "line",
    "marker",
    "nice_ticks",
    "place_x_labels",
    "polyline",
    "render_svg",
    "stroke",
    "text_lines",
    "text_width",
    "wrap",
]
