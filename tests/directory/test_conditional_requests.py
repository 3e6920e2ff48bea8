"""The finder's public answers carry validators, and a conditional request is a 304 without a search.

directory/caching.py: an ETag from the release, the directory's version token, the minute
(for answers that count from now), the language and the request; Last-Modified from the
directory's last change; a short public Cache-Control with Vary on the language and the htmx
fragment. Signed-in visitors are never given a public answer.
"""

import gzip
from datetime import time

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import parse_http_date

from recoverybridge.directory import caching
from recoverybridge.directory.actions import booklets as booklet_actions
from recoverybridge.directory.models import Fellowship, Location, Meeting
from tests.directory.test_booklets import built, define, editor, sussex  # noqa: F401 -- a fixture
from tests.directory.test_import_pipeline import record, run_import
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db

# The finder, its fragment and "other kinds", a meeting, the API, its calendar and the feeds.
PUBLIC = [
    "/?where=&mode=online",
    "/other-kinds/?mode=online&kind=secular",
    "/which-group/",
    "/api/v1/meetings?mode=online",
    "/api/v1/meetings.ics?mode=online",
    "/api/v1/fellowships",
    "/api/v1/feeds/meeting-guide.json",
    "/api/v1/feeds/hsds/services",
    "/api/v1/feeds/hsds/organizations",
]


@pytest.fixture(autouse=True)
def _nothing_kept():
    caching.forget_kept_answers()
    yield
    caching.forget_kept_answers()


@pytest.fixture
def directory():
    online = make_location(name="Online", formatted_address="")
    meetings = [
        make_meeting(
            name=f"Online meeting {n}",
            location=online,
            attendance_mode="online",
            conference_url=f"https://zoom.us/j/{n}",
            weekday=n % 7,
            start_time=time(19, 0),
        )
        for n in range(3)
    ]
    return meetings


def fetch(client, url, **headers):
    response = client.get(url, headers=headers)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def test_every_public_answer_has_validators_and_a_short_public_cache(client, directory):
    for url in PUBLIC:
        response = fetch(client, url)
        assert response.status_code == 200, url
        assert response["ETag"].startswith('W/"'), url
        assert parse_http_date(response["Last-Modified"]), url
        assert response["Cache-Control"] == "public, max-age=60", url
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Accept-Language", "Cookie", "HX-Request"} <= vary, url
        assert "Set-Cookie" not in response and not response.cookies, url


def test_a_matching_if_none_match_is_a_304_without_a_search(client, directory):
    url = "/?where=&mode=online"
    with CaptureQueriesContext(connection) as first:
        response = client.get(url)
    assert response.status_code == 200
    assert len(first) > 3  # the search ran: its queries are what the 304 saves
    assert "Online meeting 0" in response.content.decode()
    etag = response["ETag"]

    with CaptureQueriesContext(connection) as again:
        not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    # One query: the directory's version. No meeting, location or count was read.
    assert len(again) == 1, [q["sql"] for q in again]
    assert "directory_directoryversion" in again[0]["sql"]
    assert not any("directory_meeting" in q["sql"] for q in again)


def test_the_api_answers_304_with_one_query(client, directory, django_assert_num_queries):
    url = "/api/v1/meetings?mode=online"
    response = client.get(url)
    assert response.json()["count"] == 3
    with django_assert_num_queries(1):
        again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_if_modified_since_alone_is_a_304_until_the_directory_changes(client, directory):
    url = "/api/v1/fellowships"  # does not count from now: no minute in its validators
    response = client.get(url)
    since = response["Last-Modified"]
    assert client.get(url, headers={"If-Modified-Since": since}).status_code == 304
    Meeting.objects.filter(pk=directory[0].pk).update(name="Renamed")
    # The change is stamped later than `since` (at least within the same second it is not earlier).
    changed = client.get(url)
    assert parse_http_date(changed["Last-Modified"]) >= parse_http_date(since)
    assert changed["ETag"] != response["ETag"]


def test_a_wrong_etag_runs_the_search(client, directory):
    response = client.get("/api/v1/meetings?mode=online", headers={"If-None-Match": 'W/"something-else"'})
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_the_etag_changes_when_an_editor_changes_a_meeting(client, directory):
    url = "/?where=&mode=online"
    etag = client.get(url)["ETag"]
    Meeting.objects.filter(pk=directory[1].pk).update(name="Evening hope")
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "Evening hope" in response.content.decode()


def test_the_etag_changes_when_a_place_or_fellowship_is_edited_on_its_own(client, directory):
    url = "/api/v1/meetings?mode=online"
    etag = client.get(url)["ETag"]
    location = Location.objects.get(pk=directory[0].location_id)
    location.name = "Online (Zoom)"
    location.save()
    second = client.get(url, headers={"If-None-Match": etag})
    assert second.status_code == 200
    fellowship = Fellowship.objects.get(pk=directory[0].fellowship_id)
    fellowship.name = fellowship.name + " (renamed)"
    fellowship.save()
    third = client.get(url, headers={"If-None-Match": second["ETag"]})
    assert third.status_code == 200
    assert "(renamed)" in third.content.decode()


def test_the_etag_changes_when_an_import_runs(client, tmp_path):
    online = {"conference_url": "https://zoom.us/j/1", "location": "", "formatted_address": ""}
    run_import(tmp_path, "aa-online", [record("a", **online)])
    url = "/api/v1/meetings?mode=online"
    response = client.get(url)
    assert response.json()["count"] == 1
    run_import(tmp_path, "aa-online", [record("a", **online), record("b", day=2, **online)])
    again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 200
    assert again.json()["count"] == 2
    assert again["ETag"] != response["ETag"]


def test_a_rerun_import_that_changes_nothing_keeps_the_etag(client, tmp_path):
    online = {"conference_url": "https://zoom.us/j/1", "location": "", "formatted_address": ""}
    run_import(tmp_path, "aa-online", [record("a", **online)])
    url = "/api/v1/feeds/meeting-guide.json"
    etag = fetch(client, url)["ETag"]
    run_import(tmp_path, "aa-online", [record("a", **online)])
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_each_language_has_its_own_etag(client, directory):
    url = "/?where=&mode=online"
    english = client.get(url, headers={"Accept-Language": "en"})
    spanish = client.get(url, headers={"Accept-Language": "es"})
    assert english["ETag"] != spanish["ETag"]
    assert spanish["Content-Language"] == "es"
    # The English validator does not answer a Spanish request with a 304 (nor the other way).
    cross = client.get(url, headers={"Accept-Language": "es", "If-None-Match": english["ETag"]})
    assert cross.status_code == 200
    assert cross["Content-Language"] == "es"
    client.cookies["django_language"] = "es"
    by_cookie = client.get(url, headers={"Accept-Language": "en"})
    assert by_cookie["ETag"] == spanish["ETag"]


def test_the_htmx_fragment_is_not_the_page(client, directory):
    url = "/?where=&mode=online"
    page = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "results"})
    assert page["ETag"] != fragment["ETag"]
    assert b"<html" in page.content and b"<html" not in fragment.content
    # The kept page is not handed to an htmx request, nor the fragment to a page load.
    assert b"<html" not in client.get(url, headers={"HX-Request": "true", "HX-Target": "results"}).content
    assert b"<html" in client.get(url).content


def test_the_same_search_again_is_served_without_searching(client, directory):
    url = "/api/v1/meetings?mode=online"
    first = client.get(url)
    with CaptureQueriesContext(connection) as again:
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert len(again) == 1


def test_a_signed_in_visitor_is_never_given_a_public_answer(client, directory):
    anonymous = client.get("/?where=&mode=online")
    user = User.objects.create_user("editor", password="x")
    client.force_login(user)
    response = client.get("/?where=&mode=online", headers={"If-None-Match": anonymous["ETag"]})
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")
    assert "ETag" not in response
    # The header links to the staff pages: this page is theirs alone.
    assert f'href="{reverse("workspace:home")}"' in response.content.decode()


def test_staff_pages_are_not_public(client, directory):
    user = User.objects.create_user("someone", password="x")
    client.force_login(user)
    response = client.get("/staff/", follow=True)
    assert "public" not in response.get("Cache-Control", "")


def test_a_page_with_a_message_waiting_is_not_answered_from_the_cache(client, directory):
    meeting = directory[0]
    url = f"/meetings/{meeting.pk}/"
    page = client.get(url)
    assert page["Cache-Control"] == "public, max-age=60"
    response = client.post(
        f"/meetings/{meeting.pk}/report/", {"message": "It moved to Tuesdays.", "contact_email": ""}
    )
    assert response.status_code == 302
    shown = client.get(url, headers={"If-None-Match": page["ETag"]})
    assert shown.status_code == 200
    assert "Thank you. An editor will check your report." in shown.content.decode()
    assert "public" not in shown.get("Cache-Control", "")


def test_the_language_form_needs_no_csrf_token(directory):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/which-group/")
    assert b"csrfmiddlewaretoken" not in page.content
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/which-group/"})
    assert response.status_code == 302
    assert response.url == "/which-group/"
    assert client.get("/which-group/")["Content-Language"] == "es"


def test_the_finder_shows_a_booklet_as_soon_as_it_is_built_and_stops_when_removed(client, sussex):  # noqa: F811
    cache.clear()  # places found by earlier tests' directories are kept in the cache
    url = "/?where=Lewes"
    before = client.get(url)
    assert "A printed list of this area" not in before.content.decode()
    booklet = define()
    built(booklet)  # the build gives the booklet its extent: the finder now links it
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert "A printed list of this area" in after.content.decode()
    booklet_actions.remove_booklet(editor(), booklet.pk)
    removed = client.get(url, headers={"If-None-Match": after["ETag"]})
    assert removed.status_code == 200
    assert "A printed list of this area" not in removed.content.decode()


def test_a_public_answer_is_compressed_for_a_browser_that_takes_gzip(client, directory):
    url = "/?where=&mode=online"
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in {v.strip() for v in packed["Vary"].split(",")}
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 3
    # The same validator answers the compressed copy's conditional request with a 304.
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed["ETag"]})
    assert again.status_code == 304


def test_staff_pages_are_never_compressed(client, directory):
    """A page with a CSRF token and someone's data stays uncompressed (BREACH)."""
    user = User.objects.create_user("someone", password="x")
    client.force_login(user)
    response = client.get("/staff/", follow=True, headers={"Accept-Encoding": "gzip"})
    assert b"</html>" in response.content  # readable as sent
    assert "Content-Encoding" not in response
