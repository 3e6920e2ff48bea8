"""Schedules on the staff pages: Pat's journey starts, so the baseline assessments are due and
show in Bob's work queue and dashboard (not in Dave's or Nina's). Alice, who manages the Detox
team, sees completion rates per team; Bob (not a manager) may not."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from recoverybridge.care import actions as care
from recoverybridge.care.models import EpisodeKind
from recoverybridge.outcomes import actions
from recoverybridge.outcomes.models import ScheduledAssessment
from tests.care_world import make_person
from tests.outcomes.pages_world import ALL_FIVES, client_for


def start_journey(world, person, worker, days_ago=0):
    started = datetime.date.today() - datetime.timedelta(days=days_ago)
    episode = care.start_episode(worker, person, kind=EpisodeKind.DETOX, started_on=started)
    return actions.generate_schedule(worker, episode)


def test_due_assessments_in_the_queue_and_dashboard(world):
    start_journey(world, world.pat, world.bob, days_ago=10)
    bob = client_for(world.bob)
    queue = bob.get("/staff/queue/").content.decode()
    assert "Assessments due" in queue
    assert "Brief Assessment of Recovery Capital (BARC-10)" in queue
    assert "Overdue" in queue and "Pat Example" in queue
    due = ScheduledAssessment.objects.get(instrument="barc-10", time_point="baseline")
    assert f"/staff/people/{world.pat.pk}/outcomes/enter/barc-10/?scheduled={due.pk}" in queue
    dashboard = bob.get("/staff/").content.decode()
    assert "Assessments due" in dashboard and f"?scheduled={due.pk}" in dashboard
    # Not on other teams' pages.
    for user in ("dave", "nina"):
        assert "Pat Example" not in client_for(world.user(user)).get("/staff/queue/").content.decode()


def test_completing_removes_it_from_the_queue(world):
    start_journey(world, world.pat, world.bob, days_ago=10)
    due = ScheduledAssessment.objects.get(instrument="barc-10", time_point="baseline")
    bob = client_for(world.bob)
    bob.post(
        f"/staff/people/{world.pat.pk}/outcomes/enter/barc-10/?scheduled={due.pk}",
        {**{f"a_{k}": v for k, v in ALL_FIVES.items()}, "time_point": "baseline"},
    )
    queue = bob.get("/staff/queue/").content.decode()
    assert f"?scheduled={due.pk}" not in queue


def test_queue_query_count_constant(world):
    bob = client_for(world.bob)
    bob.get("/staff/queue/")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bob.get("/staff/queue/").status_code == 200
        return len(captured)

    start_journey(world, world.pat, world.bob, days_ago=10)
    one = count()
    for n in range(5):
        person = make_person(world.detox, f"RB-MORE{n:04d}", f"More{n}")
        start_journey(world, person, world.bob, days_ago=n)
    assert count() == one


def test_team_completion_for_managers(world):
    start_journey(world, world.pat, world.bob, days_ago=40)  # baseline and 1 month due: 8
    actions.record_response(world.bob, world.pat, "barc-10", ALL_FIVES, time_point="baseline")
    response = client_for(world.alice).get("/staff/outcomes/teams/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Harbour Recovery, Detox" in html
    row = html.split("Harbour Recovery, Detox")[1].split("</tr>")[0]
    assert "<td>8</td><td>1</td>" in row and "12%" in row  # 1 of 8 (12.5%), rounded
    assert row.endswith("<td>0</td>")  # 40 days late: not on time
    # Sam (service manager) sees every team of Harbour; neither sees Bridge's.
    sam = client_for(world.sam).get("/staff/outcomes/teams/").content.decode()
    assert "Harbour Recovery, Detox" in sam and "Harbour Recovery, Community" in sam
    assert "Bridge Peer Network" not in sam


def test_team_completion_denied_to_non_managers(world):
    for user in ("bob", "dave", "nina", "cora", "eddie"):
        assert client_for(world.user(user)).get("/staff/outcomes/teams/").status_code == 403, user
