"""Cohorts for evaluation, on a small Harbour Recovery world (tests/care_world.py) as of 30 June 2025.

Ana consented to evaluation. Her detox (10-20 January) ended completed; Bob, her navigator,
referred her to an online meeting the day after and accompanied her there (peer bridged); she
attended her first meeting five days later. Her BARC-10 went from 30 at baseline to 40 at three
months and 50 at six; her days of use from 20 to 0. She checked in twice in her first 90 days
(2 and 4 meetings a week). She came back for a second detox on 1 April (a readmission), still
ongoing, with no sign of mutual aid in its first 28 days.

Cara consented too. Her detox (1-10 February) ended completed and she started community
treatment 10 days later, so she started treatment within 14 days. She was referred to a
fellowship (no meeting named, so "online" is unknown) and to residential rehab, checked in with
one meeting in her first fortnight, and reported 3 days of use on 15 June (a return to use).

Eli consented. His detox (1-5 March) ended in a transfer; he stepped down to residential
rehab on 10 March (treatment, not a readmission). He chose an in-person meeting, and a rehab
referral was only drafted.

Dev, on the Community team, consented; his detox started ten days ago and is ongoing.

Ben revoked his consent and Gus's consent expired, so they are left out and counted; Pat has
no evaluation consent at all.
"""

import datetime
import json

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import (
    AssistedStepKind,
    ConsentPurpose,
    EpisodeEnd,
    EpisodeKind,
    MutualAidMilestone,
    ReferralTargetKind,
    SpiritualPreference,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.cohorts import Cohort, CohortSpec, build_cohort
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.outcomes import actions as outcomes
from tests.care_world import World, build_world, make_person
from tests.factories import make_meeting

NOW = timezone.make_aware(datetime.datetime(2025, 6, 30, 12, 0))
DETOX = CohortSpec(episode_kinds=(EpisodeKind.DETOX,))


def at(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(day + "T10:00"))


def d(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def barc(value: int) -> dict[str, str]:
    return {f"barc-{n}": str(value) for n in range(1, 11)}


def days_used(days: int) -> dict[str, int]:
    return {"days-alcohol": days, "days-opiates": 0}


def consent(world: World, person, given: str = "2025-01-01", **fields):
    return care.give_consent(
        world.sam, person, purpose=ConsentPurpose.EVALUATION, given_at=at(given), now=at(given), **fields
    )


def detox(world: World, person, start: str, end: str | None = None, reason: str = EpisodeEnd.COMPLETED, **kw):
    actor = kw.pop("actor", world.bob)
    episode = care.start_episode(
        actor, person, kind=kw.pop("kind", EpisodeKind.DETOX), started_on=d(start), now=at(start), **kw
    )
    if end:
        care.end_episode(actor, episode, ended_on=d(end), end_reason=reason, now=at(end))
    return episode


@pytest.fixture
def world(db) -> World:
    world = build_world()
    world.bob.first_name, world.bob.last_name = "Bob", "Baker"
    world.bob.save()
    return world


@pytest.fixture
def story(world: World) -> dict[str, int]:
    """The people above; returns their first detox episodes' ids by name."""
    bob, harbour = world.bob, world.harbour
    online = make_meeting("aa", attendance_mode="online", location=None)
    in_person = make_meeting("smart")

    ana = make_person(
        world.detox, "RB-ANA00001", "Ana", date_of_birth=d("1990-01-11"), navigator=bob, on_moud=True
    )
    consent(world, ana)
    ana_detox = detox(world, ana, "2025-01-10", "2025-01-20", navigator=bob)
    referral = care.create_referral(
        bob, ana, target_kind=ReferralTargetKind.MEETING, chosen=[online], now=at("2025-01-21")
    )
    care.record_assisted_step(
        bob, referral, kind=AssistedStepKind.ACCOMPANIED, on=d("2025-01-22"), now=at("2025-01-22")
    )
    care.set_referral_status(bob, referral, TaskStatus.IN_PROGRESS, now=at("2025-01-25"))
    care.set_business_status(bob, referral, MutualAidMilestone.ATTENDED_FIRST, now=at("2025-01-25"))
    outcomes.record_response(bob, ana, "barc-10", barc(3), time_point="baseline", now=at("2025-01-10"))
    outcomes.record_response(bob, ana, "barc-10", barc(4), time_point="3m", now=at("2025-04-12"))
    outcomes.record_response(bob, ana, "barc-10", barc(5), time_point="6m", now=at("2025-06-25"))
    outcomes.record_response(
        bob, ana, "substance-use-28", days_used(20), time_point="baseline", now=at("2025-01-10")
    )
    outcomes.record_response(
        bob, ana, "substance-use-28", days_used(0), time_point="6m", now=at("2025-06-25")
    )
    outcomes.record_response(
        bob, ana, "social-network",
        {"network-size": 6, "in-recovery": 3, "supportive": 4, "using-heavily": 1},
        time_point="3m", now=at("2025-04-12"),
    )  # fmt: skip
    outcomes.record_check_in(bob, ana, meetings_count=2, now=at("2025-01-15"))
    outcomes.record_check_in(bob, ana, meetings_count=4, now=at("2025-02-01"))
    ana_again = detox(world, ana, "2025-04-01", navigator=bob)

    cara = make_person(world.detox, "RB-CARA0001", "Cara", spiritual_preference=SpiritualPreference.SECULAR)
    consent(world, cara)
    cara_detox = detox(world, cara, "2025-02-01", "2025-02-10", navigator=world.carol)
    detox(world, cara, "2025-02-20", kind=EpisodeKind.COMMUNITY_TREATMENT)
    care.create_referral(
        bob, cara, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=Fellowship.objects.get(slug="aa"),
        now=at("2025-02-11"),
    )  # fmt: skip
    care.create_referral(
        bob,
        cara,
        target_kind=ReferralTargetKind.RESIDENTIAL_REHAB,
        target_organisation=harbour,
        now=at("2025-02-12"),
    )
    outcomes.record_check_in(bob, cara, meetings_count=1, now=at("2025-02-14"))
    outcomes.record_response(
        bob, cara, "substance-use-28", days_used(3), time_point="6m", now=at("2025-06-15")
    )

    eli = make_person(world.detox, "RB-ELI00001", "Eli", navigator=world.carol)
    consent(world, eli)
    eli_detox = detox(world, eli, "2025-03-01", "2025-03-05", reason=EpisodeEnd.TRANSFERRED)
    detox(world, eli, "2025-03-10", kind=EpisodeKind.RESIDENTIAL_REHAB)
    care.create_referral(
        bob, eli, target_kind=ReferralTargetKind.MEETING, chosen=[in_person], now=at("2025-03-02")
    )
    care.create_referral(
        bob, eli, target_kind=ReferralTargetKind.RESIDENTIAL_REHAB, target_organisation=harbour,
        submit=False, now=at("2025-03-02"),
    )  # fmt: skip

    dev = make_person(world.community, "RB-DEV00001", "Dev", navigator=world.dave)
    consent(world, dev)
    dev_detox = detox(world, dev, "2025-06-20", actor=world.dave)

    ben = make_person(world.detox, "RB-BEN00001", "Ben")
    care.revoke_consent(world.sam, consent(world, ben), now=at("2025-05-01"))
    detox(world, ben, "2025-02-01", "2025-02-08")
    gus = make_person(world.detox, "RB-GUS00001", "Gus")
    consent(world, gus, expires_at=at("2025-06-01"))
    detox(world, gus, "2025-02-01", "2025-02-08")
    detox(world, world.pat, "2025-02-01", "2025-02-08")
    return {
        "ana": ana_detox.pk,
        "ana_again": ana_again.pk,
        "cara": cara_detox.pk,
        "eli": eli_detox.pk,
        "dev": dev_detox.pk,
    }


def rows(cohort: Cohort) -> pd.DataFrame:
    return cohort.frame.set_index("episode_id")


def value(cohort: Cohort, episode_id: int, column: str) -> float:
    return rows(cohort).at[episode_id, column]


def test_only_people_consenting_to_evaluation_are_included_and_the_others_counted(story):
    cohort = build_cohort(DETOX, now=NOW)
    # Ana's two detoxes, Cara's, Eli's and Dev's; Ben (revoked), Gus (expired), Pat (none) are out.
    assert set(cohort.frame["episode_id"]) == set(story.values())
    assert cohort.n_episodes == 5
    assert cohort.n_without_consent == 3


def test_consent_is_judged_at_now(story):
    # Before Ben revoked and Gus's consent expired, both were in.
    cohort = build_cohort(
        CohortSpec(episode_kinds=("detox",), started_to=d("2025-04-30")), now=at("2025-04-30")
    )
    assert cohort.n_without_consent == 1  # Pat only
    assert cohort.n_episodes == 6  # Ana's two detoxes, Cara's, Eli's, Ben's and Gus's


def test_the_frame_has_every_column_and_no_personal_data(story):
    frame = build_cohort(DETOX, now=NOW).frame
    assert list(frame.columns) == [*columns.ID_COLUMNS, *(column.name for column in columns.ALL)]
    for name in ("worker", "team", "service", "area", "episode_kind"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    for column in columns.ALL:
        if column.kind == "unit" or column in columns.SUBGROUPS:
            assert isinstance(frame[column.name].dtype, pd.CategoricalDtype), column.name
        else:
            assert frame[column.name].dtype == np.float64, column.name
    assert list(frame["fama_level"].cat.categories) == ["information", "introduced", "accompanied"]
    assert str(frame["started_on"].dtype).startswith("datetime64")
    text = frame.astype(str).to_csv()
    for personal in ("Ana", "Cara", "RB-", "1990-01-11", "example.net", "BN7"):
        assert personal not in text


def test_units_are_the_navigator_team_service_and_area(world, story):
    world.detox.area = "Lewes"
    world.detox.save()
    world.harbour.area = "East Sussex"
    world.harbour.save()
    cohort = build_cohort(DETOX, now=NOW)
    assert value(cohort, story["ana"], "worker") == "Bob Baker"  # full name
    assert value(cohort, story["cara"], "worker") == "carol"  # the episode's navigator, by username
    assert value(cohort, story["eli"], "worker") == "carol"  # no episode navigator: the person's
    assert value(cohort, story["ana"], "team") == "Detox"
    assert value(cohort, story["ana"], "service") == "Harbour Recovery"
    assert value(cohort, story["ana"], "area") == "Lewes"
    assert value(cohort, story["dev"], "area") == "East Sussex"  # Community has no area of its own


def test_exposures(story):
    cohort = build_cohort(DETOX, now=NOW)
    ana, cara, eli, dev = story["ana"], story["cara"], story["eli"], story["dev"]
    assert [value(cohort, pk, "peer_bridged") for pk in (ana, cara, eli, dev)] == [1, 0, 0, 0]
    # Ana was accompanied to the AA meeting she chose: the highest FAMA level, a twelve-step group.
    assert value(cohort, ana, "fama_level") == "accompanied"
    assert value(cohort, ana, "fellowship_approach") == "twelve-step"
    assert value(cohort, ana, "group_gender") == "any"
    assert [value(cohort, pk, "referred_mutual_aid") for pk in (ana, cara, eli, dev)] == [1, 1, 1, 0]
    # Eli's rehab referral was only a draft.
    assert [value(cohort, pk, "referred_rehab") for pk in (ana, cara, eli, dev)] == [0, 1, 0, 0]
    assert value(cohort, ana, "online_group") == 1
    assert value(cohort, eli, "online_group") == 0
    assert np.isnan(value(cohort, cara, "online_group"))  # a fellowship, no meeting named
    assert np.isnan(value(cohort, dev, "online_group"))  # not referred


def test_treatment_within_14_days_of_detox_discharge(story):
    cohort = build_cohort(DETOX, now=NOW)
    assert value(cohort, story["cara"], "treatment_within_14d") == 1  # community treatment 10 days on
    assert value(cohort, story["eli"], "treatment_within_14d") == 1  # stepped down to rehab
    assert value(cohort, story["ana"], "treatment_within_14d") == 0
    assert np.isnan(value(cohort, story["dev"], "treatment_within_14d"))  # still in detox
    # Not known until 14 days have passed: on 15 February Cara's fortnight was still running.
    early = build_cohort(DETOX, now=at("2025-02-15"))
    assert np.isnan(value(early, story["cara"], "treatment_within_14d"))
    assert value(early, story["ana"], "treatment_within_14d") == 0
    # Other kinds never have it.
    everything = build_cohort(CohortSpec(), now=NOW).frame
    assert everything.loc[everything["episode_kind"] != "detox", "treatment_within_14d"].isna().all()


def test_mutual_aid_within_28_days(story):
    cohort = build_cohort(DETOX, now=NOW)
    second = story["ana_again"]
    assert value(cohort, story["ana"], "mutual_aid_28d") == 1  # milestone on 25 January
    assert value(cohort, story["cara"], "mutual_aid_28d") == 1  # a check-in with a meeting
    assert value(cohort, story["eli"], "mutual_aid_28d") == 0
    assert value(cohort, second, "mutual_aid_28d") == 0  # Ana's second detox: nothing in 28 days
    assert np.isnan(value(cohort, story["dev"], "mutual_aid_28d"))  # 28 days not yet over


def test_recovery_capital_days_used_and_mediators(story):
    cohort = build_cohort(DETOX, now=NOW)
    ana = story["ana"]
    assert value(cohort, ana, "baseline_recovery_capital") == 30
    assert value(cohort, ana, "recovery_capital_3m") == 40
    assert value(cohort, ana, "recovery_capital_change") == 20  # 6 months (50) minus baseline (30)
    assert value(cohort, ana, "baseline_days_used") == 20
    assert value(cohort, ana, "days_used_6m") == 0
    assert np.isnan(value(cohort, ana, "days_used_12m"))
    assert value(cohort, ana, "supportive_network_3m") == 4
    assert value(cohort, story["cara"], "days_used_6m") == 3
    assert np.isnan(value(cohort, story["eli"], "recovery_capital_change"))


def test_change_falls_back_to_three_months(world, story):
    outcomes.Response.objects.filter(time_point="6m", instrument="barc-10").delete()
    cohort = build_cohort(DETOX, now=NOW)
    assert value(cohort, story["ana"], "recovery_capital_change") == 10


def test_a_scheduled_assessment_ties_a_response_to_its_episode(world):
    fay = make_person(world.detox, "RB-FAY00001", "Fay")
    consent(world, fay)
    episode = detox(world, fay, "2025-01-10", "2025-01-20")
    outcomes.generate_schedule(world.bob, episode, now=at("2025-01-10"))
    # Collected very late (out of the nearest-date tolerance), but for this scheduled assessment.
    outcomes.record_response(world.bob, fay, "barc-10", barc(2), time_point="3m", now=at("2025-06-20"))
    assert value(build_cohort(DETOX, now=NOW), episode.pk, "recovery_capital_3m") == 20


def test_treatment_completion(story):
    cohort = build_cohort(DETOX, now=NOW)
    assert value(cohort, story["ana"], "treatment_completed") == 1
    assert np.isnan(value(cohort, story["eli"], "treatment_completed"))  # transferred
    assert np.isnan(value(cohort, story["dev"], "treatment_completed"))  # ongoing


def test_time_to_readmission_or_return_to_use(story):
    cohort = build_cohort(DETOX, now=NOW)
    # Ana: discharged 20 January, readmitted to detox 1 April.
    assert (value(cohort, story["ana"], "days_to_event"), value(cohort, story["ana"], "event")) == (71, 1)
    # Cara: discharged 10 February, reported use on 15 June.
    assert (value(cohort, story["cara"], "days_to_event"), value(cohort, story["cara"], "event")) == (125, 1)
    # Eli: the rehab step-down is not a readmission; censored today (5 March to 30 June).
    assert (value(cohort, story["eli"], "days_to_event"), value(cohort, story["eli"], "event")) == (117, 0)
    assert np.isnan(value(cohort, story["dev"], "days_to_event"))


def test_covariates_and_dose(story):
    cohort = build_cohort(DETOX, now=NOW)
    ana, cara = story["ana"], story["cara"]
    second = story["ana_again"]
    assert value(cohort, ana, "age") == 34  # born 11 January 1990, started 10 January 2025
    assert value(cohort, ana, "on_moud") == 1
    assert value(cohort, cara, "on_moud") == 0
    assert value(cohort, ana, "prior_episodes") == 0
    assert value(cohort, second, "prior_episodes") == 1
    assert value(cohort, cara, "prefers_secular") == 1
    assert value(cohort, ana, "prefers_secular") == 0
    assert value(cohort, ana, "meetings_per_week") == 3  # check-ins of 2 and 4
    assert value(cohort, cara, "meetings_per_week") == 1
    assert np.isnan(value(cohort, story["eli"], "meetings_per_week"))


def test_dose_from_the_mutual_help_instrument_without_check_ins(world):
    fay = make_person(world.detox, "RB-FAY00001", "Fay")
    consent(world, fay)
    episode = detox(world, fay, "2025-01-10", "2025-01-20")
    answers = {"meetings": [{"meetings.fellowship": "aa", "meetings.count": 45}], "sponsor-or-mentor": True,
               "service-role": False, "contact-outside": True, "program-work": False}  # fmt: skip
    outcomes.record_response(world.bob, fay, "mutual-help", answers, time_point="3m", now=at("2025-04-10"))
    assert value(build_cohort(DETOX, now=NOW), episode.pk, "meetings_per_week") == pytest.approx(
        45 / (90 / 7)
    )


def test_scope_kind_and_period(world, story):
    detox_team = build_cohort(CohortSpec(episode_kinds=("detox",), team_ids=(world.detox.pk,)), now=NOW)
    assert story["dev"] not in set(detox_team.frame["episode_id"])
    assert detox_team.n_episodes == 4
    community = build_cohort(CohortSpec(team_ids=[world.community.pk]), now=NOW)
    assert list(community.frame["episode_id"]) == [story["dev"]]
    assert community.n_without_consent == 0
    february = build_cohort(CohortSpec(started_from=d("2025-02-01"), started_to=d("2025-02-28")), now=NOW)
    assert set(february.frame["episode_kind"]) == {"detox", "community_treatment"}
    assert february.n_episodes == 2  # Cara's detox and community treatment
    assert february.n_without_consent == 3  # Ben, Gus and Pat


def test_an_empty_cohort_still_has_the_frame_shape(world):
    cohort = build_cohort(DETOX, now=NOW)
    assert cohort.n_episodes == 0
    assert list(cohort.frame.columns)[: len(columns.ID_COLUMNS)] == list(columns.ID_COLUMNS)
    assert len(cohort.frame.columns) == len(columns.ID_COLUMNS) + len(columns.ALL)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"episode_kinds": ("detox", "sauna")}, "episode_kinds"),
        ({"started_from": d("2025-03-01"), "started_to": d("2025-02-01")}, "started_from"),
        ({"started_from": "2025-03-01"}, "started_from"),
        ({"team_ids": ("detox",)}, "team_ids"),
    ],
)
def test_a_bad_spec_names_the_parameter(fields, named):
    with pytest.raises(EvaluationError, match=named):
        CohortSpec(**fields)


def test_reading_a_cohort_is_audited_without_personal_data(world, story):
    before = AuditEvent.objects.count()
    cohort = build_cohort(
        CohortSpec(episode_kinds=("detox",), team_ids=(world.detox.pk,)), now=NOW, actor=world.alice
    )
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(object_type="evaluation.cohort")
    assert (event.action, event.actor, event.person_id, event.at) == (
        AuditAction.VIEW,
        world.alice,
        None,
        NOW,
    )
    assert event.changes["spec"]["new"] == {
        "episode_kinds": ["detox"],
        "started_from": None,
        "started_to": None,
        "team_ids": [world.detox.pk],
    }
    assert event.changes["counts"]["new"] == {"episodes": cohort.n_episodes, "without_consent": 3}
    assert "4 episodes, 3 without consent" in event.detail
    recorded = json.dumps(event.changes) + event.detail
    for personal in ("Ana", "Cara", "Ben", "RB-"):
        assert personal not in recorded


def test_no_actor_no_audit(story):
    build_cohort(DETOX, now=NOW)
    assert not AuditEvent.objects.filter(object_type="evaluation.cohort").exists()
