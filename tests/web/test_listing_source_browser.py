"""A meeting's page says where its listing came from and when it was last confirmed: in a real
browser at 375 and 1280 px, axe clean, the feed's link reachable by keyboard. Screenshots go to
test-artifacts/screenshots/listing-source-*.
"""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions

from recoverybridge.directory.actions.imports import import_feed, register_feed_source
from recoverybridge.directory.feeds import bmlt
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship, Meeting
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    check_accessibility,
    chromium,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]
REAL = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "bmlt"
    / "real"
    / "meeting-search-42.867970-day2.json"
)
FEED_URL = "https://latest.aws.bmlt.app/main_server/client_interface/json/?switcher=GetSearchResults"


@pytest.fixture
def meeting(transactional_db) -> Meeting:
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    source = register_feed_source(
        "upstate-ny-na", "bmlt", FEED_URL, fellowship=Fellowship.objects.get(slug="na")
    )
    feed = json.loads(REAL.read_text(encoding="utf-8"))
    import_feed(source, bmlt.parse(feed), now=datetime(2026, 6, 1, 6, 0, tzinfo=UTC))
    return Meeting.objects.get(sources__source_key="2566")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_listing_source_on_a_meeting_page(live_server, chromium, meeting, viewport):  # noqa: F811
    context = chromium.new_context(viewport=viewport, locale="en-US", timezone_id="America/New_York")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
        section = page.get_by_role("region", name="Where this listing comes from")
        assert section.is_visible()
        assert "Last confirmed: June 1, 2026." in section.inner_text()
        link = section.get_by_role("link", name="upstate-ny-na")
        assert link.get_attribute("href") == FEED_URL
        # Reachable by keyboard, with a visible focus.
        for _ in range(60):
            page.keyboard.press("Tab")
            if (
                page.evaluate("document.activeElement && document.activeElement.textContent")
                == "upstate-ny-na"
            ):
                break
        else:
            pytest.fail("the feed's link is not reachable with Tab")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        check_accessibility(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"listing-source-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()
