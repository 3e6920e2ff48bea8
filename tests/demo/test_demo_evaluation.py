"""The evaluation demo: on top of the demo care teams (demo_care) it creates people whose
cohort has both arms of peer bridging, outcomes to compare, people left out for lack of
consent and self-selection a naive comparison falls for."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from recoverybridge.care.models import Person, Referral
from recoverybridge.demo.evaluation import REFERENCE_PREFIX, load_demo_evaluation
from recoverybridge.evaluation.cohorts import CohortSpec, build_cohort
from tests.factories import make_meeting

NOW = timezone.make_aware(datetime.datetime(2025, 6, 30, 12, 0))


@pytest.fixture
def demo_teams(db):
    call_command("demo_care", "--people", "0", stdout=StringIO())
    for _ in range(3):
        make_meeting("aa", attendance_mode="online", location=None)
        make_meeting("smart")


def test_the_demo_yields_a_cohort_with_both_arms_and_outcomes(demo_teams):
    assert "Created 300 demo evaluation people" in load_demo_evaluation(now=NOW)
    cohort = build_cohort(CohortSpec(episode_kinds=("detox",)), now=NOW)
    frame = cohort.frame
    assert cohort.n_episodes > 300
    assert cohort.n_without_consent > 0
    assert set(frame["peer_bridged"].unique()) == {0.0, 1.0}
    assert set(frame["online_group"].dropna().unique()) == {0.0, 1.0}
    for outcome in (
        "mutual_aid_28d",
        "recovery_capital_change",
        "treatment_within_14d",
        "days_used_6m",
        "event",
    ):
        assert frame[outcome].notna().sum() > 50, outcome
    assert frame["worker"].nunique() == 4
    # Self-selection: the bridged started with more recovery capital.
    by_arm = frame.groupby("peer_bridged")["baseline_recovery_capital"].mean()
    assert by_arm[1.0] > by_arm[0.0] + 2


def test_the_demo_is_deterministic_and_made_once(demo_teams):
    load_demo_evaluation(now=NOW)
    first = build_cohort(CohortSpec(), now=NOW).frame.drop(columns="episode_id")
    assert "already there" in load_demo_evaluation(now=NOW)
    Referral.objects.filter(person__reference__startswith=REFERENCE_PREFIX).delete()
    Person.objects.filter(reference__startswith=REFERENCE_PREFIX).delete()
    load_demo_evaluation(now=NOW)
    again = build_cohort(CohortSpec(), now=NOW).frame.drop(columns="episode_id")
    assert first.equals(again)


def test_without_the_demo_teams_nothing_is_made(db):
    assert "run demo_care first" in load_demo_evaluation(now=NOW)
    assert not Person.objects.exists()


def test_returns_to_use_and_readmissions_are_spread_over_the_months_after_discharge(demo_teams):
    load_demo_evaluation(now=NOW)
    frame = build_cohort(CohortSpec(episode_kinds=("detox",)), now=NOW).frame
    days = frame.loc[frame["event"] == 1, "days_to_event"]
    # The Kaplan-Meier curve falls from the first weeks on, not in one cliff at six months.
    by_month = (days // 30).value_counts()
    assert all(by_month.get(month, 0) > 0 for month in range(6)), by_month.sort_index()
    assert by_month.max() < 0.35 * len(days)
    # Some are readmitted to residential rehab (others to detox, counted among the episodes above).
    assert build_cohort(CohortSpec(episode_kinds=("residential_rehab",)), now=NOW).n_episodes > 10
