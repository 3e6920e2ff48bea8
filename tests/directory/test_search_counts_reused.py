"""A search with no place and no time window keeps its counts while the directory is unchanged.

Counting the "welcomes people on MOUD" or "online anywhere" search scans an index over
much of the directory, so its counts are kept per process under the directory's version
token, which database triggers change in the same transaction as any change to meetings
or their attributes. These tests warm the kept counts, change the directory the ways it
changes (a feed import, an editor, the admin or raw SQL, a rolled-back change), and check
that the very next search counts the change.
"""

from datetime import UTC, datetime, time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from recoverybridge.directory.actions import changes
from recoverybridge.directory.models import Attribute, Location, Meeting
from recoverybridge.directory.queries import MeetingSearch, search_meetings
from recoverybridge.directory.version import current_token
from tests.directory.test_import_pipeline import record, run_import
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def search(**params):
    return search_meetings(MeetingSearch.model_validate(params), now=NOW)


def counted(**params):
    """(count, {mode: count}, {approach: count}, queries run) of a search."""
    with CaptureQueriesContext(connection) as queries:
        result = search(**params)
    facets = result.facets
    return (
        result.count,
        {f.value: f.count for f in facets["mode"] if f.count},
        {f.value: f.count for f in facets["approach"] if f.count},
        len(queries),
    )


def warm(**params):
    """Search twice; the second must reuse the counts (fewer queries), or the test proves nothing."""
    first = counted(**params)
    second = counted(**params)
    assert second[:3] == first[:3]
    assert second[3] < first[3], "the second search should have reused the counts"
    return second[:3]


def test_importing_a_feed_changes_the_counts_of_the_next_search(tmp_path):
    online = {"conference_url": "https://zoom.us/j/1", "location": "", "formatted_address": ""}
    run_import(tmp_path, "aa-online", [record("a", **online), record("b", day=2, **online)])
    assert warm(mode="online") == (2, {"online": 2}, {"twelve-step": 2})

    run_import(
        tmp_path,
        "smart-online",
        [record("c", conference_url="https://zoom.us/j/3", location="", formatted_address="")],
        "--fellowship=smart",
    )

    assert counted(mode="online")[:3] == (3, {"online": 3}, {"twelve-step": 2, "secular": 1})


def test_a_meeting_gone_from_its_feed_leaves_the_counts(tmp_path):
    run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2)])
    assert warm(mode="in_person") == (2, {"in_person": 2}, {"twelve-step": 2})

    run_import(tmp_path, "lewes", [record("monday")])

    assert counted(mode="in_person")[:3] == (1, {"in_person": 1}, {"twelve-step": 1})


def test_an_editor_setting_the_moud_stance_counts_at_once(django_user_model):
    meeting = make_meeting(name="NA downtown", fellowship="na")
    make_meeting(name="SMART welcoming", fellowship="smart", moud_stance="welcoming")
    editor = django_user_model.objects.create_user("ed")
    assert warm(moud_friendly=True) == (1, {"in_person": 1}, {"secular": 1})

    changes.set_moud_stance(
        meeting.pk, stance="welcoming", source="asked the secretary", verified_on=NOW.date(), editor=editor
    )

    assert counted(moud_friendly=True)[:3] == (2, {"in_person": 2}, {"secular": 1, "twelve-step": 1})


def test_changes_below_the_application_count_too():
    """The admin, a shell or raw SQL: the triggers see every write, not only our actions'."""
    meeting = make_meeting(name="AA", fellowship="aa")
    make_meeting(name="NA", fellowship="na")
    assert warm(language="es") == (0, {}, {})
    assert warm() == (2, {"in_person": 2}, {"twelve-step": 2})

    meeting.attributes.add(Attribute.objects.get(slug="language-es"))
    assert counted(language="es")[:3] == (1, {"in_person": 1}, {"twelve-step": 1})

    Meeting.objects.filter(pk=meeting.pk).update(status="inactive")
    assert counted()[:3] == (1, {"in_person": 1}, {"twelve-step": 1})

    Meeting.objects.filter(pk=meeting.pk).delete()
    Meeting.objects.update(attendance_mode="online")
    assert counted()[:3] == (1, {"online": 1}, {"twelve-step": 1})


def test_a_rolled_back_change_leaves_no_counts_behind():
    make_meeting(name="SMART", fellowship="smart")
    assert warm() == (1, {"in_person": 1}, {"secular": 1})
    before = current_token()

    with pytest.raises(RuntimeError), transaction.atomic():
        make_meeting(name="AA", fellowship="aa")
        assert warm() == (2, {"in_person": 2}, {"secular": 1, "twelve-step": 1})
        raise RuntimeError("changed my mind")

    assert current_token() == before
    assert counted()[:3] == (1, {"in_person": 1}, {"secular": 1})
    make_meeting(name="NA", fellowship="na")
    assert counted()[:3] == (2, {"in_person": 2}, {"secular": 1, "twelve-step": 1})


def test_text_searches_are_never_reused_as_they_match_location_names():
    place = make_location(name="St Peter's Church")
    make_meeting(name="Unity", location=place)
    assert counted(q="peter")[0] == 1
    assert counted(q="peter")[3] == counted(q="peter")[3]

    Location.objects.filter(pk=place.pk).update(name="St Paul's Church")

    assert counted(q="peter")[0] == 0


def test_reused_counts_give_the_same_page_as_counting_afresh():
    for hour in range(6):
        make_meeting(name=f"At {hour}", start_time=time(10 + hour), moud_stance="welcoming")
        make_meeting(name=f"Online at {hour}", start_time=time(10 + hour, 30), attendance_mode="online")

    def page(**params):
        result = search(page_size=4, **params)
        return result.count, [(hit.meeting.name, hit.next_occurrence) for hit in result.hits]

    for params in ({}, {"page": 2}, {"page": 3}, {"moud_friendly": True}, {"mode": "online", "page": 2}):
        fresh = page(**params)
        assert page(**params) == fresh
