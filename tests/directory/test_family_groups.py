"""Groups for family and friends: a kind of group of its own, from every feed format.

A relative looking for help finds Al-Anon, Nar-Anon, Families Anonymous, SMART Family & Friends
and CRAFT groups with one choice, whatever the fellowship's approach, and the meetings a feed
marks for family (Meeting Guide "FAM", a BMLT "FAM" format, an HSDS "family" taxonomy term or our
own "family-and-friends" slug) with them.
"""

import re
from datetime import UTC, datetime, time

import pytest
from django.test import Client

from recoverybridge.directory.actions.imports import import_feed
from recoverybridge.directory.feeds import bmlt, hsds, meeting_guide
from recoverybridge.directory.forms import SearchForm
from recoverybridge.directory.models import FeedSource, Fellowship, Meeting
from recoverybridge.directory.queries import MeetingSearch, is_for_family, search_meetings
from recoverybridge.directory.vocabulary import FAMILY_ATTRIBUTE
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # a Wednesday


def search(**params):
    return search_meetings(MeetingSearch.model_validate(params), now=NOW)


def names(result) -> set[str]:
    return {hit.meeting.name for hit in result.hits}


def imported(format_name: str, parsed, fellowship: str = "smart") -> Meeting:
    source = FeedSource.objects.create(
        name=f"test-{format_name}",
        format=format_name,
        fellowship=Fellowship.objects.get(slug=fellowship),
        default_timezone="America/New_York",
    )
    run = import_feed(source, parsed, now=NOW)
    assert run.status == "succeeded", run.errors
    return Meeting.objects.get(sources__feed_source=source)


def test_every_family_fellowship_the_issue_names_is_in_the_vocabulary():
    family = set(Fellowship.objects.filter(family_focused=True).values_list("slug", flat=True))
    assert {"al-anon", "nar-anon", "families-anonymous", "smart-family", "craft"} <= family
    # Al-Anon keeps its approach; being for family is what makes it a kind of its own.
    assert Fellowship.objects.get(slug="al-anon").approach == "twelve-step"


def test_a_meeting_guide_fam_type_marks_a_meeting_for_family():
    parsed = meeting_guide.parse(
        [
            {
                "name": "Loved Ones Group",
                "slug": "loved-ones",
                "day": 2,
                "time": "18:30",
                "types": ["O", "FAM"],
                "formatted_address": "1 Main St, Lewes, DE 19958, USA",
                "latitude": 38.77,
                "longitude": -75.14,
            }
        ]
    )
    meeting = imported("meeting-guide", parsed)
    assert FAMILY_ATTRIBUTE in {a.slug for a in meeting.attributes.all()}
    assert is_for_family(meeting)


def test_a_bmlt_fam_format_marks_a_meeting_for_family():
    parsed = bmlt.parse(
        [
            {
                "id_bigint": "77",
                "meeting_name": "Families Night",
                "weekday_tinyint": "3",
                "start_time": "19:00:00",
                "duration_time": "01:00:00",
                "formats": "O,FAM",
                "latitude": "38.77",
                "longitude": "-75.14",
                "location_text": "Church hall",
                "location_street": "2 Main St",
                "location_municipality": "Lewes",
                "venue_type": "1",
            }
        ]
    )
    meeting = imported("bmlt", parsed, fellowship="na")
    assert is_for_family(meeting)
    assert meeting.fellowship.slug == "na"  # the feed's fellowship; its meeting is for relatives


@pytest.mark.parametrize("code", ["family", "family-and-friends"])
def test_an_hsds_family_taxonomy_term_marks_a_meeting_for_family(code):
    parsed = hsds.parse(
        [
            {
                "id": "craft-1",
                "name": "CRAFT group for families",
                "status": "active",
                "url": "https://meet.example.org/craft",
                "attributes": [
                    {"taxonomy_term": {"code": "support-group", "name": "Support group"}},
                    {"taxonomy_term": {"code": code, "name": "Family"}},
                ],
                "schedules": [{"id": "s1", "freq": "WEEKLY", "byday": "TH", "opens_at": "18:00"}],
            }
        ]
    )
    meeting = imported("hsds", parsed)
    assert is_for_family(meeting)


def test_a_meeting_with_no_family_code_is_not_for_family():
    meeting = make_meeting("smart", name="SMART Lewes")
    assert not is_for_family(meeting)


@pytest.fixture
def directory():
    lewes = make_location(city="Lewes")
    return {
        "al-anon": make_meeting("al-anon", name="Lewes Al-Anon", location=lewes),
        "nar-anon": make_meeting("nar-anon", name="Hope Nar-Anon", location=lewes, start_time=time(18, 0)),
        "fa": make_meeting("families-anonymous", name="Families Anonymous Lewes", location=lewes),
        "craft": make_meeting("craft", name="CRAFT Lewes", location=lewes),
        "marked": make_meeting(
            "smart", name="SMART Loved Ones", location=lewes, attributes=(FAMILY_ATTRIBUTE,)
        ),
        "aa": make_meeting("aa", name="Lewes Serenity", location=lewes),
        "smart": make_meeting("smart", name="SMART Lewes", location=lewes),
    }


FAMILY_NAMES = {
    "Lewes Al-Anon",
    "Hope Nar-Anon",
    "Families Anonymous Lewes",
    "CRAFT Lewes",
    "SMART Loved Ones",
}


def test_the_family_filter_finds_family_fellowships_and_marked_meetings(directory):
    assert names(search(approach="family")) == FAMILY_NAMES
    lewes = directory["aa"].location
    near = search(approach="family", lat=lewes.latitude, lon=lewes.longitude)
    assert names(near) == FAMILY_NAMES


def test_family_is_counted_as_a_kind_of_group(directory):
    everything = {f.value: f.count for f in search().facets["approach"]}
    # The meetings of family fellowships; Al-Anon, Nar-Anon and Families Anonymous are twelve-step too.
    assert everything["family"] == 4
    assert everything["twelve-step"] == 4
    family_only = {f.value: f.count for f in search(approach="family").facets["approach"]}
    assert family_only["family"] == 5


def test_the_page_offers_family_and_friends_as_a_kind_of_group(client: Client, directory):
    html = client.get("/", {"approach": "family"}).content.decode()
    assert '<option value="family" selected>Family and friends</option>' in html
    for name in FAMILY_NAMES:
        assert name in html
    assert "Lewes Serenity" not in html


@pytest.mark.parametrize("typed", ["family", "Familia", "family & friends", "FAMILIARES", "Al-Anon"])
def test_family_typed_in_the_place_box_is_the_family_filter_not_a_400(client: Client, directory, typed):
    response = client.get("/", {"where": typed})
    html = response.content.decode()
    assert response.status_code == 200
    assert "is not a place: here are groups for family and friends" in html
    assert "Lewes Al-Anon" in html and "Lewes Serenity" not in html
    # The family kind is the current one, and the other kinds' links do not carry the word along.
    assert re.search(r'href="\?approach=family" aria-current="true">Family and friends', html)
    assert re.search(r'href="\?approach=twelve-step">Twelve-step', html)


def test_family_words_are_read_without_case_accents_or_punctuation():
    form = SearchForm({"where": " Família!  "})
    assert form.is_valid()
    assert form.cleaned_data["approach"] == "family" and form.cleaned_data["where"] == ""
    assert form.family_typed == " Família!  ".strip()


def test_a_real_place_is_still_a_place(client: Client, directory):
    response = client.get("/", {"where": "Lewes"})
    assert response.status_code == 200
    assert "is not a place" not in response.content.decode()


def test_an_al_anon_meeting_page_has_no_moud_card(client: Client, directory):
    html = client.get(f"/meetings/{directory['al-anon'].pk}/").content.decode()
    assert 'id="moud-heading"' not in html
    assert "For family and friends" in html
    other = client.get(f"/meetings/{directory['aa'].pk}/").content.decode()
    assert 'id="moud-heading"' in other
    assert "methadone" in other  # MOUD explained in words


def test_a_family_result_shows_no_moud_badge(client: Client, directory):
    Meeting.objects.filter(pk=directory["al-anon"].pk).update(moud_stance="welcoming")
    html = client.get("/", {"approach": "family"}).content.decode()
    assert "badge-family" in html and "badge-moud" not in html


def test_which_group_links_keep_the_visitors_search(client: Client, directory):
    html = client.get(
        "/which-group/", {"where": "Lewes", "when": "today", "approach": "secular", "page": "2"}
    ).content.decode()
    assert 'href="/?where=Lewes&amp;when=today&amp;approach=twelve-step"' in html
    assert 'href="/?where=Lewes&amp;when=today&amp;approach=family"' in html
    assert 'href="/?where=Lewes&amp;when=today&amp;fellowship=al-anon"' in html
    assert 'href="/?where=Lewes&amp;when=today"' in html  # back to the search as it was


def test_the_search_page_links_which_group_with_its_search(client: Client, directory):
    html = client.get("/", {"where": "Lewes"}).content.decode()
    assert 'href="/which-group/?where=Lewes" data-keep-search' in html
