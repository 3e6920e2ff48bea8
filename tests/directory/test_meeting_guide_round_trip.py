"""RecoveryBridge to RecoveryBridge: our Meeting Guide export, imported into an empty directory and
exported again, is the same feed, our extensions (fellowship, MOUD stance, its source and date)
included.

Only what names the new database's rows differs by construction: the slug and url carry the
meeting's id, `updated` is when the row was written, and the listing's source is now the first
directory's feed. The test maps each new meeting back to
the slug it was imported under, and checks the feed's own `updated` was kept as the source's.
"""

import io
import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from recoverybridge.directory.exports.meeting_guide import meeting_guide_records
from recoverybridge.directory.generate import generate_directory
from recoverybridge.directory.models import (
    FeedSource,
    ImportRun,
    Location,
    Meeting,
    MeetingSource,
    MoudStance,
)

pytestmark = pytest.mark.django_db
IDENTITY = ("slug", "url", "updated")
# Where this directory got the listing, and when: the importer's own story, not the record's.
PROVENANCE = ("listing_source", "listing_source_url", "last_confirmed")


def meeting_url(meeting_id: int) -> str:
    return f"https://recoverybridge.example/meetings/{meeting_id}/"


def export() -> list[dict]:
    return list(meeting_guide_records(meeting_url))


def test_our_export_read_back_into_an_empty_directory_exports_the_same(tmp_path):
    generate_directory(meetings=400, seed=7)
    first = export()
    assert len(first) == 400
    # The extensions are there to lose: several fellowships, all three stances, sources, dates.
    assert len({record["fellowship"] for record in first}) > 3
    assert set(Counter(record["moud"] for record in first)) == set(MoudStance.values)
    assert any("moud_source" in record and "moud_verified" in record for record in first)

    path = tmp_path / "ours.json"
    path.write_text(json.dumps(first), encoding="utf-8")
    Meeting.objects.all().delete()
    Location.objects.all().delete()
    FeedSource.objects.all().delete()

    out = io.StringIO()
    # No --fellowship: every record names its own.
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=another-recoverybridge",
        "--no-progress",
        stdout=out,
    )
    run = ImportRun.objects.get(feed_source__name="another-recoverybridge")
    assert (run.status, run.created, run.rejected) == ("succeeded", 400, 0), out.getvalue()

    imported_as = dict(MeetingSource.objects.values_list("meeting_id", "source_key"))
    updated = dict(MeetingSource.objects.values_list("source_key", "source_updated"))
    second = export()
    original = {record["slug"]: record for record in first}
    assert len(second) == len(original)
    for record in second:
        meeting_id = int(re.match(r"\d+", record["slug"]).group())
        slug = imported_as[meeting_id]
        before = original[slug]
        assert {k: v for k, v in record.items() if k not in IDENTITY + PROVENANCE} == {
            k: v for k, v in before.items() if k not in IDENTITY + PROVENANCE
        }, slug
        assert record["listing_source"] == "another-recoverybridge"  # it says where it came from
        assert before["listing_source"] == "synthetic"
        assert updated[slug] == datetime.strptime(before["updated"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def test_a_feeds_silence_on_moud_leaves_an_editors_stance(tmp_path):
    generate_directory(meetings=20, seed=3)
    records = export()
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    Meeting.objects.all().delete()  # the peer's copy is the only one, so it owns the fields
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=peer",
        "--no-progress",
        stdout=io.StringIO(),
    )
    slug = records[0]["slug"]
    meeting = Meeting.objects.get(sources__feed_source__name="peer", sources__source_key=slug)
    Meeting.objects.filter(pk=meeting.pk).update(
        moud_stance=MoudStance.WELCOMING, moud_source="Verified by phone", moud_verified_on=None
    )
    # The peer drops the extension and changes the name: the record is written, the stance kept.
    for record in records:
        record.pop("moud", None)
        record.pop("moud_source", None)
        record.pop("moud_verified", None)
    records[0]["name"] += " (renamed)"
    path.write_text(json.dumps(records), encoding="utf-8")
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=peer",
        "--no-progress",
        stdout=io.StringIO(),
    )
    meeting.refresh_from_db()
    assert meeting.name.endswith("(renamed)")
    assert (meeting.moud_stance, meeting.moud_source) == (MoudStance.WELCOMING, "Verified by phone")


def test_an_unknown_fellowship_name_falls_back_to_the_feeds_own(tmp_path):
    record = {
        "slug": "x",
        "name": "X",
        "day": 1,
        "time": "19:00",
        "timezone": "UTC",
        "fellowship": "Nobody Anonymous",
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=f",
        "--fellowship=aa",
        "--no-progress",
        stdout=out,
    )
    assert Meeting.objects.get().fellowship.slug == "aa"
    assert "unknown fellowship 'Nobody Anonymous' (used the feed's) (1)" in out.getvalue()
    # Without a fellowship of its own, the feed cannot place it: refused, with the name.
    with pytest.raises(CommandError, match='most often "unknown fellowship Nobody Anonymous"'):
        call_command("import_feed", str(path), "--format=meeting-guide", "--source=g", "--no-progress")
    assert ImportRun.objects.get(feed_source__name="g").errors == [
        {"key": "x", "reason": "unknown fellowship Nobody Anonymous"}
    ]
