"""Importing twice, changing, removing, two feeds for one meeting, and feeds not fit to import."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recoverybridge.directory.models import ImportRun, Location, Meeting, MeetingSource

pytestmark = pytest.mark.django_db

# Lewes, Delaware; 0.0009 degrees of latitude is about 100 m.
LEWES = (38.7746, -75.1393)
METRES_PER_DEGREE_LATITUDE = 111_195


def record(slug: str, **fields):
    """A Meeting Guide record: an in-person AA meeting in Lewes on Monday at 19:00."""
    base = {
        "slug": slug,
        "name": f"Meeting {slug}",
        "day": 1,
        "time": "19:00",
        "end_time": "20:00",
        "location": "St Peter's Church",
        "formatted_address": "2 Church St, Lewes, DE 19958, USA",
        "latitude": LEWES[0],
        "longitude": LEWES[1],
        "types": ["O", "D"],
    }
    base.update(fields)
    return base


def run_import(tmp_path, source, records, *options):
    path = tmp_path / f"{source}-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(records))
    out = StringIO()
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        f"--source={source}",
        *(options or ("--fellowship=aa",)),
        stdout=out,
    )
    return ImportRun.objects.filter(feed_source__name=source).order_by("id").last(), out.getvalue()


def only_meeting(source, key):
    return MeetingSource.objects.get(feed_source__name=source, source_key=key).meeting


def test_importing_the_same_feed_again_changes_nothing(tmp_path):
    feed = [
        record("monday"),
        record("tuesday", day=2),
        record("online", conference_url="https://zoom.us/j/1"),
    ]
    run_import(tmp_path, "lewes", feed)
    stamps = dict(Meeting.objects.values_list("id", "updated_at"))
    fingerprints = dict(MeetingSource.objects.values_list("id", "fingerprint"))
    counts = (Meeting.objects.count(), Location.objects.count(), MeetingSource.objects.count())

    run, output = run_import(tmp_path, "lewes", feed)

    assert (run.status, run.unchanged, run.created, run.updated, run.deactivated) == ("succeeded", 3, 0, 0, 0)
    assert dict(Meeting.objects.values_list("id", "updated_at")) == stamps
    assert dict(MeetingSource.objects.values_list("id", "fingerprint")) == fingerprints
    assert (Meeting.objects.count(), Location.objects.count(), MeetingSource.objects.count()) == counts
    assert "3 unchanged" in output


def test_a_changed_record_updates_its_meeting_in_place(tmp_path):
    run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2)])
    monday = only_meeting("lewes", "monday")
    tuesday = only_meeting("lewes", "tuesday")

    run, _ = run_import(
        tmp_path,
        "lewes",
        [record("monday", name="Monday Big Book", time="19:30", types=["C", "B"]), record("tuesday", day=2)],
    )

    assert (run.updated, run.unchanged, run.created) == (1, 1, 0)
    changed = Meeting.objects.get(pk=monday.pk)
    assert (changed.name, changed.start_time.strftime("%H:%M")) == ("Monday Big Book", "19:30")
    assert set(changed.attributes.values_list("slug", flat=True)) == {"closed", "big-book"}
    assert changed.updated_at > monday.updated_at
    assert Meeting.objects.get(pk=tuesday.pk).updated_at == tuesday.updated_at
    assert Meeting.objects.count() == 2


def test_a_meeting_gone_from_the_feed_is_inactive_not_deleted_and_comes_back(tmp_path):
    run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2)])
    tuesday = only_meeting("lewes", "tuesday")

    run, _ = run_import(tmp_path, "lewes", [record("monday")])

    assert run.deactivated == 1
    gone = Meeting.objects.get(pk=tuesday.pk)
    assert gone.status == "inactive"
    assert MeetingSource.objects.get(source_key="tuesday").active is False
    assert only_meeting("lewes", "monday").status == "active"

    run, _ = run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2)])

    assert (run.updated, run.created) == (1, 0)
    assert Meeting.objects.get(pk=tuesday.pk).status == "active"
    assert MeetingSource.objects.get(source_key="tuesday").active is True
    assert Meeting.objects.count() == 2


def test_a_meeting_another_feed_still_lists_stays_active(tmp_path):
    run_import(tmp_path, "intergroup", [record("monday")])
    run_import(tmp_path, "district", [record("d-monday")])
    shared = only_meeting("intergroup", "monday")
    assert only_meeting("district", "d-monday") == shared

    run_import(tmp_path, "intergroup", [record("other", day=3)])

    assert Meeting.objects.get(pk=shared.pk).status == "active"
    assert MeetingSource.objects.get(source_key="monday").active is False


def test_the_same_meeting_from_two_feeds_within_100_metres_is_one_meeting(tmp_path):
    run_import(tmp_path, "intergroup", [record("monday")])
    eighty_metres_north = LEWES[0] + 80 / METRES_PER_DEGREE_LATITUDE

    run, output = run_import(
        tmp_path,
        "district",
        [
            record(
                "d-1", name="Lewes Monday Night", latitude=eighty_metres_north, formatted_address="Church St"
            )
        ],
    )

    assert run.merged == 1
    assert run.created == 0
    assert Meeting.objects.count() == 1
    merged = Meeting.objects.get()
    assert sorted(merged.sources.values_list("feed_source__name", flat=True)) == ["district", "intergroup"]
    # The first source owns the fields; the second only adds provenance.
    assert merged.name == "Meeting monday"
    assert "1 merged with another source" in output


def test_the_second_feed_does_not_overwrite_the_first_when_it_changes(tmp_path):
    run_import(tmp_path, "intergroup", [record("monday")])
    run_import(tmp_path, "district", [record("d-1")])

    run, _ = run_import(tmp_path, "district", [record("d-1", notes="Back door")])

    assert run.updated == 1
    assert Meeting.objects.get().notes == ""


def test_meetings_150_metres_apart_stay_two_meetings(tmp_path):
    run_import(tmp_path, "intergroup", [record("monday")])
    further = LEWES[0] + 150 / METRES_PER_DEGREE_LATITUDE

    run, _ = run_import(tmp_path, "district", [record("d-1", latitude=further)])

    assert (run.merged, run.created) == (0, 1)
    assert Meeting.objects.count() == 2


def test_same_place_but_another_start_time_or_fellowship_is_another_meeting(tmp_path):
    run_import(tmp_path, "intergroup", [record("monday")])

    run_import(tmp_path, "district", [record("d-1", time="19:30")])
    run_import(tmp_path, "ca-area", [record("c-1")], "--fellowship=ca")

    assert Meeting.objects.count() == 3


def test_online_meetings_are_the_same_when_their_conference_link_is(tmp_path):
    online = {"formatted_address": "Lewes, DE, USA", "conference_url": "https://zoom.us/j/555"}
    run_import(tmp_path, "intergroup", [record("zoom", **online)])

    run, _ = run_import(
        tmp_path,
        "district",
        [
            record("same-link", **{**online, "latitude": 39.5}),
            record("other-link", **{**online, "conference_url": "https://zoom.us/j/666", "day": 1}),
        ],
    )

    assert (run.merged, run.created) == (1, 1)
    assert only_meeting("district", "same-link") == only_meeting("intergroup", "zoom")
    assert only_meeting("intergroup", "zoom").attendance_mode == "online"


def test_a_code_means_secular_for_aa_but_age_restricted_for_aca(tmp_path):
    run_import(tmp_path, "aa-feed", [record("aa-a", types=["A"])], "--fellowship=aa")
    run_import(tmp_path, "aca-feed", [record("aca-a", types=["A"], time="10:00")], "--fellowship=aca")

    assert list(only_meeting("aa-feed", "aa-a").attributes.values_list("slug", flat=True)) == ["secular"]
    assert list(only_meeting("aca-feed", "aca-a").attributes.values_list("slug", flat=True)) == [
        "age-restricted"
    ]


def test_meetings_at_one_place_share_a_location_across_imports(tmp_path):
    run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2)])
    run_import(tmp_path, "lewes", [record("monday"), record("tuesday", day=2), record("friday", day=5)])

    assert Location.objects.count() == 1
    assert {m.location_id for m in Meeting.objects.all()} == {Location.objects.get().pk}


def test_a_feed_with_mostly_unusable_records_fails_and_changes_nothing(tmp_path):
    run_import(tmp_path, "lewes", [record("monday")])
    before = list(Meeting.objects.values_list("id", "name", "updated_at", "status"))

    with pytest.raises(CommandError, match=r"2 of 3 records could not be used \(67%"):
        run_import(
            tmp_path,
            "lewes",
            [record("monday", name="Renamed"), record("bad-day", day=7), record("bad-time", time="25:00")],
        )

    assert list(Meeting.objects.values_list("id", "name", "updated_at", "status")) == before
    failed = ImportRun.objects.filter(feed_source__name="lewes").order_by("id").last()
    assert failed.status == "failed"
    assert failed.rejected == 2
    assert {"key": "bad-day", "reason": "day 7 is not 0-6"} in failed.errors
    assert {"key": "bad-time", "reason": "time '25:00' is not a time"} in failed.errors


def test_an_empty_feed_fails_rather_than_deactivating_everything(tmp_path):
    run_import(tmp_path, "lewes", [record("monday")])

    with pytest.raises(CommandError, match="the feed has no meetings"):
        run_import(tmp_path, "lewes", [])

    assert only_meeting("lewes", "monday").status == "active"
    assert MeetingSource.objects.get().active is True


def test_a_record_rejected_this_time_keeps_its_meetings(tmp_path):
    feed = [record("monday"), record("tuesday", day=2), record("friday", day=5), record("twice", day=[3, 4])]
    run_import(tmp_path, "lewes", feed)

    run, output = run_import(
        tmp_path,
        "lewes",
        [*feed[:2], record("friday", day="Friday"), record("twice", day=[3, 4], time="late")],
    )

    assert (run.rejected, run.deactivated) == (2, 0)
    assert "rejected friday: day 'Friday' is not 0-6" in output
    assert "rejected twice: time 'late' is not a time" in output
    assert only_meeting("lewes", "friday").status == "active"
    assert only_meeting("lewes", "twice#4").status == "active"


def test_the_feeds_language_is_added_only_when_a_meeting_names_none(tmp_path):
    run_import(
        tmp_path,
        "madrid",
        [record("english", types=["O"]), record("spanish", types=["O", "S"], day=2)],
        "--fellowship=aa",
        "--language=en",
    )

    assert set(only_meeting("madrid", "english").attributes.values_list("slug", flat=True)) == {
        "open",
        "language-en",
    }
    assert set(only_meeting("madrid", "spanish").attributes.values_list("slug", flat=True)) == {
        "open",
        "language-es",
    }
