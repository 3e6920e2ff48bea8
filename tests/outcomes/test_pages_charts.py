"""The server-rendered SVG charts: an image with a name and a description, axes labelled,
the reference line labelled, series told apart without colour, and the same numbers as rows."""

import re
from datetime import date
from xml.etree import ElementTree

from django.utils import translation

from recoverybridge.charts import (
    Chart,
    Point,
    ReferenceLine,
    Series,
    axis_top,
    legend,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"


def barc_chart(points) -> Chart:
    return Chart(
        chart_id="barc",
        title="Recovery capital (BARC-10 total)",
        description="From 32 to 49 over 3 responses.",
        y_label="Total",
        series=[Series("BARC-10", points)],
        y_min=10,
        y_max=60,
        reference=ReferenceLine(47, "47: sustained remission"),
    )


def parse(svg: str) -> ElementTree.Element:
    # Inline SVG in HTML needs no namespace; give it one so ElementTree can read it as XML.
    return ElementTree.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))  # noqa: S314  (our own output)


def test_a_chart_is_a_named_described_image():
    chart = barc_chart(
        [Point(date(2024, 1, 5), 32), Point(date(2024, 4, 5), 40), Point(date(2024, 7, 5), 49)]
    )
    root = parse(chart.svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "barc-title barc-desc"
    assert root.find(f"{SVG}title").text == "Recovery capital (BARC-10 total)"
    assert root.find(f"{SVG}title").get("id") == "barc-title"
    assert root.find(f"{SVG}desc").text == "From 32 to 49 over 3 responses."
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Total" in texts  # y axis label
    assert "47: sustained remission" in texts  # the reference line says what it is
    assert {"10", "20", "30", "40", "50", "60"} <= set(texts)  # y ticks
    assert [t for t in texts if re.fullmatch(r"(Mar|May|Jul) 2024", t)] == [
        "Mar 2024",
        "May 2024",
        "Jul 2024",
    ]
    # No inline styles (the content security policy forbids them) and no scripts.
    assert "style=" not in chart.svg and "<script" not in chart.svg


def test_reference_line_sits_at_its_value():
    chart = barc_chart([Point(date(2024, 1, 5), 10), Point(date(2024, 2, 5), 60)])
    root = parse(chart.svg)
    reference = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-reference")
    markers = list(root.iter(f"{SVG}circle"))
    y10, y60 = float(markers[0].get("cy")), float(markers[1].get("cy"))
    y47 = float(reference.get("y1"))
    assert y60 < y47 < y10
    assert abs((y10 - y47) / (y10 - y60) - (47 - 10) / 50) < 0.01


def test_missing_values_break_the_line_and_show_as_a_dash():
    chart = barc_chart(
        [
            Point(date(2024, 1, 1), 30),
            Point(date(2024, 2, 1), 35),
            Point(date(2024, 3, 1), None),
            Point(date(2024, 4, 1), 40),
            Point(date(2024, 5, 1), 44),
        ]
    )
    root = parse(chart.svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    assert [r.values for r in chart.rows] == [("30",), ("35",), ("—",), ("40",), ("44",)]


def test_series_differ_by_dash_and_marker_not_only_colour():
    chart = Chart(
        chart_id="days",
        title="Days used",
        description="",
        y_label="Days",
        series=[
            Series("Alcohol", [Point(date(2024, 1, 1), 20), Point(date(2024, 2, 1), 8)]),
            Series("Opioids", [Point(date(2024, 1, 1), 12), Point(date(2024, 3, 1), 0)]),
        ],
        y_min=0,
        y_max=28,
        y_ticks=(0, 7, 14, 21, 28),
    )
    root = parse(chart.svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    assert lines[0].get("stroke") != lines[1].get("stroke")
    assert [t.text for t in root.iter(f"{SVG}text")][:5] == ["0", "7", "14", "21", "28"]
    assert len(list(root.iter(f"{SVG}circle"))) == 2 and len(list(root.iter(f"{SVG}rect"))) == 2
    # One row per date, a column per series.
    assert [(r.on, r.values) for r in chart.rows] == [
        (date(2024, 1, 1), ("20", "12")),
        (date(2024, 2, 1), ("8", "—")),
        (date(2024, 3, 1), ("—", "0")),
    ]
    assert [entry[0] for entry in legend(chart)] == ["Alcohol", "Opioids"]


def test_text_is_escaped():
    chart = Chart(
        chart_id="x",
        title="<script>alert(1)</script>",
        description="a & b",
        y_label="<b>",
        series=[Series("s", [Point(date(2024, 1, 1), 1)])],
        y_min=0,
        y_max=10,
    )
    assert "<script>" not in chart.svg and "&lt;script&gt;" in chart.svg
    parse(chart.svg)  # well-formed


def test_one_point_and_no_points():
    one = barc_chart([Point(date(2024, 1, 1), 30)])
    parse(one.svg)
    assert not one.empty
    none = barc_chart([])
    parse(none.svg)
    assert none.empty and none.rows == []


def test_five_years_of_monthly_points_get_a_few_ticks():
    points = [Point(date(2020 + m // 12, m % 12 + 1, 15), 30 + m % 20) for m in range(60)]
    root = parse(barc_chart(points).svg)
    dated = [t.text for t in root.iter(f"{SVG}text") if t.text and re.search(r"\d{4}$", t.text)]
    assert 3 <= len(dated) <= 6


def test_month_names_follow_the_language():
    chart = barc_chart([Point(date(2023, 12, 20), 30), Point(date(2024, 12, 5), 40)])
    with translation.override("es"):
        svg = str(chart.svg)
    assert "Dec 2024" not in svg
    assert "dic 2024" in set(re.findall(r">(\w+ 2024)<", svg.lower()))


def test_ticks_and_axis_top():
    assert nice_ticks(10, 60) == [10, 20, 30, 40, 50, 60]
    assert nice_ticks(0, 28) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(0, 4) == [0, 1, 2, 3, 4]
    assert axis_top([3, 9, None], at_least=4) == 10
    assert axis_top([], at_least=4) == 4
