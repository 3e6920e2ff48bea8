"""The chart frame every chart is drawn in: where the plot goes, scaling to it, and an <svg> that
is well-formed, named and described for assistive technology, with every text escaped."""

import ast
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

import recoverybridge.charts
from recoverybridge.charts import FONT_SIZE, LINE_HEIGHT, WIDTH, Frame, legend_rows, text_width
from recoverybridge.charts.frame import RIGHT, TOP, X_TICK_BASELINE


def rate_frame(**changes) -> Frame:
    arguments = {
        "chart_id": "rates",
        "title": "Referral rate",
        "description": "Rates by team",
        "plot_height": 200,
        "y_title": "Rate",
        "y_ticks": [(0, "0%"), (0.5, "50%"), (1, "100%")],
        "y_range": (0, 1),
        "x_range": (0, 100),
        "x_title": "Episodes",
    }
    return Frame(**(arguments | changes))


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314  (our own output)


def texts(root: ElementTree.Element) -> list[str]:
    return ["".join(text.itertext()) for text in root.iter("text")]


def test_the_left_edge_makes_room_for_the_widest_tick_label():
    narrow = rate_frame(y_ticks=[(0, "0"), (1, "1")])
    wide = rate_frame(y_ticks=[(0, "0"), (1, "1,000,000")])
    grown = wide.left - narrow.left
    assert abs(grown - (text_width("1,000,000") - text_width("1"))) <= 1
    assert wide.width == WIDTH - RIGHT - wide.left < narrow.width
    # The label ends just left of the plot and starts clear of the y axis title beside it.
    label = next(text for text in parse(wide.svg([], 300)).iter("text") if text.text == "1,000,000")
    assert label.get("text-anchor") == "end"
    assert float(label.get("x")) == wide.left - 6
    assert float(label.get("x")) - text_width("1,000,000") >= FONT_SIZE + 4


def test_the_left_edge_makes_room_for_a_y_title_in_two_lines():
    short = rate_frame(y_title="Rate")
    long_title = "Episodes referred to a peer supporter in 30 days"
    assert 200 < text_width(long_title) < 400  # longer than the plot is tall, shorter than twice
    long = rate_frame(y_title=long_title)
    assert long.left - short.left == LINE_HEIGHT
    title = next(text for text in parse(long.svg([], 300)).iter("text") if text.get("transform"))
    assert len(title.findall("tspan")) == 2
    assert " ".join(span.text for span in title.findall("tspan")) == long_title


def test_a_named_described_well_formed_image():
    root = parse(rate_frame().svg(['<circle cx="1" cy="2" r="3"/>'], 321))
    assert root.tag == "svg" and root.get("role") == "img" and root.get("class") == "chart"
    assert root.get("viewBox") == f"0 0 {WIDTH} 321"
    title, desc = root.find("title"), root.find("desc")
    assert title.text == "Referral rate" and desc.text == "Rates by team"
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert root.get("id") == "rates" and title.get("id") != desc.get("id")
    assert list(root)[:2] == [title, desc]
    assert list(root)[-1].tag == "circle"  # the chart's marks over the grid and axes
    assert not any(e.tag in ("script", "style") or "style" in e.attrib for e in root.iter())


def test_every_text_is_escaped():
    frame = rate_frame(
        chart_id='a"<b>',
        title="<script>alert(1)</script>",
        description="Tom & Jerry",
        y_title="<b>rate</b>",
        y_ticks=[(0, "<0>"), (1, "1 & more")],
        x_title="</svg><script>",
    )
    svg = frame.svg([], 300, [(0, "<script>"), (100, "a&b")])
    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find("title").text == "<script>alert(1)</script>"
    assert root.find("desc").text == "Tom & Jerry"
    assert root.get("id") == 'a"<b>'
    assert root.get("aria-labelledby") == 'a"<b>-title a"<b>-desc'
    assert {"<b>rate</b>", "<0>", "1 & more", "</svg><script>", "<script>", "a&b"} <= set(texts(root))


def test_values_scale_to_the_plot():
    frame = rate_frame()
    assert (frame.x_of(0), frame.x_of(100)) == (frame.left, frame.right)
    assert frame.x_of(25) == pytest.approx(frame.left + frame.width / 4)
    assert (frame.y_of(0), frame.y_of(1)) == (frame.base, frame.top) == (TOP + 200, TOP)
    assert frame.y_of(0.25) == pytest.approx(TOP + 150)
    # Values beyond the y range stay on the plot's edge.
    assert (frame.y_of(-3), frame.y_of(7)) == (frame.base, frame.top)
    # A single day, say: in the middle.
    assert rate_frame(x_range=(5, 5)).x_of(5) == frame.left + frame.width / 2
    root = parse(frame.svg([], 300))
    lines = root.findall("line")
    grid = [line for line in lines if line.get("stroke") == "#d5dae1"]
    assert [float(line.get("y1")) for line in grid] == [frame.y_of(0), frame.y_of(0.5), frame.y_of(1)]
    assert all((float(line.get("x1")), float(line.get("x2"))) == (frame.left, frame.right) for line in grid)
    axis = lines[len(grid)]
    assert float(axis.get("y1")) == float(axis.get("y2")) == frame.base


def test_x_tick_labels_that_would_touch_are_left_out_but_every_tick_is_marked():
    frame = rate_frame()
    roomy = [(0, "0"), (50, "50"), (100, "100")]
    crowded = [(value, f"{value} episodes") for value in range(0, 101, 10)]
    assert frame.fits(roomy) and not frame.fits(crowded)
    for ticks in (roomy, crowded):
        root = parse(frame.svg([], 300, ticks))
        marks = [line for line in root.findall("line") if line.get("y2") == str(frame.base + 5)]
        assert [float(mark.get("x1")) for mark in marks] == pytest.approx([frame.x_of(v) for v, _ in ticks])
        labels = [text for text in root.iter("text") if text.get("y") == str(frame.base + X_TICK_BASELINE)]
        shown = [text.text for text in labels]
        if ticks is roomy:
            assert shown == ["0", "50", "100"]
        else:
            assert 1 < len(shown) < len(ticks) and shown[0] == "0 episodes"
        # Inside the picture: the last label is pulled in rather than cut off at the right edge.
        assert all(0 <= float(text.get("x")) <= WIDTH for text in labels)


def test_the_x_title_and_what_comes_under_it():
    frame = rate_frame()
    root = parse(frame.svg([], 400))
    title = next(text for text in root.iter("text") if text.text == "Episodes")
    assert float(title.get("x")) == frame.left + frame.width / 2
    assert frame.base + X_TICK_BASELINE < float(title.get("y")) <= frame.below_axes - LINE_HEIGHT
    assert "Episodes" not in texts(parse(rate_frame(x_title="").svg([], 400)))
    baselines, bottom = legend_rows([["one"], ["two", "lines"], ["three"]], frame.below_axes)
    assert baselines == [frame.below_axes, frame.below_axes + 22, frame.below_axes + 22 + 40]
    assert bottom == baselines[-1] + 22


def test_the_kit_stands_on_the_ground_floor():
    """Django's utilities and the standard library only: every app may draw with it."""
    package = Path(recoverybridge.charts.__file__).parent
    assert not {"apps.py", "models.py", "migrations"} & {path.name for path in package.iterdir()}
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                allowed = (
                    name.startswith(("django.utils", "recoverybridge.charts"))
                    or name.split(".")[0] in sys.stdlib_module_names
                )
                assert allowed, f"{module.name} imports {name}"
