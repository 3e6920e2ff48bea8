"""The text in the server-drawn charts is readable on a phone and not oversized on a desktop.

The charts are SVG scaled to their column, so their text scales with them. In Debian's Chromium
each <text> is measured as drawn: its font size times the scale from SVG units to CSS pixels
(getScreenCTM). At 320 and 375 px wide it must be at least 11 px; at 1280 px at most 20 px. No
two texts of a chart overlap and none sticks out of its chart. Covered: Pat's outcome
trajectories (Bob's view), and the funnel plots and Kaplan-Meier curves of an evaluation report.
Screenshots: test-artifacts/screenshots/charts-*.png.
"""

from urllib.parse import urlencode

import numpy as np
import pytest

from recoverybridge.evaluation.funnel import funnel_from_counts, render_funnel_svg
from recoverybridge.evaluation.simulate import simulate_episodes
from recoverybridge.evaluation.survival import kaplan_meier, render_km_svg
from tests.evaluation.test_pages import QUERY
from tests.web.test_browser import DESKTOP, PHONE, SCREENSHOTS, chromium, page  # noqa: F401  (fixtures)
from tests.web.test_evaluation_browser import PASSWORD as SOL_PASSWORD
from tests.web.test_evaluation_browser import northshore  # noqa: F401  (fixture)
from tests.web.test_outcome_pages_browser import record_pats_trajectories, world  # noqa: F401
from tests.web.test_staff_browser import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SMALL_PHONE = {"width": 320, "height": 720}
SMALLEST_PX = 11.0
LARGEST_PX = 20.0

# Each chart's texts: what they say, their drawn font size in CSS px and their box on screen.
MEASURE = """svgs => svgs.map(svg => {
  const frame = svg.getBoundingClientRect();
  return {
    id: svg.id,
    frame: [frame.left, frame.top, frame.right, frame.bottom],
    texts: [...svg.querySelectorAll("text")].map(text => {
      const m = text.getScreenCTM();
      const box = text.getBoundingClientRect();
      return {
        text: text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * Math.hypot(m.a, m.b),
        box: [box.left, box.top, box.right, box.bottom],
      };
    }),
  };
})"""


def measure(page, kind: str) -> list[dict]:  # noqa: F811
    charts = page.locator(f"svg.chart{kind}").evaluate_all(MEASURE)
    assert charts, f"no svg.chart{kind} on the page"
    return charts


def overlap(a: list[float], b: list[float], slack: float = 1.0) -> bool:
    return a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]


def check_charts(page, kind: str, name: str) -> list[str]:  # noqa: F811
    """At each width: text sizes within bounds, no overlaps, nothing outside the chart.

    Each chart is photographed at phone and desktop widths; the smallest and largest text sizes
    at each width are printed (pytest -s) before anything is checked.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    measured = {}
    for label, size in (("small-phone", SMALL_PHONE), ("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        measured[label] = (size["width"], measure(page, kind))
        if label != "small-phone":
            for index, svg in enumerate(page.locator(f"svg.chart{kind}").all()):
                svg.screenshot(path=str(SCREENSHOTS / f"charts-{name}-{index}-{label}.png"))
    page.set_viewport_size(DESKTOP)
    for width, charts in measured.values():
        sizes = [text["px"] for chart in charts for text in chart["texts"]]
        print(f"{name} at {width} px: text {min(sizes):.1f} to {max(sizes):.1f} px")
    problems = []
    for label, (width, charts) in measured.items():
        for chart in charts:
            left, top, right, bottom = chart["frame"]
            for text in chart["texts"]:
                where = f"{chart['id']} {text['text']!r} at {width} px"
                if label == "desktop" and text["px"] > LARGEST_PX:
                    problems.append(f"{where}: {text['px']:.1f} px, too large")
                if label != "desktop" and text["px"] < SMALLEST_PX:
                    problems.append(f"{where}: {text['px']:.1f} px, too small")
                box = text["box"]
                if box[0] < left - 0.5 or box[2] > right + 0.5 or box[1] < top - 0.5 or box[3] > bottom + 0.5:
                    problems.append(f"{where}: outside the chart")
            texts = chart["texts"]
            for i, first in enumerate(texts):
                for second in texts[i + 1 :]:
                    if overlap(first["box"], second["box"]):
                        problems.append(
                            f"{chart['id']} at {width} px: {first['text']!r} overlaps {second['text']!r}"
                        )
    return problems


def test_outcome_charts_are_readable_on_a_phone(live_server, page, world):  # noqa: F811
    record_pats_trajectories(world)
    sign_in(page, live_server, f"/staff/people/{world.pat.pk}/outcomes/")
    page.get_by_role("heading", name="Outcomes", level=1).wait_for()
    assert page.locator("svg.chart").count() == 4
    assert check_charts(page, "", "outcomes") == []
    page.screenshot(path=str(SCREENSHOTS / "charts-outcomes-page-desktop.png"), full_page=True)


def test_report_charts_are_readable_on_a_phone(live_server, page, northshore):  # noqa: F811
    # Sol manages the Northshore service: his report compares its two teams (units too small to
    # show are left out of the drawing).
    report = f"/staff/evaluation/report/?{QUERY}"
    page.goto(f"{live_server.url}/accounts/login/?{urlencode({'next': report})}")
    page.get_by_label("Username").fill("sol")
    page.get_by_label("Password").fill(SOL_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role(
        "heading", name="Evaluation: Peer bridged (introduced or accompanied)", level=1
    ).wait_for()
    assert check_charts(page, ".funnel", "funnel") + check_charts(page, ".km-chart", "km") == []


def busy_charts() -> tuple[str, str]:
    """A funnel of 40 workers with many outliers, long names and over-dispersion, and survival
    curves of five groups with long names: harder to lay out than the test worlds' charts."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(8, 400, 40)
    rates = np.concatenate([np.clip(rng.normal(0.3, 0.06, 34), 0, 1), [0.9, 0.85, 0.97, 0.02, 0.8, 0.75]])
    names = [f"Worker {i}" for i in range(34)] + [
        "Northshore Recovery, North team",
        "Coastal Housing Service",
        "Dana",
        "A very long unit name that cannot fit on a phone at all, not in one line",
        "Eastside",
        "Wellbeing",
    ]
    busy = funnel_from_counts(names, sizes, np.round(sizes * rates).astype(int))
    assert busy.overdispersed and len(busy.outliers) >= 3
    frame = simulate_episodes(500, seed=4).frame
    frame["episode_kind"] = frame["episode_kind"].cat.rename_categories(
        lambda kind: f"{kind}: a long description of this kind of episode"
    )
    return (
        render_funnel_svg(busy, "Busy funnel", "Forty workers", chart_id="busy-funnel"),
        render_km_svg(
            kaplan_meier(frame, group="episode_kind"), "Five groups", "Long names", chart_id="busy-km"
        ),
    )


def test_a_busy_funnel_and_long_names_fit_a_phone(live_server, page):  # noqa: F811
    charts = "".join(f'<div class="chart-box">{svg}</div>' for svg in busy_charts())
    stylesheet = f"{live_server.url}/static/css/site.css"
    page.set_content(
        f'<!doctype html><html lang="en"><head><title>Charts</title><link rel="stylesheet" href="{stylesheet}">'
        f'</head><body><main class="wrap">{charts}</main></body></html>'
    )
    assert check_charts(page, ".funnel", "busy-funnel") + check_charts(page, ".km-chart", "busy-km") == []
    # The most extreme outliers are named, inside the plot.
    assert page.locator("#busy-funnel text[fill='#8a3b00']").count() >= 2
