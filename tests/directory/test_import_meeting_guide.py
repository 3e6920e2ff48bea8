"""What real Meeting Guide feeds do, in small inline feeds: times, day arrays, zones, addresses."""

import json
from datetime import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recoverybridge.directory.feeds import meeting_guide
from recoverybridge.directory.feeds.records import FeedError
from recoverybridge.directory.models import ImportRun, MeetingSource

pytestmark = pytest.mark.django_db


def import_records(tmp_path, records, *options):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records))
    out = StringIO()
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=test-feed",
        "--fellowship=aa",
        *options,
        stdout=out,
    )
    return out.getvalue()


def meeting(key):
    return MeetingSource.objects.select_related("meeting__location").get(source_key=key).meeting


def in_chicago(slug, **fields):
    base = {"slug": slug, "name": slug.title(), "day": 2, "time": "19:00", "timezone": "America/Chicago"}
    base.update(fields)
    return base


def test_twelve_hour_times_are_read_as_wall_clock_times(tmp_path):
    import_records(
        tmp_path,
        [
            in_chicago("late-morning", time="11:00 AM", end_time="12:00 PM"),
            in_chicago("evening", time="7:30 pm", end_time="8:30 pm"),
            in_chicago("midnight", time="12:00 am", end_time="1am"),
        ],
    )

    assert (meeting("late-morning").start_time, meeting("late-morning").end_time) == (time(11), time(12))
    assert (meeting("evening").start_time, meeting("evening").end_time) == (time(19, 30), time(20, 30))
    assert (meeting("midnight").start_time, meeting("midnight").end_time) == (time(0), time(1))


def test_a_missing_end_time_is_left_empty_not_invented(tmp_path):
    import_records(tmp_path, [in_chicago("no-end")])

    assert meeting("no-end").end_time is None


def test_a_day_array_becomes_one_meeting_per_day(tmp_path):
    output = import_records(
        tmp_path,
        [in_chicago("weekdays", day=[1, "3", 5]), in_chicago("single", day=["4"])],
    )

    keys = set(MeetingSource.objects.values_list("source_key", flat=True))
    assert keys == {"weekdays#1", "weekdays#3", "weekdays#5", "single"}
    assert meeting("weekdays#3").weekday == 3
    assert meeting("weekdays#3").name == "Weekdays"
    assert meeting("single").weekday == 4
    assert "4 records read, 4 created" in output


def test_a_duplicate_slug_keeps_the_first_and_reports_the_second(tmp_path):
    output = import_records(
        tmp_path, [in_chicago("twin", name="First"), in_chicago("twin", name="Second"), in_chicago("other")]
    )

    assert meeting("twin").name == "First"
    assert "rejected twin: duplicate slug (already used by record 1)" in output


def test_string_coordinates_give_the_time_zone(tmp_path):
    import_records(
        tmp_path,
        [
            {
                "slug": "denver",
                "name": "Denver",
                "day": 0,
                "time": "09:00",
                "latitude": "39.7392",
                "longitude": "-104.9903",
            }
        ],
    )

    denver = meeting("denver")
    assert denver.timezone == "America/Denver"
    assert (denver.location.latitude, denver.location.longitude) == (39.7392, -104.9903)


def test_the_zone_falls_back_to_the_state_then_to_the_feed_default(tmp_path):
    import_records(
        tmp_path,
        [
            {
                "slug": "tulsa",
                "name": "Tulsa",
                "day": 1,
                "time": "19:00",
                "formatted_address": "1 Main St, Tulsa, OK 74103, USA",
            },
            {"slug": "kc", "name": "KC", "day": 1, "time": "19:00", "city": "Kansas City", "state": "MO"},
            {
                "slug": "dallas",
                "name": "Dallas",
                "day": 1,
                "time": "19:00",
                "formatted_address": "Dallas, TX, USA",
            },
            {"slug": "typo", "name": "Typo", "day": 1, "time": "19:00", "timezone": "America/Nowhere"},
        ],
        "--timezone=America/Los_Angeles",
    )

    assert meeting("tulsa").timezone == "America/Chicago"
    assert meeting("kc").timezone == "America/Chicago"
    # Texas spans two zones, so the state says nothing: the feed's default applies.
    assert meeting("dallas").timezone == "America/Los_Angeles"
    assert meeting("typo").timezone == "America/Los_Angeles"
    assert "unknown time zone 'America/Nowhere'" in ImportRun.objects.get().message


def test_approximate_follows_the_feed_else_the_number_of_address_parts(tmp_path):
    import_records(
        tmp_path,
        [
            in_chicago("street", formatted_address="1 Main St, Tulsa, OK 74103, USA"),
            in_chicago("city-only", formatted_address="Tulsa, OK 74103, USA"),
            in_chicago("said-yes", formatted_address="1 Main St, Tulsa, OK 74103, USA", approximate="yes"),
            in_chicago("said-no", formatted_address="Tulsa, OK, USA", approximate="no"),
            in_chicago("parts", address="1 Main St", city="Tulsa", state="OK", postal_code=74103),
        ],
    )

    approximate = {
        key: meeting(key).location.approximate
        for key in ("street", "city-only", "said-yes", "said-no", "parts")
    }
    assert approximate == {
        "street": False,
        "city-only": True,
        "said-yes": True,
        "said-no": False,
        "parts": False,
    }
    # As TSML UI does, the state implies the country.
    assert meeting("parts").location.formatted_address == "1 Main St, Tulsa, OK 74103, USA"


def test_attendance_is_derived_from_address_link_phone_and_temporary_closure(tmp_path):
    street = {"formatted_address": "1 Main St, Tulsa, OK 74103, USA"}
    area = {"formatted_address": "Tulsa, OK, USA"}
    zoom = {"conference_url": "https://zoom.us/j/123"}
    import_records(
        tmp_path,
        [
            in_chicago("in-person", **street),
            in_chicago("hybrid", **street, **zoom),
            in_chicago("online", **area, **zoom),
            in_chicago("phone-only", **area, conference_phone="+1 646 558 8656,,123#"),
            in_chicago("closed-but-online", **street, **zoom, types=["TC"]),
            in_chicago("closed", **street, types=["TC"]),
            in_chicago("bad-link", **area, conference_url="zoom meeting 123"),
        ],
    )

    modes = {
        key: meeting(key).attendance_mode
        for key in ("in-person", "hybrid", "online", "phone-only", "closed-but-online", "closed", "bad-link")
    }
    assert modes == {
        "in-person": "in_person",
        "hybrid": "hybrid",
        "online": "online",
        "phone-only": "online",
        "closed-but-online": "online",
        "closed": "inactive",
        "bad-link": "inactive",
    }
    assert meeting("bad-link").conference_url == ""
    assert "conference links left out: not an http(s) URL (1)" in ImportRun.objects.get().message


def test_regions_come_from_regions_or_region_and_sub_region(tmp_path):
    import_records(
        tmp_path,
        [
            in_chicago("nested", regions=["Illinois", "Chicago", "Wicker Park"], city="Chicago"),
            in_chicago("pair", region="Chicago", sub_region="Loop", city="Chicago", location="Loop Club"),
        ],
    )

    assert meeting("nested").location.region_path == "Illinois > Chicago > Wicker Park"
    assert meeting("pair").location.region_path == "Chicago > Loop"


def test_group_conference_and_notes_fields_are_kept(tmp_path):
    import_records(
        tmp_path,
        [
            in_chicago(
                "full",
                group="Serenity Group",
                group_notes="Business meeting monthly",
                notes="Ring the <b>buzzer</b>",
                conference_url="https://zoom.us/j/9",
                conference_url_notes="Password 123",
                conference_phone="+13126266799,,9#",
                conference_phone_notes="Code 9",
                location="Alano Club",
                location_notes="Second floor",
                url="https://example.org/meetings/full",
                updated="2024-03-01 10:00:00",
            )
        ],
    )

    full = meeting("full")
    assert (full.group_name, full.group_notes, full.notes) == (
        "Serenity Group",
        "Business meeting monthly",
        "Ring the buzzer",
    )
    assert (full.conference_url_notes, full.conference_phone, full.conference_phone_notes) == (
        "Password 123",
        "+13126266799,,9#",
        "Code 9",
    )
    assert (full.location.name, full.location.notes) == ("Alano Club", "Second floor")
    assert full.website == "https://example.org/meetings/full"
    assert MeetingSource.objects.get().source_updated.isoformat() == "2024-03-01T10:00:00+00:00"


def test_records_it_cannot_use_are_reported_with_slug_and_reason():
    parsed = meeting_guide.parse(
        [
            {"slug": "seven", "name": "x", "day": 7, "time": "10:00"},
            {"slug": "no-time", "name": "x", "day": 3},
            {"slug": "late", "name": "x", "day": 3, "time": "25:00"},
            {"name": "no slug"},
            {"slug": "nameless", "day": 1, "time": "10:00"},
            "not a meeting",
            {"slug": 12, "name": "numeric", "day": "2", "time": "8:00"},
        ]
    )

    assert [(r.key, r.reason) for r in parsed.rejections] == [
        ("seven", "day 7 is not 0-6"),
        ("no-time", "day 3 but no time"),
        ("late", "time '25:00' is not a time"),
        ("record 4", "no slug"),
        ("nameless", "no name"),
        ("record 6", "not an object but a JSON string"),
    ]
    assert [(r.source_key, r.weekday, r.start_time) for r in parsed.records] == [("12", 2, time(8))]


def test_a_top_level_that_is_not_a_list_is_not_a_meeting_guide_feed(tmp_path):
    with pytest.raises(FeedError, match="JSON array of meetings, this is a JSON object"):
        meeting_guide.parse({"meetings": []})

    path = tmp_path / "object.json"
    path.write_text('{"meetings": []}')
    with pytest.raises(CommandError, match="JSON array"):
        call_command("import_feed", str(path), "--format=meeting-guide", "--source=obj", "--fellowship=aa")
    assert ImportRun.objects.get().status == "failed"
