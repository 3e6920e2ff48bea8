"""The evaluation demo's few hundred people, made as of June 2015, met by the retention rules ten
years later: everyone whose consent to evaluation is active is anonymised, the rest erased
, and the evaluation report built as of that day is the same
before and after, to the last digit. Only the count of episodes left out for lack of consent
falls: those people are gone."""

import csv
import datetime
import io
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from recoverybridge.care.models import Episode, EpisodeEnd, Person
from recoverybridge.demo.evaluation import REFERENCE_PREFIX, load_demo_evaluation
from recoverybridge.evaluation.cohorts import CohortSpec, build_cohort
from recoverybridge.evaluation.reports import CARE_TEAM, OUTSIDE, build_report, report_csv
from recoverybridge.rights import retention
from tests.factories import make_meeting

MADE = timezone.make_aware(datetime.datetime(2015, 6, 30, 12, 0))
NOW = timezone.make_aware(datetime.datetime(2025, 6, 30, 12, 0))


@pytest.fixture
def demo(db):
    call_command("demo_care", "--people", "0", stdout=StringIO())
    for _ in range(3):
        make_meeting("aa", attendance_mode="online", location=None)
        make_meeting("smart")
    load_demo_evaluation(now=MADE)
    # Django stamps these with the clock; the people were made in 2015.
    Person.objects.filter(reference__startswith=REFERENCE_PREFIX).update(created_at=MADE, updated_at=MADE)
    # By the end of 2015 every journey had ended (the demo leaves some open, as of June 2015).
    Episode.objects.filter(ended_on__isnull=True).update(
        ended_on=F("started_on") + datetime.timedelta(days=120), end_reason=EpisodeEnd.COMPLETED
    )


def rows(report_text: str) -> list[tuple[str, ...]]:
    return [tuple(row) for row in csv.reader(io.StringIO(report_text))]


@pytest.mark.parametrize("audience", [CARE_TEAM, OUTSIDE])
def test_the_evaluation_report_is_the_same_before_and_after(demo, audience):
    before = build_cohort(CohortSpec(), now=NOW)
    report_before = report_csv(
        build_report(before.frame, audience=audience, n_without_consent=before.n_without_consent)
    )

    run = retention.apply(now=NOW)

    assert run.report["anonymised"] > 200 and run.report["erased"] > 10, run.report
    assert run.report["kept_open_episode"] == 0
    kept = Person.objects.filter(anonymised_at__isnull=False).values_list(
        "given_name", "family_name", "email", "phone"
    )
    assert set(kept) == {("", "", "", "")}
    after = build_cohort(CohortSpec(), now=NOW)
    pd.testing.assert_frame_equal(before.frame, after.frame)
    report_after = report_csv(
        build_report(after.frame, audience=audience, n_without_consent=after.n_without_consent)
    )
    changed = set(rows(report_before)) ^ set(rows(report_after))
    assert {row[3] for row in changed} == {"without_consent"}
    assert after.n_without_consent < before.n_without_consent
