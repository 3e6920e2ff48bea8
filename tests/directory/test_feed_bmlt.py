"""BMLT GetSearchResults + GetFormats: the Cape Fear Area's NA meetings, warts and all.

The fixture is shaped like a real root server's answer: every value a string,
weekday 1 = Sunday, formats as server-local ids that GetFormats resolves to NA
World Services ids, a Spanish translation of some formats, and the records a
real server lets through (a bad weekday, a 25 o'clock start, an unpublished
draft, a virtual meeting at 0,0, an old server with no venue_type).
"""

import copy
import io
import json
from datetime import time
from pathlib import Path

import pytest
from django.core.management import call_command

from recoverybridge.directory.feeds import bmlt
from recoverybridge.directory.feeds.records import FeedError, MeetingRecord, ParsedFeed
from recoverybridge.directory.models import AttendanceMode, Attribute, AttributeMapping, ImportRun, Meeting
from recoverybridge.directory.vocabulary import bmlt_codes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bmlt"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def meetings():
    return load("GetSearchResults.json")


@pytest.fixture
def formats():
    return load("GetFormats.json")


@pytest.fixture
def parsed(meetings, formats) -> ParsedFeed:
    return bmlt.parse(meetings, formats)


def by_key(parsed: ParsedFeed) -> dict[str, MeetingRecord]:
    return {record.source_key: record for record in parsed.records}


def test_every_meeting_is_read_or_rejected_with_its_reason(parsed):
    assert parsed.total == 17
    assert len(parsed.records) == 14
    assert {(r.key, r.reason) for r in parsed.rejections} == {
        ("1007", "weekday_tinyint '8' is not 1 (Sunday) to 7 (Saturday)"),
        ("1010", "unpublished"),
        ("1015", "start_time '25:00:00' is not a time of day"),
    }


def test_an_in_person_meeting_field_by_field(parsed):
    record = by_key(parsed)["1001"]
    assert record.name == "Serenity Seekers"
    assert record.weekday == 0  # BMLT 1 is Sunday; ours is 0
    assert (record.start_time, record.end_time) == (time(19, 0), time(20, 0))
    assert record.timezone == "America/New_York"
    assert record.attendance_mode == "in_person"
    assert record.codes == ["OPEN", "DISC", "WCHR"]
    assert record.fellowship == ""  # NA comes from the import's --fellowship
    place = record.location
    assert place is not None
    assert place.name == "Winter Park Presbyterian Church"
    assert place.address == "4501 Wrightsville Avenue"
    assert (place.city, place.state, place.postal_code, place.country) == ("Wilmington", "NC", "28403", "US")
    assert place.formatted_address == "4501 Wrightsville Avenue, Wilmington, NC 28403, US"
    assert (place.latitude, place.longitude) == (34.2148718, -77.8870283)  # from strings
    assert place.regions == ["Wilmington", "Winter Park"]
    assert place.notes == "Meets in the gymnasium; use the side door."
    assert record.conference_url == record.conference_phone == ""


def test_weekday_7_is_saturday_and_the_end_wraps_past_midnight(parsed):
    record = by_key(parsed)["1002"]
    assert record.weekday == 6
    assert (record.start_time, record.end_time) == (time(23, 30), time(1, 0))
    assert record.notes == "Late night meeting; coffee provided."


def test_durations_without_seconds_or_of_a_whole_day(parsed):
    records = by_key(parsed)
    assert records["1008"].end_time == time(19, 30)  # "01:00"
    assert records["1009"].start_time == time(7, 0)  # "7:00:00"
    assert records["1009"].end_time == time(8, 15)
    assert records["1017"].start_time == time(0, 0)
    assert records["1017"].end_time is None  # "24:00:00" says nothing useful


def test_a_virtual_meeting_has_its_link_and_no_place_at_0_0(parsed):
    record = by_key(parsed)["1003"]
    assert record.attendance_mode == "online"
    assert record.location is None
    assert record.conference_url == "https://zoom.us/j/1234567890"
    assert record.conference_url_notes == "Passcode: recovery"
    assert record.conference_phone == "+1-646-876-9923,,1234567890#"
    # VM says online, which the mode already does: it is not an attribute.
    assert record.codes == ["CLOSED", "JFT"]


def test_a_hybrid_meeting_has_a_room_and_a_link(parsed):
    record = by_key(parsed)["1004"]
    assert record.attendance_mode == "hybrid"
    assert record.location is not None and record.location.address == "12 North 6th Street"
    assert record.conference_url == "https://meet.google.com/abc-defg-hij"
    assert record.codes == ["OPEN", "BEG"]


def test_an_old_server_without_venue_type_says_virtual_with_the_vm_format(parsed):
    record = by_key(parsed)["1014"]
    assert record.attendance_mode == "online"
    assert record.location is None
    # No format ids: the key string is the code.
    assert record.codes == ["O"]


def test_an_empty_or_unknown_time_zone_is_left_for_the_coordinates(parsed):
    records = by_key(parsed)
    beach = records["1005"]
    assert beach.timezone == ""
    assert beach.location is not None
    assert (beach.location.latitude, beach.location.longitude) == (34.2104611, -77.7963766)
    assert records["1016"].timezone == ""  # "Eastern" is not an IANA zone
    assert records["1011"].timezone == "America/Chicago"


def test_format_ids_become_world_ids_else_key_strings(parsed):
    records = by_key(parsed)
    assert records["1006"].codes == ["OPEN", "ES", "STEP"]  # LANG: the key string says which language
    assert records["1011"].codes == ["Y", "GL", "SPK", "DISC"]  # S-D is speaker and discussion
    assert records["1016"].codes == ["OPEN", "AG", "MED"]  # Ag has no world id
    assert records["1013"].codes == ["OPEN", "CH", "TC"]
    assert records["1013"].attendance_mode == ""  # closed venue: the pipeline decides
    # Id 61 is not in GetFormats: its key string stands in, upper-cased.
    assert records["1012"].codes == ["CLOSED", "LC", "PI"]


def test_without_formats_the_key_strings_are_the_codes(meetings):
    records = by_key(bmlt.parse(meetings))
    assert records["1001"].codes == ["O", "D", "WC"]
    assert records["1002"].codes == ["O", "SO"]
    assert records["1011"].codes == ["YP", "GL", "SPK", "DISC"]
    assert records["1004"].codes == ["O", "B"]  # HY is the mode


def test_key_strings_in_another_language_are_not_counted_twice(meetings, formats):
    spanish = copy.deepcopy(meetings[0])
    spanish.update(formats="A,P,WC", format_shared_id_list="17,1,33")
    [record] = bmlt.parse([spanish], formats).records
    assert record.codes == ["OPEN", "BEG", "WCHR"]


def test_get_used_formats_embeds_the_formats(meetings, formats):
    combined = bmlt.parse({"meetings": meetings, "formats": formats})
    assert [r.codes for r in combined.records] == [r.codes for r in bmlt.parse(meetings, formats).records]


def test_records_that_are_not_meetings_are_rejected_by_position(meetings):
    missing_id = copy.deepcopy(meetings[0])
    del missing_id["id_bigint"]
    nameless = copy.deepcopy(meetings[1])
    nameless["meeting_name"] = " "
    parsed = bmlt.parse(["not a meeting", missing_id, meetings[0], meetings[0], nameless])
    assert [r.source_key for r in parsed.records] == ["1001"]
    assert [(r.key, r.reason) for r in parsed.rejections] == [
        ("#1", "not a meeting object"),
        ("#2", "no id_bigint"),
        ("1001", "id_bigint appears twice in the feed"),
        ("1002", "no meeting_name"),
    ]


def test_an_aggregator_keys_meetings_by_root_server(meetings):
    first, second = copy.deepcopy(meetings[0]), copy.deepcopy(meetings[0])
    first["root_server_id"], second["root_server_id"] = "3", "17"
    parsed = bmlt.parse([first, second])
    assert [r.source_key for r in parsed.records] == ["3:1001", "17:1001"]
    assert parsed.rejections == []


@pytest.mark.parametrize("data", [{"error": "bad switcher"}, "meetings", 42, None, {"meetings": "none"}])
def test_a_feed_of_the_wrong_shape_fails_as_a_whole(data):
    with pytest.raises(FeedError, match="not BMLT GetSearchResults"):
        bmlt.parse(data)


def test_formats_of_the_wrong_shape_fail_as_a_whole(meetings):
    with pytest.raises(FeedError, match="not BMLT GetFormats"):
        bmlt.parse(meetings, {"key_string": "O"})


def test_an_empty_search_is_an_empty_feed():
    assert bmlt.parse([]).total == 0


@pytest.mark.django_db
def test_every_bmlt_code_maps_to_an_attribute_after_migrations():
    mappings = dict(
        AttributeMapping.objects.filter(source_system="bmlt", fellowship=None).values_list(
            "code", "attribute__slug"
        )
    )
    assert mappings == dict(bmlt_codes())
    assert mappings["OPEN"] == mappings["O"] == "open"
    assert mappings["BEG"] == mappings["B"] == "newcomers"  # not Big Book, as B is in Meeting Guide
    assert mappings["WCHR"] == "wheelchair-access"
    assert mappings["ES"] == "language-es"
    assert mappings["TR"] == "tradition-study"  # a format key, not Turkish
    assert mappings["FAM"] == "family-and-friends"
    assert mappings["AG"] == "secular"


@pytest.mark.django_db
def test_every_code_in_the_fixture_but_one_local_format_is_known(parsed):
    known = set(AttributeMapping.objects.filter(source_system="bmlt").values_list("code", flat=True))
    codes = {code for record in parsed.records for code in record.codes}
    assert codes - known == {"PI"}  # "Pitch", a local format with no world id


def import_cape_fear() -> str:
    out = io.StringIO()
    call_command(
        "import_feed",
        str(FIXTURES / "GetSearchResults.json"),
        format="bmlt",
        source="cape-fear-na",
        fellowship="na",
        formats=str(FIXTURES / "GetFormats.json"),
        no_progress=True,
        stdout=out,
    )
    return out.getvalue()


def meeting(key: str) -> Meeting:
    return Meeting.objects.get(sources__feed_source__name="cape-fear-na", sources__source_key=key)


def slugs(record: Meeting) -> set[str]:
    return set(record.attributes.values_list("slug", flat=True))


@pytest.mark.django_db
def test_importing_the_feed_fills_the_directory_with_na_meetings():
    report = import_cape_fear()
    run = ImportRun.objects.get(feed_source__name="cape-fear-na")
    assert (run.status, run.records_read, run.created, run.rejected) == ("succeeded", 17, 14, 3)
    assert "rejected 1007: weekday_tinyint '8' is not 1 (Sunday) to 7 (Saturday)" in report
    assert set(Meeting.objects.values_list("fellowship__slug", flat=True)) == {"na"}

    serenity = meeting("1001")
    assert (serenity.weekday, serenity.start_time, serenity.end_time) == (0, time(19), time(20))
    assert serenity.attendance_mode == AttendanceMode.IN_PERSON
    assert slugs(serenity) == {"open", "discussion", "wheelchair-access"}
    assert serenity.location is not None and serenity.location.latitude == 34.2148718

    midnight = meeting("1002")
    assert (midnight.weekday, midnight.end_time) == (6, time(1, 0))
    assert slugs(midnight) == {"open", "speaker"}

    zoom = meeting("1003")
    assert zoom.attendance_mode == AttendanceMode.ONLINE
    assert zoom.conference_url == "https://zoom.us/j/1234567890"
    assert slugs(zoom) == {"closed", "just-for-today"}

    assert meeting("1004").attendance_mode == AttendanceMode.HYBRID
    assert meeting("1005").timezone == "America/New_York"  # from the coordinates
    assert slugs(meeting("1006")) == {"open", "language-es", "step-study"}
    assert slugs(meeting("1011")) == {"young-people", "lgbtq", "speaker", "discussion"}
    assert slugs(meeting("1016")) == {"open", "secular", "meditation"}
    assert meeting("1013").attendance_mode == AttendanceMode.INACTIVE  # venue temporarily closed
    assert "temporarily-closed" in slugs(meeting("1013"))


@pytest.mark.django_db
def test_importing_the_same_feed_again_changes_nothing():
    import_cape_fear()
    import_cape_fear()
    second = ImportRun.objects.filter(feed_source__name="cape-fear-na").order_by("-pk").first()
    assert second is not None
    assert (second.created, second.updated, second.unchanged) == (0, 0, 14)


@pytest.mark.django_db
def test_the_na_formats_added_for_bmlt_come_in_spanish():
    slugs = {slug for _, slug in bmlt_codes()}
    missing = [a.slug for a in Attribute.objects.filter(slug__in=slugs) if "es" not in a.translations]
    assert missing == []
    assert Attribute.objects.get(slug="basic-text").name_in("es") == "Texto básico"
