"""The real Meeting Guide feeds (copies of ../shared/data in tests/fixtures/feeds) import, warts and
all (and invalid.json fails cleanly)."""

import json
from datetime import UTC, datetime, time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from recoverybridge.directory.feeds import meeting_guide
from recoverybridge.directory.models import ImportRun, Location, Meeting, MeetingSource

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "meeting-guide"

pytestmark = pytest.mark.django_db


def import_sample(name: str, fellowship: str = "aa", *extra: str) -> str:
    out = StringIO()
    call_command(
        "import_feed",
        str(FEEDS / f"{name}.json"),
        "--format=meeting-guide",
        f"--source={name}",
        f"--fellowship={fellowship}",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def meeting(source: str, key: str) -> Meeting:
    return (
        MeetingSource.objects.select_related("meeting__location")
        .get(feed_source__name=source, source_key=key)
        .meeting
    )


def attribute_slugs(one: Meeting) -> set[str]:
    return set(one.attributes.values_list("slug", flat=True))


@pytest.mark.parametrize(
    ("name", "fellowship", "records"),
    [
        ("sussexaa", "aa", 123),
        ("al-anon", "al-anon", 360),
        ("eda", "eda", 185),
        ("kc", "aa", 206),
        ("timezones", "aa", 2),
        ("times", "aa", 9),
    ],
)
def test_every_real_feed_imports_every_meeting(name, fellowship, records):
    output = import_sample(name, fellowship)

    run = ImportRun.objects.get(feed_source__name=name)
    assert (run.status, run.records_read, run.created, run.rejected) == ("succeeded", records, records, 0)
    assert Meeting.objects.filter(sources__feed_source__name=name).count() == records
    assert f"{records} records read, {records} created" in output


def test_the_sussex_feed_knows_its_delaware_meetings_field_by_field():
    import_sample("sussexaa")

    speaker = meeting("sussexaa", "rehoboth-beach-speaker")
    assert (speaker.name, speaker.weekday, speaker.start_time, speaker.end_time) == (
        "Rehoboth Beach Speaker",
        0,
        time(19),
        time(20),
    )
    assert speaker.timezone == "America/New_York"
    assert speaker.attendance_mode == "in_person"
    assert speaker.group_name == "Rehoboth Beach Sunday Group"
    assert attribute_slugs(speaker) == {"open", "speaker"}
    location = speaker.location
    assert location.name == "All Saints' Episcopal Church"
    assert location.formatted_address == "18 Olive Ave, Rehoboth Beach, DE 19971, USA"
    assert (location.latitude, location.longitude, location.approximate) == (38.7186782, -75.0780198, False)
    assert location.region_path == "Rehoboth"
    assert location.notes.startswith("Parking is NOT PERMITTED")
    assert MeetingSource.objects.get(source_key="rehoboth-beach-speaker").source_updated == datetime(
        2022, 7, 9, 19, 32, 28, tzinfo=UTC
    )
    # Several meetings at one church share one Location row.
    assert Location.objects.count() < Meeting.objects.count()


def test_kansas_city_numeric_slug_and_numeric_postal_code_are_read_as_text():
    import_sample("kc")

    ward_parkway = meeting("kc", "254")
    assert ward_parkway.name == "Ward Parkway Group"
    assert (ward_parkway.weekday, ward_parkway.start_time, ward_parkway.end_time) == (0, time(18, 30), None)
    assert ward_parkway.timezone == "America/Chicago"
    assert ward_parkway.attendance_mode == "in_person"
    assert ward_parkway.group_notes == ""  # the feed's tabs and spaces
    assert ward_parkway.website == "http://district6.wamo-aa.org/meetinfo2.cfm?id=254"
    assert attribute_slugs(ward_parkway) == {"open"}
    location = ward_parkway.location
    assert (location.address, location.city, location.state, location.postal_code, location.country) == (
        "6101 Ward Pkwy",
        "Kansas City",
        "MO",
        "64113",
        "USA",
    )
    assert location.formatted_address == "6101 Ward Pkwy, Kansas City, MO 64113, USA"
    assert location.approximate is False
    # Meetings 254 and 259 meet at the same church.
    assert meeting("kc", "259").location_id == location.pk


def test_al_anon_online_meeting_with_an_approximate_place():
    output = import_sample("al-anon", "al-anon")

    parents = meeting("al-anon", "25037-par-ents-afg")
    assert parents.attendance_mode == "online"
    assert parents.location.approximate is True
    assert parents.location.formatted_address == "Cuttyhunk Island, Gosnold, MA 02713, USA"
    assert parents.conference_url == "https://zoom.us/j/1234567890"
    assert parents.conference_phone == "+19292056099,,1234567890#,,,,,##"
    assert parents.timezone == "America/New_York"
    assert (parents.weekday, parents.start_time, parents.end_time) == (0, time(21), None)
    assert attribute_slugs(parents) == {"open", "proof-of-attendance"}
    assert parents.fellowship.slug == "al-anon"
    # Codes the vocabulary does not know are reported, not fatal.
    assert "unknown code AC (48)" in output
    assert "unknown code AC (48)" in ImportRun.objects.get().message


def test_eda_meeting_in_london_keeps_london_time():
    import_sample("eda", "eda")

    london = meeting("eda", "london-monday-to-friday-daily-readings-starts-march-1st-online-monday")
    assert london.timezone == "Europe/London"
    assert (london.weekday, london.start_time, london.end_time) == (1, time(2), time(2, 45))
    assert london.attendance_mode == "online"
    assert london.location.timezone == "Europe/London"
    assert london.location.region_path == "United Kingdom"


def test_records_that_name_their_own_time_zone_keep_it():
    import_sample("timezones")

    assert meeting("timezones", "sf-meeting").timezone == "America/Los_Angeles"
    assert meeting("timezones", "pa-meeting").timezone == "America/New_York"
    assert meeting("timezones", "pa-meeting").start_time == time(11, 45)


def test_by_appointment_meeting_has_no_day_or_time():
    output = import_sample("appointment", "aa", "--timezone=America/Los_Angeles")

    josh = meeting("appointment", "josh-meeting")
    assert (josh.weekday, josh.start_time, josh.end_time) == (None, None, None)
    assert josh.by_appointment
    assert josh.attendance_mode == "online"
    assert meeting("appointment", "time-meeting").timezone == "America/Los_Angeles"
    assert "2 created" in output


def test_a_weekly_meeting_without_any_zone_is_rejected_but_the_appointment_is_kept():
    output = import_sample("appointment")

    # It names a town only, which the directory does not know in one zone: the reason says so.
    assert (
        "rejected time-meeting: no time zone: San Francisco is not known in exactly one zone and no "
        "state or province is given; give coordinates, a timezone field or --timezone"
    ) in output
    # No wall-clock time, so no zone is needed: stored as UTC to keep the column a valid IANA name.
    assert meeting("appointment", "josh-meeting").timezone == "UTC"
    assert not MeetingSource.objects.filter(source_key="time-meeting").exists()


def test_string_days_and_the_approximate_test_meeting_from_times_json():
    import_sample("times")

    assert meeting("times", "monday-7pm").weekday == 1
    assert meeting("times", "monday-7pm").timezone == "America/Chicago"  # from "OK 12345, USA"
    assert meeting("times", "monday-7pm").attendance_mode == "hybrid"
    assert meeting("times", "appointment").by_appointment
    approximate = meeting("times", "approximate")
    assert approximate.location.approximate is True
    assert approximate.attendance_mode == "inactive"
    assert attribute_slugs(meeting("times", "monday-7pm")) == {"open", "men"}


def test_contact_persons_are_never_imported():
    import_sample("times")

    for field in ("name", "notes", "group_notes", "conference_url_notes", "conference_phone_notes"):
        assert not Meeting.objects.filter(**{f"{field}__contains": "John D"}).exists()
        assert not Meeting.objects.filter(**{f"{field}__contains": "johnd@"}).exists()
    assert not Location.objects.filter(notes__contains="John D").exists()


def test_invalid_json_fails_and_leaves_the_directory_as_it_was():
    import_sample("sussexaa")
    before = (Meeting.objects.count(), Location.objects.count(), MeetingSource.objects.count())
    speaker = meeting("sussexaa", "rehoboth-beach-speaker")

    with pytest.raises(CommandError, match=r"not valid JSON: Extra data at line 80 column 3"):
        import_sample("invalid")

    assert (Meeting.objects.count(), Location.objects.count(), MeetingSource.objects.count()) == before
    again = meeting("sussexaa", "rehoboth-beach-speaker")
    assert (again.name, again.start_time, again.updated_at) == (
        speaker.name,
        speaker.start_time,
        speaker.updated_at,
    )
    failed = ImportRun.objects.get(feed_source__name="invalid")
    assert failed.status == "failed"
    assert "line 80 column 3" in failed.message


# run_from_argv closes the database connections on its way out, which only a
# test that really commits (transaction=True) survives on PostgreSQL.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invalid_json_makes_the_command_exit_non_zero(capsys):
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(
            [
                "manage.py",
                "import_feed",
                str(FEEDS / "invalid.json"),
                "--format=meeting-guide",
                "--source=bad",
            ]
        )

    assert exit_.value.code == 1
    assert "is not valid JSON" in capsys.readouterr().err
    assert Meeting.objects.count() == 0


def test_the_meetings_inside_invalid_json_report_day_7():
    array, _ = json.JSONDecoder().raw_decode((FEEDS / "invalid.json").read_text().lstrip())

    parsed = meeting_guide.parse(array)

    assert len(parsed.records) == 6
    assert [(r.key, r.reason) for r in parsed.rejections] == [
        ("sunday-8pm", "day 7 is not 0-6"),
        ("sunday-8am", "day 7 is not 0-6"),
    ]
