"""Large cohorts are built in the background: the page shows progress and polls, the real task
worker (`manage.py db_worker`) builds the report, and the page then shows it. Also who is named:
outside a care team workers are pseudonymous unless the setting says otherwise."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.audit.models import AuditEvent
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.evaluation import builds
from tests.evaluation.test_pages import QUERY, analysed, build_evaluation_world, report_for

PROGRESS = "/staff/evaluation/report/progress/"


@pytest.fixture
def world(transactional_db, monkeypatch):
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    caches["evaluation"].clear()
    # Northshore's 53 consented episodes count as a large cohort here.
    monkeypatch.setattr(builds, "BACKGROUND_EPISODES", 20)
    return build_evaluation_world()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_cohort_is_built_by_the_task_worker_while_the_page_shows_progress(world, monkeypatch):
    seen = []
    record = builds.record_progress
    monkeypatch.setattr(
        builds, "record_progress", lambda key, progress: (seen.append(progress), record(key, progress))
    )
    sol = world.sol
    waiting = report_for(sol)
    assert waiting.status_code == 202
    page = waiting.content.decode()
    assert "being built in the background" in page and "<progress" in page
    assert f'hx-get="{PROGRESS}?' in page and 'hx-trigger="every 2s"' in page
    assert DBTaskResult.objects.count() == 1
    # Asking again (a reload, the CSV) queues nothing more.
    assert report_for(sol).status_code == 202
    assert report_for(sol, path="/staff/evaluation/report.csv").status_code == 202
    assert DBTaskResult.objects.count() == 1
    polled = report_for(sol, path=PROGRESS)
    assert polled.status_code == 200 and "HX-Refresh" not in polled
    assert "Waiting for the report builder to start." in polled.content.decode()

    before = AuditEvent.objects.filter(object_type="evaluation.cohort", actor=sol).count()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    # Progress was recorded part by part, up to every part.
    done = [p.done for p in seen if p.total]
    assert done == sorted(done) and len(done) > 10 and done[-1] == seen[-1].total
    # The worker's read of the cohort is audited in Sol's name.
    assert AuditEvent.objects.filter(object_type="evaluation.cohort", actor=sol).count() == before + 1

    done = report_for(sol, path=PROGRESS)
    assert done["HX-Refresh"] == "true"
    report = report_for(sol)
    assert report.status_code == 200
    assert analysed(report.content.decode()) == "55"
    assert report_for(sol, path="/staff/evaluation/report.csv")["Content-Type"].startswith("text/csv")


# --- who is named -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_care_team_workers_are_pseudonymous_unless_the_setting_says_otherwise(
    world, settings, monkeypatch
):
    # A small cohort (below the background size) is built while the request waits.
    monkeypatch.setattr(builds, "BACKGROUND_EPISODES", 1000)
    query = QUERY + "&estimand=ate"
    sol_page = report_for(world.sol, query).content.decode()
    assert analysed(sol_page) == "55" and DBTaskResult.objects.count() == 0
    assert "Pim Lee" not in sol_page and "Kit Ray" not in sol_page
    assert "Worker 1" in sol_page and "Worker 2" in sol_page
    # Una manages both teams: the care team's own report names its workers.
    una = User.objects.create_user("una")
    for team in (world.north, world.south):
        Membership.objects.create(user=una, team=team, role=Role.TEAM_MANAGER)
    una_page = report_for(una, query).content.decode()
    assert "Pim Lee" in una_page and "Kit Ray" in una_page
    settings.EVALUATION_WORKER_NAMES_OUTSIDE = True
    named = report_for(world.sol, query).content.decode()
    assert "Pim Lee" in named and "Kit Ray" in named


def test_the_funnel_links_each_point_to_its_row():
    from recoverybridge.evaluation.reports import OUTSIDE, ReportSpec, build_report
    from recoverybridge.evaluation.simulate import simulate_episodes

    frame = simulate_episodes(3000, seed=4).frame
    spec = ReportSpec(outcomes=(), dose=None, mediator=None, survival=False, funnel_units=("worker",))
    report = build_report(frame, spec, audience=OUTSIDE, worker_names=False)
    part = report.section("funnels").parts[0]
    svg = str(part.charts[0].svg)
    anchors = [row.anchor for row in part.table("units").rows if row.anchor]
    assert anchors and all(f'data-row="{anchor}"' in svg for anchor in anchors if anchor)
    assert svg.count('class="funnel-point"') == len(anchors)
