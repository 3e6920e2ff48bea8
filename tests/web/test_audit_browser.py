"""Snooping shows on the audit page, in a real browser (Debian's Chromium, Playwright, axe-core),
every staff member signed in through the sign-in form, at phone and desktop widths (screenshots
in test-artifacts/screenshots/audit-*):

Dave, a peer worker on the Community team, types the address of Pat's record (Detox team) and of
its audit trail: both are "not found", as for a record that does not exist. Alice, who manages
the Detox team, opens Pat's audit trail and sees today's refused look-ups (2) in the table of the
last 14 days, and Dave's refusals in the trail below.
"""

import re

import pytest

from tests.care_world import build_world
from tests.web.test_browser import chromium, page, screenshots  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a long staff passphrase"


@pytest.fixture
def world(transactional_db):
    world = build_world()
    for user in (world.alice, world.dave):
        user.set_password(PASSWORD)
        user.save()
    return world


def sign_in(page, live_server, username: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/"))


def test_a_manager_sees_todays_refused_look_ups_of_a_person(live_server, page, world):  # noqa: F811
    pat = world.pat
    sign_in(page, live_server, "dave")
    for path in (f"/staff/people/{pat.pk}/", f"/staff/people/{pat.pk}/audit/"):
        answer = page.goto(live_server.url + path)
        assert answer is not None and answer.status == 404
        assert "Pat" not in page.content()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()

    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/staff/people/{pat.pk}/")
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("heading", name="Refused look-ups per day", level=2).wait_for()

    table = page.get_by_role("table", name="Refused look-ups per day")
    rows = table.locator("tbody tr")
    assert rows.count() == 14
    today = rows.first
    assert today.get_by_role("rowheader").inner_text().startswith("Today, ")
    assert today.get_by_role("cell").inner_text() == "2"
    assert [rows.nth(n).get_by_role("cell").inner_text() for n in range(1, 14)] == ["0"] * 13
    trail = page.get_by_role("table", name="Audit events")
    assert trail.get_by_role("row").filter(has_text="Access denied").filter(has_text="dave").count() == 2
    screenshots(page, "audit-refused")
