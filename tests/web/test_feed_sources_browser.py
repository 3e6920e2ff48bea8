"""Feed sources' health and a held import in a real browser (Debian's Chromium, Playwright, axe).

Eddie, a directory editor, signs in through the sign-in form and opens the feed sources: the
failing one first, then the one whose latest feed dropped 60% of its meetings and was held.
He reads its health page, opens the held import's review, reads what would be dropped and
changed, and applies it. Screenshots at phone and desktop widths, axe on both, go to
test-artifacts/screenshots/feed-sources-*.png.
"""

import re
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User

from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship, HeldStatus
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.directory.feed_server import feed_server  # noqa: F401 (a fixture)
from tests.directory.test_feed_refresh import active_count, meetings, source_for
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    PHONE,
    chromium,
    page,
    screenshots,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]
PASSWORD = "a long editor passphrase"


@pytest.fixture
def troubled_sources(transactional_db, feed_server):  # noqa: F811
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    User.objects.create_user("eddie", "eddie@example.org", PASSWORD).groups.add(editors)

    sussex = source_for(feed_server.publish("/sussex.json", meetings(10, time="19:00")), "sussex-intergroup")
    sources.refresh_source(sussex)
    shrunk = meetings(10, time="19:00")[:4]
    shrunk[1]["name"] = "Meeting 1 (Beginners)"
    feed_server.publish("/sussex.json", shrunk)
    assert sources.refresh_source(sussex).held_import is not None

    broken = source_for(
        feed_server.publish("/kent.json", meetings(3, prefix="k", time="07:00")), "kent-district"
    )
    sources.refresh_source(broken)
    feed_server.publish("/kent.json", b"<html>Service unavailable</html>")
    sources.refresh_source(broken)
    return sussex


def sign_in(page, live_server, next_path: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("eddie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_an_editor_reads_a_sources_health_and_applies_its_held_import(
    live_server,
    page,  # noqa: F811
    troubled_sources,
):
    sussex = troubled_sources
    sign_in(page, live_server, "/editor/sources/")
    page.get_by_role("heading", name="Feed sources", level=1).wait_for()
    names = page.locator("ul.sources > li > a").all_inner_texts()
    assert names == ["kent-district", "sussex-intergroup"]
    assert page.get_by_text("is not valid JSON").is_visible()
    screenshots(page, "feed-sources-list")

    page.get_by_role("link", name="sussex-intergroup").click()
    page.get_by_role("heading", name="Feed source sussex-intergroup", level=1).wait_for()
    assert page.get_by_text("Import waiting for an editor").first.is_visible()
    assert page.get_by_text("4 read: would add 0, change 1, drop 6").is_visible()
    screenshots(page, "feed-sources-health")

    page.get_by_role("link", name="Review the held import").click()
    page.get_by_role("heading", name="Held import of sussex-intergroup", level=1).wait_for()
    assert page.get_by_role("heading", name="6 meetings dropped").is_visible()
    changed = page.get_by_role("heading", name="1 meeting changed")
    assert changed.is_visible()
    row = page.locator("table.changes tr", has_text="Name")
    assert row.locator("td").all_inner_texts() == ["Meeting 1", "Meeting 1 (Beginners)"]
    page.set_viewport_size(PHONE)
    assert page.get_by_role("button", name="Apply this import").is_visible()
    screenshots(page, "feed-sources-held")
    assert active_count(sussex) == 10  # nothing changed while it waited

    page.get_by_label("Note").fill("The intergroup closed six meetings in November.")
    page.get_by_role("button", name="Apply this import").click()
    page.wait_for_url(re.compile(rf"/editor/sources/{sussex.pk}/$"))
    assert page.get_by_text("The held import was applied.").is_visible()
    assert active_count(sussex) == 4
    assert sussex.held_imports.get().status == HeldStatus.APPLIED
    screenshots(page, "feed-sources-applied")
