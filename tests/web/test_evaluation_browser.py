"""The evaluation pages in a real browser (Debian's Chromium, Playwright, axe-core), with
screenshots at phone and desktop widths in test-artifacts/screenshots/evaluation-*.png:
Sol, who manages the Northshore service, fills in the report form with the keyboard alone,
corrects a mistake, and reads the report (small counts hidden, as he is outside the care team)."""

import re

import pytest
from django.core.cache import caches

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.evaluation.test_pages import build_evaluation_world
from tests.web.test_browser import DESKTOP, PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a long service manager passphrase"


@pytest.fixture
def northshore(transactional_db):
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    # Emptying the tables leaves the report cache's alone: no report from an earlier world.
    caches["evaluation"].clear()
    world = build_evaluation_world()
    world.sol.set_password(PASSWORD)
    world.sol.save()
    return world


def press_on(page, label: str, key: str = "Space", **options) -> None:  # noqa: F811
    page.get_by_label(label, **options).focus()
    page.keyboard.press(key)


def test_a_service_manager_builds_a_report_with_the_keyboard(live_server, page, northshore):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/evaluation/")
    page.get_by_label("Username").fill("sol")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/staff/evaluation/$"))
    page.get_by_role("heading", name="Evaluation reports", level=1).wait_for()
    assert page.get_by_role("link", name="Evaluation", exact=True).get_attribute("aria-current") == "page"
    # The wait for a large cohort is said before it starts.
    assert "takes a few seconds" in page.get_by_role("button", name="Show the report").evaluate(
        "button => document.getElementById(button.getAttribute('aria-describedby')).textContent"
    )
    screenshots(page, "evaluation-form")

    # A first try with every outcome unticked: the form comes back saying so, by the field.
    press_on(page, "Attended mutual aid within 28 days")
    press_on(page, "Change in recovery capital (BARC-10)")
    page.get_by_role("button", name="Show the report").focus()
    page.keyboard.press("Enter")
    page.get_by_role("alert").filter(has_text="Choose at least one outcome.").wait_for()
    assert page.locator("#id_outcomes_error").inner_text() == "Choose at least one outcome."
    screenshots(page, "evaluation-form-errors")

    press_on(page, "Detox", exact=True)
    press_on(page, "Attended mutual aid within 28 days")
    press_on(page, "Completed treatment")
    press_on(page, re.compile("^The people who had it"))
    page.get_by_label("Who to compare").focus()
    page.keyboard.press("ArrowDown")  # keep the people the groups have in common (Crump's rule)
    page.get_by_role("button", name="Show the report").focus()
    page.keyboard.press("Enter")

    page.get_by_role(
        "heading", name="Evaluation: Peer bridged (introduced or accompanied)", level=1
    ).wait_for()
    assert "trim=crump" in page.url and "estimand=att" in page.url and "episode_kinds=detox" in page.url
    for section in ("Who is in the cohort", "Referral rates: which differences are real", "Programme effect"):
        assert page.get_by_role("heading", name=section, level=2).is_visible()
    assert page.get_by_text("counts of 1\u20137 are shown as *").is_visible()
    # Every scrolling table is a named region a keyboard user can reach.
    regions = page.locator(".table-wrap[role=region][tabindex='0']")
    assert regions.count() > 5
    assert page.locator("svg[role=img] title").count() >= 1
    screenshots(page, "evaluation-report")
    for width in (DESKTOP["width"], PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 900})
        check_funnels(page)
        # The page never scrolls sideways, and no table is cut off: on a phone each row is a card.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        clipped = page.evaluate(
            "[...document.querySelectorAll('.table-wrap')].filter(w => w.offsetParent !== null"
            " && w.scrollWidth > w.clientWidth + 1).length"
        )
        assert clipped == 0 or width == DESKTOP["width"]
    page.set_viewport_size(PHONE)
    summary = page.get_by_role("region", name="Cohort", exact=True)
    assert summary.evaluate("region => region.scrollWidth <= region.clientWidth")
    assert page.locator("svg[role=img]").first.evaluate("svg => svg.getBoundingClientRect().width <= 375")
    # The technical details open with the keyboard; the glossary explains the words.
    details = page.locator("details.technical summary").first
    details.focus()
    page.keyboard.press("Enter")
    assert page.locator("details.technical").first.evaluate("d => d.open")
    assert page.get_by_role("heading", name="What the words mean").is_visible()
    screenshots(page, "evaluation-report-details")
    # Sol reads outside the care team: workers are pseudonymous.
    assert "Pim Lee" not in page.content() and "Worker 1" in page.content()

    href = page.get_by_role("link", name="Download as PDF").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}", timeout=180_000)  # WeasyPrint, on a busy machine
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"


def check_funnels(page) -> None:  # noqa: F811
    """Every funnel's axes fit its points (none squashed against an edge, the x axis not from 0
    when the units are far from it) and its labels stay inside the picture without overlapping."""
    funnels = page.locator("svg.funnel")
    assert funnels.count() >= 1
    for i in range(funnels.count()):
        result = funnels.nth(i).evaluate(
            """svg => {
                const box = svg.getBoundingClientRect();
                const points = [...svg.querySelectorAll('.funnel-point')].map(p => p.getBoundingClientRect());
                const plot = [...svg.querySelectorAll('line')].map(l => l.getBoundingClientRect());
                const labels = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect());
                const inside = labels.every(r => r.left >= box.left - 1 && r.right <= box.right + 1
                    && r.top >= box.top - 1 && r.bottom <= box.bottom + 1);
                const xs = points.map(p => (p.left + p.right) / 2);
                return {inside, n: points.length, spread: xs.length ? Math.max(...xs) - Math.min(...xs) : 0,
                        width: box.width};
            }"""
        )
        assert result["inside"], f"funnel {i}: a label runs outside the picture"
        if result["n"] >= 2:
            # Two or more units spread over a good part of the plot, not piled at one edge.
            assert result["spread"] > 0.3 * result["width"], result
