"""The public services search (treatment, detox, recovery housing...) in a real browser at 375 and
1280 px, axe clean, no sign-in (published listings). Screenshots go to
test-artifacts/screenshots/services-*.
"""

import io
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.core.management import call_command

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship, Service
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
FEED = Path(__file__).resolve().parent.parent / "fixtures" / "hsds" / "recovery_services.json"


@pytest.fixture
def services(transactional_db) -> None:
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    call_command(
        "import_feed", str(FEED), format="hsds", source="boston-services", fellowship="smart",
        timezone="America/New_York", no_progress=True, stdout=io.StringIO(),
    )  # fmt: skip
    assert Service.objects.count() == 7


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_find_detox_near_a_town(live_server, chromium, services, viewport):  # noqa: F811
    context = chromium.new_context(viewport=viewport, locale="en-US", timezone_id="America/New_York")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/services/")
        check_accessibility(page)
        page.get_by_label("Town, city or postcode").fill("Cambridge")
        page.get_by_label("Kind of service").select_option("detox")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/services/?*")
        heading = page.get_by_role("heading", level=2)
        assert heading.inner_text().startswith("1 service near Cambridge")
        result = page.locator("li.result")
        assert result.count() == 1
        assert "Cambridge Withdrawal Management" in result.inner_text()
        assert result.get_by_role("link", name="+1 617 555 0101").get_attribute("href") == "tel:+16175550101"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        check_accessibility(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"services-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()
