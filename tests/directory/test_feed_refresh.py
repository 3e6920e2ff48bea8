"""Feed sources kept fresh: conditional requests to a real local web server (200, then 304),
bounded time and size, every attempt recorded, and the schedule run by the real task worker."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import (
    AttemptOutcome,
    FeedAttempt,
    FeedSource,
    Fellowship,
    Meeting,
    MeetingStatus,
)
from recoverybridge.directory.tasks import refresh_feeds
from tests.directory.feed_server import feed_server  # noqa: F401 (a fixture)
from tests.directory.test_import_pipeline import record


def meetings(count: int, *, prefix: str = "m", **fields) -> list[dict]:
    return [record(f"{prefix}{n}", name=f"Meeting {n}", day=n % 7, **fields) for n in range(count)]


def source_for(url: str, name: str = "lewes-aa", **fields) -> FeedSource:
    return FeedSource.objects.create(
        name=name,
        format="meeting-guide",
        location=url,
        fellowship=Fellowship.objects.get(slug="aa"),
        **fields,
    )


def active_count(source: FeedSource) -> int:
    return Meeting.objects.filter(sources__feed_source=source, status=MeetingStatus.ACTIVE).count()


@pytest.mark.django_db
def test_a_feed_is_imported_then_asked_again_conditionally_and_304_changes_nothing(feed_server):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(10)))

    first = sources.refresh_source(source)
    assert first.outcome == AttemptOutcome.OK, first.error
    assert (first.http_status, first.records_read, first.created) == (200, 10, 10)
    assert first.bytes_read == len(feed_server.feeds["/lewes.json"].body)
    assert first.import_run is not None and first.finished_at is not None
    assert active_count(source) == 10
    source.refresh_from_db()
    assert source.etag == feed_server.feeds["/lewes.json"].etag and source.last_modified
    written = dict(Meeting.objects.values_list("id", "updated_at"))

    second = sources.refresh_source(source)
    assert second.outcome == AttemptOutcome.NOT_MODIFIED
    assert second.http_status == 304 and second.import_run is None
    asked = feed_server.requests_for("/lewes.json")
    assert [seen.if_none_match for seen in asked] == ["", source.etag]
    assert asked[1].if_modified_since == source.last_modified
    assert dict(Meeting.objects.values_list("id", "updated_at")) == written
    assert FeedAttempt.objects.filter(feed_source=source).count() == 2

    # The intergroup edits one meeting: a 200 again, and only that meeting changes.
    changed = meetings(10)
    changed[3]["time"] = "19:30"
    feed_server.publish("/lewes.json", changed)
    third = sources.refresh_source(source)
    assert third.outcome == AttemptOutcome.OK, third.error
    assert (third.http_status, third.updated, third.unchanged, third.created) == (200, 1, 9, 0)


@pytest.mark.django_db
def test_a_server_without_validators_sending_the_same_bytes_is_not_modified(feed_server):  # noqa: F811
    source = source_for(feed_server.publish("/plain.json", meetings(3), behaviour="no-validators"))
    assert sources.refresh_source(source).outcome == AttemptOutcome.OK
    again = sources.refresh_source(source)
    assert (again.outcome, again.http_status) == (AttemptOutcome.NOT_MODIFIED, 200)
    assert feed_server.requests_for("/plain.json")[1].if_none_match == ""
    assert again.import_run is None


@pytest.mark.django_db
def test_a_slow_server_fails_the_attempt_within_the_time_allowed_and_changes_nothing(feed_server, settings):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(4)))
    sources.refresh_source(source)
    before = dict(Meeting.objects.values_list("id", "updated_at"))
    source.refresh_from_db()
    kept = (source.etag, source.content_sha256)

    # The new version's headers come at once, then a byte a second: it would take minutes.
    feed_server.publish("/lewes.json", meetings(2), behaviour="trickle")
    settings.FEED_FETCH_TIMEOUT_SECONDS = 1.5
    started = time.monotonic()
    attempt = sources.refresh_source(source)
    assert time.monotonic() - started < 4
    assert attempt.outcome == AttemptOutcome.FAILED
    assert "did not answer within 1.5 seconds" in attempt.error
    assert dict(Meeting.objects.values_list("id", "updated_at")) == before
    assert active_count(source) == 4
    source.refresh_from_db()
    assert (source.etag, source.content_sha256) == kept


@pytest.mark.django_db
def test_an_oversized_body_fails_the_attempt_and_changes_nothing(feed_server, settings):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(4)))
    sources.refresh_source(source)
    before = dict(Meeting.objects.values_list("id", "updated_at"))

    feed_server.publish("/lewes.json", meetings(400))
    settings.FEED_MAX_BYTES = 10_000
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.FAILED
    assert "more than FEED_MAX_BYTES (10000 bytes)" in attempt.error
    assert dict(Meeting.objects.values_list("id", "updated_at")) == before
    assert active_count(source) == 4


@pytest.mark.django_db
def test_a_server_error_or_a_body_that_is_not_json_is_a_failed_attempt_with_the_reason(feed_server):  # noqa: F811
    source = source_for(feed_server.publish("/gone.json", b"", behaviour=503))
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.FAILED and "answered HTTP 503" in attempt.error

    feed_server.publish("/gone.json", b"<html>We moved!</html>")
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.FAILED and "is not valid JSON" in attempt.error
    assert Meeting.objects.filter(sources__feed_source=source).count() == 0
    source.refresh_from_db()
    assert source.content_sha256 == ""  # a failed body is fetched and tried again next time


@pytest.mark.django_db
def test_a_connection_cut_half_way_is_a_failed_attempt(feed_server):  # noqa: F811
    source = source_for(feed_server.publish("/lewes.json", meetings(40), behaviour="cut"))
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.FAILED
    assert "closed the connection after" in attempt.error, attempt.error
    assert Meeting.objects.count() == 0


@pytest.mark.django_db
def test_an_attempt_keeps_refused_records_and_the_fields_most_often_missing(feed_server):  # noqa: F811
    feed = meetings(6)
    feed[0]["day"] = 9  # refused: not a weekday
    for item in feed[1:3]:
        item.pop("latitude"), item.pop("longitude")
        item["types"] = []
    source = source_for(feed_server.publish("/lewes.json", feed), default_timezone="America/New_York")
    attempt = sources.refresh_source(source)
    assert attempt.outcome == AttemptOutcome.OK, attempt.error
    assert attempt.rejected == 1
    assert attempt.refused[0]["key"] == "m0" and attempt.refused[0]["reason"]
    assert attempt.missing["coordinates"] == 2 and attempt.missing["types"] == 2


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


# The worker commits and locks rows itself, so this test really commits; serialized_rollback
# puts back the migrations' data (fellowships, vocabulary) that the flush afterwards removes.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_schedules_run_through_the_real_task_worker(feed_server):  # noqa: F811
    hourly = source_for(
        feed_server.publish("/hourly.json", meetings(5, prefix="h")), "hourly", refresh_minutes=60
    )
    daily = source_for(
        feed_server.publish("/daily.json", meetings(3, prefix="d")), "daily", refresh_minutes=1440
    )
    by_hand = source_for(
        feed_server.publish("/by-hand.json", meetings(2, prefix="b")), "by-hand", refresh_minutes=0
    )

    out = StringIO()
    call_command("refresh_feeds", stdout=out)
    assert "Refresh queued" in out.getvalue()
    call_command("refresh_feeds", stdout=StringIO())  # a second start queues no second chain
    assert DBTaskResult.objects.filter(task_path=refresh_feeds.module_path).count() == 1
    run_worker()

    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 1
    assert FeedAttempt.objects.filter(outcome=AttemptOutcome.OK).count() == 2
    assert (active_count(hourly), active_count(daily), active_count(by_hand)) == (5, 3, 0)
    assert feed_server.requests_for("/by-hand.json") == []
    hourly.refresh_from_db()
    daily.refresh_from_db()
    now = timezone.now()
    assert timedelta(minutes=58) < hourly.next_refresh_at - now <= timedelta(minutes=60)
    assert timedelta(hours=23) < daily.next_refresh_at - now <= timedelta(hours=24)
    # The run queued its successor for when the hourly source is due; the batch worker left it.
    (waiting,) = DBTaskResult.objects.filter(status="READY")
    assert abs(waiting.run_after - hourly.next_refresh_at) < timedelta(seconds=5)

    # An hour later: the hourly source is asked conditionally and answers 304; the daily one waits.
    FeedSource.objects.filter(pk=hourly.pk).update(next_refresh_at=now - timedelta(seconds=1))
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=now - timedelta(seconds=1))
    run_worker()
    latest = FeedAttempt.objects.filter(feed_source=hourly).first()
    assert latest is not None and latest.outcome == AttemptOutcome.NOT_MODIFIED
    assert latest.trigger == "schedule"
    assert feed_server.requests_for("/hourly.json")[-1].if_none_match == hourly.etag
    assert len(feed_server.requests_for("/daily.json")) == 1
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db
def test_the_command_fetches_named_sources_now_and_says_what_came_of_each(feed_server):  # noqa: F811
    source_for(feed_server.publish("/lewes.json", meetings(2)))
    out = StringIO()
    call_command("refresh_feeds", "lewes-aa", stdout=out)
    assert "lewes-aa: Imported (2 records: 2 created" in out.getvalue()
    out = StringIO()
    call_command("refresh_feeds", "lewes-aa", stdout=out)
    assert "lewes-aa: Not modified" in out.getvalue()
