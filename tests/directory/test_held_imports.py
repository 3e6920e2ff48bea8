"""Safe imports: a fetched feed that would drop or change too much of a source at once is held for
an editor with its difference, field by field, and nothing changes until a person applies it.
Nothing is ever deleted."""

import pytest
from django.contrib.auth.models import AnonymousUser, User

from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import (
    AttemptOutcome,
    FeedSource,
    HeldImport,
    HeldStatus,
    Meeting,
    MeetingStatus,
)
from tests.directory.feed_server import feed_server  # noqa: F401 (a fixture)
from tests.directory.test_feed_refresh import active_count, meetings, source_for

pytestmark = pytest.mark.django_db


def snapshot(source: FeedSource) -> dict:
    return {
        pk: (status, updated)
        for pk, status, updated in Meeting.objects.filter(sources__feed_source=source).values_list(
            "id", "status", "updated_at"
        )
    }


@pytest.fixture
def editor():
    return User.objects.create_user("eddie", "eddie@example.org")


def test_a_feed_that_shrinks_by_60_percent_is_held_with_its_diff_until_an_editor_applies_it(
    feed_server,  # noqa: F811
    editor,
):
    source = source_for(feed_server.publish("/lewes.json", meetings(20)))
    assert sources.refresh_source(source).outcome == AttemptOutcome.OK
    before = snapshot(source)

    shrunk = meetings(20)[:8]
    shrunk[0]["time"] = "18:45"  # and one of those left changes
    feed_server.publish("/lewes.json", shrunk)
    attempt = sources.refresh_source(source)

    assert attempt.outcome == AttemptOutcome.HELD
    assert "drop 12 of the source's 20 meetings (60%, more than the 30% allowed)" in attempt.error
    held = attempt.held_import
    assert held is not None and held.status == HeldStatus.PENDING
    assert (held.active_before, held.added, held.changed, held.dropped, held.unchanged) == (20, 0, 1, 12, 7)
    assert sorted(entry["key"] for entry in held.diff["dropped"]) == sorted(f"m{n}" for n in range(8, 20))
    assert held.diff["dropped"][0]["name"].startswith("Meeting ")
    (changed,) = held.diff["changed"]
    assert changed["key"] == "m0"
    assert changed["fields"] == [{"field": "start_time", "before": "19:00", "after": "18:45"}]
    # Nothing changed, and the source still asks for what it had before.
    assert snapshot(source) == before
    source.refresh_from_db()
    assert source.etag != feed_server.feeds["/lewes.json"].etag

    # Fetched again before anyone decides: still held, not held twice.
    again = sources.refresh_source(source)
    assert again.outcome == AttemptOutcome.HELD and again.held_import == held
    assert HeldImport.objects.count() == 1
    assert snapshot(source) == before

    sources.apply_held(held.pk, editor=editor, note="The intergroup confirmed the closures.")
    held.refresh_from_db()
    assert (held.status, held.decided_by, held.decision_note) == (
        HeldStatus.APPLIED,
        editor,
        "The intergroup confirmed the closures.",
    )
    assert held.applied_run is not None and held.applied_run.deactivated == 12
    assert active_count(source) == 8
    # Nothing is deleted, ever: the dropped meetings are inactive.
    assert Meeting.objects.filter(sources__feed_source=source).count() == 20
    assert Meeting.objects.filter(sources__feed_source=source, status=MeetingStatus.INACTIVE).count() == 12
    assert Meeting.objects.get(sources__source_key="m0").start_time.strftime("%H:%M") == "18:45"
    # The source now holds the applied version's validators: the next fetch is a 304.
    after = sources.refresh_source(source)
    assert (after.outcome, after.http_status) == (AttemptOutcome.NOT_MODIFIED, 304)
    with pytest.raises(sources.HeldImportError):
        sources.apply_held(held.pk, editor=editor)


def test_a_feed_that_changes_most_meetings_at_once_is_held_and_discarding_keeps_the_directory(
    feed_server,  # noqa: F811
    editor,
):
    source = source_for(feed_server.publish("/lewes.json", meetings(10)))
    sources.refresh_source(source)
    before = snapshot(source)

    moved = meetings(10)
    for item in moved[:6]:
        item["time"], item["types"] = "07:00", ["O"]
    feed_server.publish("/lewes.json", moved)
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.HELD
    assert "change 6 of the source's 10 meetings at once (60%, more than the 50% allowed)" in attempt.error
    held = attempt.held_import
    fields = {change["field"]: change for change in held.diff["changed"][0]["fields"]}
    assert fields["start_time"] == {"field": "start_time", "before": "19:00", "after": "07:00"}
    assert set(fields) == {"start_time", "attributes"}
    assert fields["attributes"]["before"].count(",") == 1 and "," not in fields["attributes"]["after"]

    with pytest.raises(sources.HeldImportError):
        sources.discard_held(held.pk, editor=AnonymousUser())
    sources.discard_held(held.pk, editor=editor, note="A mistake in their spreadsheet.")
    held.refresh_from_db()
    assert held.status == HeldStatus.DISCARDED and held.decided_at is not None
    assert snapshot(source) == before
    # This version is not held again; the next one is looked at afresh.
    assert sources.refresh_source(source).outcome == AttemptOutcome.NOT_MODIFIED
    feed_server.publish("/lewes.json", meetings(10)[:9])
    assert sources.refresh_source(source).outcome == AttemptOutcome.OK
    assert active_count(source) == 9


def test_small_changes_go_ahead_and_a_later_version_replaces_what_was_held(feed_server):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(10)))
    sources.refresh_source(source)
    feed_server.publish("/lewes.json", meetings(10)[:8])  # 2 of 10 dropped: within the 30%
    assert sources.refresh_source(source).outcome == AttemptOutcome.OK
    assert active_count(source) == 8

    feed_server.publish("/lewes.json", meetings(10)[:2])  # a broken export: 6 of 8 dropped
    held = sources.refresh_source(source).held_import
    assert held is not None and active_count(source) == 8
    feed_server.publish("/lewes.json", meetings(10)[:7])  # fixed the next day, one more closed
    fixed = sources.refresh_source(source)
    assert fixed.outcome == AttemptOutcome.OK
    held.refresh_from_db()
    assert held.status == HeldStatus.SUPERSEDED
    assert active_count(source) == 7

    # Back to exactly what was applied (a 304): what was held since is no longer the feed's word.
    feed_server.publish("/lewes.json", meetings(10)[:2])
    held = sources.refresh_source(source).held_import
    feed_server.publish("/lewes.json", meetings(10)[:7])
    assert sources.refresh_source(source).http_status == 304
    held.refresh_from_db()
    assert held.status == HeldStatus.SUPERSEDED


def test_a_source_of_a_few_meetings_is_not_held_for_one_or_two(feed_server, settings):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(4)))
    sources.refresh_source(source)
    feed_server.publish("/lewes.json", meetings(4)[:2])  # 50%, but only 2 (FEED_HOLD_MIN_MEETINGS is 3)
    assert sources.refresh_source(source).outcome == AttemptOutcome.OK
    settings.FEED_HOLD_MIN_MEETINGS = 1
    feed_server.publish("/lewes.json", meetings(4)[:1])
    assert sources.refresh_source(source).outcome == AttemptOutcome.HELD
