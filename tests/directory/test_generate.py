"""The synthetic directory: realistic, the same for the same seed, replaced rather than duplicated."""

from collections import Counter
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from recoverybridge.directory.generate import CITIES, FEED_NAME, generate_directory
from recoverybridge.directory.models import (
    Approach,
    FeedSource,
    Fellowship,
    ImportRun,
    Location,
    Meeting,
    MeetingSource,
)
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db

COMPARED = (
    "fellowship__slug", "name", "group_name", "weekday", "start_time", "end_time", "timezone",
    "attendance_mode", "conference_url", "conference_phone", "moud_stance", "moud_source", "moud_verified_on",
    "location__formatted_address", "location__latitude", "location__longitude", "location__region_path",
)  # fmt: skip


def snapshot() -> list[tuple]:
    rows = Meeting.objects.order_by("id").values_list(*COMPARED)
    attributes = Meeting.attributes.through.objects.order_by("meeting_id", "attribute__slug")
    by_meeting: dict[int, list[str]] = {}
    for meeting_id, slug in attributes.values_list("meeting_id", "attribute__slug"):
        by_meeting.setdefault(meeting_id, []).append(slug)
    ids = Meeting.objects.order_by("id").values_list("id", flat=True)
    return [(*row, tuple(by_meeting.get(pk, ()))) for row, pk in zip(rows, ids, strict=True)]


def test_same_seed_same_directory_and_a_rerun_replaces_it():
    generate_directory(800, seed=7)
    first = snapshot()
    generate_directory(800, seed=7)
    assert Meeting.objects.count() == 800
    assert MeetingSource.objects.count() == 800
    assert snapshot() == first
    # No locations left behind by the replaced meetings.
    assert not Location.objects.filter(meetings=None).exists()
    generate_directory(800, seed=8)
    assert snapshot() != first


def test_counts_and_provenance():
    result = generate_directory(1500, seed=1)
    assert result["created"] == Meeting.objects.count() == 1500
    feed = FeedSource.objects.get(name=FEED_NAME)
    sources = MeetingSource.objects.filter(feed_source=feed)
    assert sources.count() == 1500
    assert sources.values("source_key").distinct().count() == 1500
    assert not Meeting.objects.filter(sources=None).exists()
    run = ImportRun.objects.get(feed_source=feed)
    assert (run.status, run.created, run.records_read) == ("succeeded", 1500, 1500)


def test_mix_looks_like_a_real_directory():
    generate_directory(4000, seed=3)
    meetings = Meeting.objects.all()
    # Every fellowship and so every approach, AA the largest.
    per_fellowship = Counter(meetings.values_list("fellowship__slug", flat=True))
    assert set(per_fellowship) == set(Fellowship.objects.values_list("slug", flat=True))
    assert per_fellowship.most_common(1)[0][0] == "aa"
    assert per_fellowship["na"] > per_fellowship["smart"] > per_fellowship["mars"]
    assert set(meetings.values_list("fellowship__approach", flat=True)) == set(Approach.values)
    # About a quarter online, some hybrid.
    modes = Counter(meetings.values_list("attendance_mode", flat=True))
    assert 0.20 < modes["online"] / 4000 < 0.30
    assert 0.04 < modes["hybrid"] / 4000 < 0.12
    assert not meetings.filter(attendance_mode="online", conference_url="").exists()
    assert not meetings.exclude(attendance_mode="online").filter(location__approximate=True).exists()
    # Many zones on several continents, both sides of the antimeridian and of the equator.
    zones = set(meetings.values_list("timezone", flat=True))
    assert len(zones) >= 25
    assert {zone.split("/")[0] for zone in zones} >= {
        "America",
        "Europe",
        "Africa",
        "Asia",
        "Australia",
        "Pacific",
    }
    assert (
        meetings.filter(location__longitude__gt=179).exists()
        or meetings.filter(location__longitude__lt=-179.5).exists()
    )
    assert meetings.filter(location__latitude__lt=-30).exists()
    # Evening peak, early mornings next; all on a weekday with 60-90 minutes.
    hours = Counter(meetings.exclude(start_time=None).values_list("start_time__hour", flat=True))
    evening = sum(hours[h] for h in (17, 18, 19, 20))
    assert evening > sum(hours[h] for h in (6, 7)) > sum(hours[h] for h in (14, 15, 16))
    for start, end in meetings.exclude(start_time=None).values_list("start_time", "end_time")[:500]:
        length = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % 1440
        assert 60 <= length <= 90
    # Languages follow the country.
    assert not meetings.filter(location__city="Mexico City").exclude(attributes__slug="language-es").exists()
    assert not meetings.filter(location__country="JP", attributes__slug="language-es").exists()
    assert meetings.filter(location__country="BR", attributes__slug="language-pt").exists()
    # MOUD stances with who said so and when.
    welcoming = meetings.filter(moud_stance="welcoming")
    assert welcoming.exists() and meetings.filter(moud_stance="not_welcoming").exists()
    assert not welcoming.filter(moud_source="").exists()
    assert not welcoming.filter(moud_verified_on=None).exists()
    assert meetings.filter(weekday=None).count() < 40  # a few by appointment


def test_cities_have_real_zones():
    for city in CITIES:
        ZoneInfo(city.zone)
        assert -90 <= city.latitude <= 90 and -180 <= city.longitude <= 180


def test_rerun_keeps_meetings_other_feeds_also_list():
    generate_directory(50, seed=2)
    shared = Meeting.objects.order_by("id").first()
    assert shared is not None
    other = FeedSource.objects.create(name="intergroup", format="meeting-guide")
    MeetingSource.objects.create(
        meeting=shared, feed_source=other, source_key="x", fingerprint="", first_seen=shared.created_at,
        last_seen=shared.created_at,
    )  # fmt: skip
    real = make_meeting(name="Real Meeting")
    generate_directory(50, seed=2)
    assert Meeting.objects.filter(pk=real.pk).exists()
    assert list(Meeting.objects.get(pk=shared.pk).sources.values_list("feed_source__name", flat=True)) == [
        "intergroup"
    ]
    assert Meeting.objects.count() == 50 + 2


def test_command_prints_a_summary():
    out = StringIO()
    call_command("generate_directory", "--meetings", "120", "--seed", "5", stdout=out)
    assert "Generated 120 meetings" in out.getvalue()
    assert Meeting.objects.count() == 120


def test_demo_data_without_shared_twice(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    for _ in range(2):
        out = StringIO()
        call_command("demo_data", "--meetings", "300", stdout=out)
    assert Meeting.objects.count() == 300
    assert "already there" in out.getvalue()
    assert "no demo admin user" in out.getvalue()


def test_demo_admin_only_with_a_password_from_the_environment(monkeypatch, django_user_model):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "correct horse battery staple")
    call_command("demo_data", "--meetings", "20", stdout=StringIO())
    call_command("demo_data", "--meetings", "20", stdout=StringIO())
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("correct horse battery staple")
