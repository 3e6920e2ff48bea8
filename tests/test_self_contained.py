"""No page loads a script, style sheet, font or image from another host: everything is vendored."""

import re

import pytest

from tests.factories import make_meeting

# src/href of the elements a browser fetches by itself (scripts, styles, icons, images).
FETCHED = re.compile(r"<(?:script|img|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


def remote_assets(html: str) -> list[str]:
    return [url for url in FETCHED.findall(html) if re.match(r"^(?:https?:)?//", url)]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs", "/", "/?where=Lewes", "/which-group/"])
def test_pages_fetch_nothing_from_other_hosts(client, path):
    make_meeting(name="Lewes Serenity")
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert FETCHED.search(html), "the page should load some asset of its own"
    assert remote_assets(html) == []


@pytest.mark.django_db
def test_a_meeting_page_fetches_nothing_from_other_hosts(client):
    meeting = make_meeting(name="Lewes Serenity", conference_url="https://zoom.us/j/1")
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert remote_assets(html) == []
