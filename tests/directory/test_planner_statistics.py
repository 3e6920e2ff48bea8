"""After bulk changes the planner has statistics, so a place search walks the coordinate index.

Without them SQLite guessed that `status = 'active'` was selective and scanned
every meeting for each place search (15x slower at 200k meetings).
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from recoverybridge.directory import queries
from recoverybridge.directory.generate import generate_directory
from recoverybridge.directory.models import Meeting

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's query plan; PostgreSQL plans differently"
)

LONDON = (51.5072, -0.1276)


def place_search_plan() -> str:
    candidates = queries.candidate_query(
        queries.MeetingSearch(lat=LONDON[0], lon=LONDON[1], radius_km=25),
        Meeting.objects.filter(
            status="active", attendance_mode__in=["in_person", "online", "hybrid"]
        ).order_by(),
    )
    sql, params = candidates.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.django_db
def test_a_generated_directory_leaves_statistics_that_send_place_searches_to_the_coordinate_index():
    generate_directory(3000, seed=3)

    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl FROM sqlite_stat1")
        analysed = {row[0] for row in cursor.fetchall()}
    assert {"directory_meeting", "directory_location"} <= analysed
    assert "location_lat_lon" in place_search_plan()


@pytest.mark.django_db
def test_an_import_refreshes_the_statistics_too(tmp_path):
    feed = tmp_path / "feed.json"
    feed.write_text(
        '[{"slug": "a", "name": "Lewes Serenity", "day": 1, "time": "19:00",'
        ' "timezone": "America/New_York", "formatted_address": "1 Main St, Lewes, DE 19958, USA",'
        ' "latitude": 38.77, "longitude": -75.14}]'
    )
    call_command(
        "import_feed",
        "--format=meeting-guide",
        "--source=lewes",
        "--fellowship=aa",
        "--no-progress",
        str(feed),
        stdout=StringIO(),
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl = 'directory_meeting'")
        assert cursor.fetchall() == [("directory_meeting",)]
