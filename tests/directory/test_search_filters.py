"""Search filters, sorting, facets and the time logic as a person uses them."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from recoverybridge.directory.queries import MeetingSearch, SearchApproach, search_meetings
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # a Wednesday


def search(now=NOW, **params):
    return search_meetings(MeetingSearch.model_validate(params), now=now)


def names(result):
    return [hit.meeting.name for hit in result.hits]


def test_every_attribute_asked_for_must_match():
    make_meeting(name="Women's step study", attributes=("women", "step-study"))
    make_meeting(name="Women's speaker", attributes=("women", "speaker"))
    make_meeting(name="Step study", attributes=("step-study",))

    assert names(search(attribute=["women", "step-study"])) == ["Women's step study"]
    assert sorted(names(search(attribute=["women"]))) == ["Women's speaker", "Women's step study"]


def test_codes_that_collide_between_fellowships_do_not_leak_into_each_other():
    # Meeting Guide "A" is Secular for AA but Age-restricted for ACA; the search sees unified attributes.
    make_meeting(name="AA secular", fellowship="aa", attributes=("secular",))
    make_meeting(name="ACA age-restricted", fellowship="aca", attributes=("age-restricted",))

    assert names(search(attribute=["secular"])) == ["AA secular"]
    assert names(search(attribute=["age-restricted"])) == ["ACA age-restricted"]
    assert names(search(fellowship=["aca"])) == ["ACA age-restricted"]


def test_fellowship_approach_moud_and_language_filters():
    make_meeting(name="AA en español", fellowship="aa", attributes=("language-es",))
    make_meeting(name="SMART welcoming", fellowship="smart", moud_stance="welcoming")
    make_meeting(name="NA", fellowship="na", moud_stance="not_welcoming")

    assert sorted(names(search(fellowship=["smart", "na"]))) == ["NA", "SMART welcoming"]
    assert names(search(approach="secular")) == ["SMART welcoming"]
    assert names(search(moud_friendly=True)) == ["SMART welcoming"]
    assert names(search(language="es")) == ["AA en español"]


def test_text_search_looks_in_names_groups_notes_and_the_location():
    make_meeting(name="Serenity Now", group_name="Tuesday Regulars")
    make_meeting(name="Hope", notes="Side door, BASEMENT room")
    make_meeting(name="Unity", location=make_location(name="St Peter's Church", city="Rehoboth"))

    assert names(search(q="serenity")) == ["Serenity Now"]
    assert names(search(q="regulars")) == ["Serenity Now"]
    assert names(search(q="basement")) == ["Hope"]
    assert names(search(q="peter")) == ["Unity"]
    assert names(search(q="rehoboth")) == ["Unity"]


def test_start_times_are_local_and_a_range_may_cross_midnight():
    make_meeting(name="Early", start_time=time(7, 0))
    make_meeting(name="Evening", start_time=time(19, 0))
    make_meeting(name="Late", start_time=time(23, 30))

    assert sorted(names(search(start_after=time(18, 0)))) == ["Evening", "Late"]
    assert names(search(start_after="18:00", start_before="20:00")) == ["Evening"]
    assert names(search(start_before="7:00")) == ["Early"]
    assert sorted(names(search(start_after="22:00", start_before="08:00"))) == ["Early", "Late"]


def test_starting_within_across_zones_tokyo_and_los_angeles_at_the_same_instant():
    at = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # Wednesday 12:00 Tokyo, Tuesday 20:00 Los Angeles
    tokyo = make_location(latitude=35.68, longitude=139.65, timezone="Asia/Tokyo")
    la = make_location(latitude=34.05, longitude=-118.24, timezone="America/Los_Angeles")
    make_meeting(name="Tokyo Wednesday noon", weekday=3, start_time=time(12, 15), location=tokyo)
    make_meeting(name="LA Tuesday evening", weekday=2, start_time=time(20, 15), location=la)
    make_meeting(name="Tokyo Tuesday noon", weekday=2, start_time=time(12, 15), location=tokyo)
    make_meeting(name="LA Wednesday evening", weekday=3, start_time=time(20, 15), location=la)

    result = search(at=at, starting_within=30)

    assert sorted(names(result)) == ["LA Tuesday evening", "Tokyo Wednesday noon"]
    assert {hit.next_occurrence.astimezone(UTC) for hit in result.hits} == {
        datetime(2026, 6, 10, 3, 15, tzinfo=UTC)
    }
    assert {hit.next_occurrence.isoformat() for hit in result.hits} == {
        "2026-06-10T12:15:00+09:00",
        "2026-06-09T20:15:00-07:00",
    }


def test_saturday_night_finds_the_sunday_ten_past_midnight_meeting():
    make_meeting(name="Midnight", weekday=0, start_time=time(0, 10))
    make_meeting(name="Saturday lunch", weekday=6, start_time=time(12, 0))
    at = datetime(2026, 6, 13, 23, 50, tzinfo=ZoneInfo("America/New_York"))

    assert names(search(at=at, starting_within=30)) == ["Midnight"]


def test_a_meeting_in_progress_for_five_minutes_is_starting_within_but_not_one_after_fifteen():
    make_meeting(name="Began at 19:00", weekday=1, start_time=time(19, 0))
    make_meeting(name="Began at 18:50", weekday=1, start_time=time(18, 50))
    at = datetime(2026, 6, 15, 19, 5, tzinfo=ZoneInfo("America/New_York"))  # Monday

    result = search(at=at, starting_within=0)

    assert names(result) == ["Began at 19:00"]
    assert result.hits[0].next_occurrence.isoformat() == "2026-06-15T19:00:00-04:00"


def test_starting_within_on_the_spring_forward_night():
    make_meeting(name="Gap meeting", weekday=0, start_time=time(2, 30))
    at = datetime(2026, 3, 8, 1, 50, tzinfo=ZoneInfo("America/New_York"))  # ten minutes before the jump

    # 02:30 does not exist; the meeting is at 03:30 EDT, 40 real minutes later.
    assert names(search(at=at, starting_within=30)) == []
    found = search(at=at, starting_within=45)
    assert found.hits[0].next_occurrence.isoformat() == "2026-03-08T03:30:00-04:00"


def test_by_appointment_meetings_are_listed_last_without_a_time_filter_and_never_with_one():
    make_meeting(name="By appointment", weekday=None, start_time=None, end_time=None)
    make_meeting(name="Monday", weekday=1, start_time=time(19, 0))

    plain = search()
    assert names(plain) == ["Monday", "By appointment"]
    assert plain.hits[1].next_occurrence is None
    assert names(search(day=[1])) == ["Monday"]
    assert names(search(starting_within=7 * 24 * 60)) == ["Monday"]
    assert names(search(start_after="00:00")) == ["Monday"]


def test_only_active_meetings_are_found():
    make_meeting(name="Active")
    make_meeting(name="Gone from the feed", status="inactive")
    make_meeting(name="Marked inactive", attendance_mode="inactive")
    assert names(search()) == ["Active"]


def test_sorted_by_next_occurrence_across_zones_then_by_name():
    at = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # Wednesday 08:00 New York, 13:00 London
    make_meeting(
        name="London 14:00",
        weekday=3,
        start_time=time(14, 0),
        location=make_location(timezone="Europe/London"),
    )
    make_meeting(name="New York 09:30", weekday=3, start_time=time(9, 30))
    make_meeting(name="New York 07:00", weekday=3, start_time=time(7, 0))

    assert names(search(at=at)) == ["London 14:00", "New York 09:30", "New York 07:00"]
    assert names(search(at=at, sort="name")) == ["London 14:00", "New York 07:00", "New York 09:30"]


def test_facets_count_the_whole_set_and_list_every_approach_even_at_zero():
    for i in range(3):
        make_meeting(name=f"AA {i}", fellowship="aa")
    make_meeting(name="SMART", fellowship="smart", attendance_mode="hybrid")
    make_meeting(name="Online SMART", fellowship="smart", attendance_mode="online")

    result = search(page_size=1)

    assert result.count == 5 and len(result.hits) == 1
    approach = {f.value: f.count for f in result.facets["approach"]}
    # Every kind of group, "family and friends" included.
    assert approach == {a.value: {"twelve-step": 3, "secular": 2}.get(a.value, 0) for a in SearchApproach}
    fellowship = {f.value: f.count for f in result.facets["fellowship"]}
    assert fellowship["aa"] == 3 and fellowship["smart"] == 2 and fellowship["wellbriety"] == 0
    assert {f.value: f.count for f in result.facets["mode"]} == {"in_person": 3, "hybrid": 1, "online": 1}

    narrowed = search(approach="faith-based")
    assert narrowed.count == 0
    assert [f.value for f in narrowed.facets["approach"]] == [a.value for a in SearchApproach]


def test_pages_split_the_sorted_results_without_gaps_or_repeats():
    for hour in range(6, 18):
        make_meeting(name=f"At {hour:02}", weekday=3, start_time=time(hour, 0))
    at = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)  # Wednesday 00:00 in New York

    pages = [names(search(at=at, page=n, page_size=5)) for n in (1, 2, 3, 4)]

    assert pages[0] == ["At 06", "At 07", "At 08", "At 09", "At 10"]
    assert [name for page in pages for name in page] == [f"At {h:02}" for h in range(6, 18)]
    assert pages[3] == []
