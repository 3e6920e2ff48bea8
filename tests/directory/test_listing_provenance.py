"""Data quality in the open: each meeting page says where its listing came from and when it was
last confirmed, and the Meeting Guide and HSDS exports carry it.

"Last confirmed" is the last successful import of a feed that still lists the meeting: an
unchanged record is not written again, so the feed's run, not the meeting's row, says when.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recoverybridge.directory.actions.imports import import_feed, register_feed_source
from recoverybridge.directory.feeds import bmlt
from recoverybridge.directory.models import Fellowship, Meeting
from tests.directory.test_feed_hsds import validator
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db
REAL = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "bmlt"
    / "real"
    / "meeting-search-42.867970-day2.json"
)
FEED_URL = "https://latest.aws.bmlt.app/main_server/client_interface/json/?switcher=GetSearchResults"
MONDAY = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def feed() -> dict:
    return json.loads(REAL.read_text(encoding="utf-8"))


@pytest.fixture
def source():
    return register_feed_source(
        "upstate-ny-na", "bmlt", FEED_URL, fellowship=Fellowship.objects.get(slug="na")
    )


def clifton() -> Meeting:
    return Meeting.objects.get(sources__source_key="2566")


def page(client, meeting: Meeting) -> str:
    response = client.get(f"/meetings/{meeting.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_names_the_feed_and_when_it_last_confirmed_the_meeting(client, source):
    import_feed(source, bmlt.parse(feed()), now=MONDAY)
    # A week later the feed is the same: nothing is written, but the listing is confirmed again.
    later = MONDAY + timedelta(days=7)
    run = import_feed(source, bmlt.parse(feed()), now=later)
    assert (run.unchanged, run.updated) == (53, 0)
    html = page(client, clifton())
    assert "Where this listing comes from" in html
    assert (
        f'<a href="{FEED_URL.replace("&", "&amp;")}" rel="noopener noreferrer">upstate-ny-na</a> (BMLT)'
        in html
    )
    assert "still listed on June 8, 2026" in html
    assert "Last confirmed: June 8, 2026." in html
    assert "{#" not in html  # no template comment leaks onto the page


def test_a_meeting_the_feed_dropped_says_so(client, source):
    import_feed(source, bmlt.parse(feed()), now=MONDAY)
    shrunk = feed()
    shrunk["meetings"] = [m for m in shrunk["meetings"] if m["id_bigint"] != "2566"]
    import_feed(source, bmlt.parse(shrunk), now=MONDAY + timedelta(days=1))
    html = page(client, clifton())
    assert "no longer listed there since June 2, 2026" in html
    assert "No listing confirms this meeting any more." in html


def test_a_meeting_entered_here_says_so(client):
    html = page(client, make_meeting(name="Typed in by an editor"))
    assert "Entered directly in this directory, not taken from a published listing." in html


def test_the_meeting_guide_export_carries_it(client, source):
    import_feed(source, bmlt.parse(feed()), now=MONDAY)
    make_meeting(name="Typed in by an editor")
    response = client.get("/api/v1/feeds/meeting-guide.json")
    records = {r["name"]: r for r in json.loads(b"".join(response.streaming_content))}
    record = records["Step up and Be Free"]
    assert record["listing_source"] == "upstate-ny-na"
    assert record["listing_source_url"] == FEED_URL
    assert record["last_confirmed"] == "2026-06-01 06:00:00"
    typed = records["Typed in by an editor"]
    assert not {"listing_source", "listing_source_url", "last_confirmed"} & set(typed)


def test_the_hsds_export_carries_it_and_stays_valid(client, source):
    import_feed(source, bmlt.parse(feed()), now=MONDAY)
    make_meeting(name="Typed in by an editor")
    services = client.get("/api/v1/feeds/hsds/services", {"per_page": 100}).json()["contents"]
    by_name = {s["name"]: s for s in services}
    clifton_service = by_name["Step up and Be Free"]
    assert clifton_service["assured_date"] == "2026-06-01"
    [entry] = clifton_service["metadata"]
    assert (entry["resource_type"], entry["last_action_type"], entry["last_action_date"]) == (
        "service",
        "listed",
        "2026-06-01",
    )
    assert entry["updated_by"] == "upstate-ny-na (BMLT)"
    assert entry["replacement_value"] == FEED_URL
    typed = by_name["Typed in by an editor"]
    assert "assured_date" not in typed and typed["metadata"] == []
    checker = validator("service.json")
    for service in (clifton_service, typed):
        assert not list(checker.iter_errors(service)), service["name"]
