"""Retention, by time travel: the records below were made in 2015; the rules run as of 30 June 2025,
so the eight-year period ended on 30 June 2017.

Ana consented to evaluation and finished her detox in 2015: her record is anonymised, and every
evaluation figure stays the same. Gus too, but his consent to evaluation ends in 2030: a run in
2031 erases what was kept of him. Ben never consented to evaluation: erased. Hal consented but
never had an episode: nothing for evaluation to keep, erased. Cal is under a legal hold: kept.
Dee's detox was never closed: kept, and counted for review. Eve was in touch again in 2020, and
Alice looked at Fay's record in 2019: both are in use. Ivy's last contact was the day before the
cutoff (erased), Jay's the day after (kept).
"""

import datetime
import random

import pandas as pd
import pytest
from django.utils import timezone

from recoverybridge.audit import chain
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import (
    AssistedStepKind,
    Consent,
    ConsentPurpose,
    Contact,
    Episode,
    EpisodeEnd,
    EpisodeKind,
    FollowUp,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralTargetKind,
    RelatedPerson,
    TaskStatus,
)
from recoverybridge.evaluation.cohorts import CohortSpec, build_cohort
from recoverybridge.messaging.models import Message
from recoverybridge.outcomes import actions as outcomes
from recoverybridge.outcomes.models import CheckIn, Response
from recoverybridge.rights import actions, retention
from recoverybridge.rights.models import RequestKind, RetentionRun, RightsRequest
from tests.care_world import make_person

NOW = timezone.make_aware(datetime.datetime(2025, 6, 30, 12, 0))


def at(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(day + "T10:00"))


def d(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def made_on(person: Person, day: str) -> None:
    """Time travel for the fields Django stamps with the clock (created_at, updated_at): the
    record was made, and last changed, on `day` as the story says."""
    Person.objects.filter(pk=person.pk).update(created_at=at(day), updated_at=at(day))
    Referral.objects.filter(person=person).update(updated_at=at(day))


def barc(value: int) -> dict[str, str]:
    return {f"barc-{n}": str(value) for n in range(1, 11)}


def someone(
    world, reference: str, name: str, *, evaluation: bool = True, expires: str | None = None, **fields
):
    person = make_person(world.detox, reference, name, navigator=world.bob, **fields)
    if evaluation:
        care.give_consent(
            world.sam,
            person,
            purpose=ConsentPurpose.EVALUATION,
            given_at=at("2015-01-01"),
            expires_at=at(expires) if expires else None,
            now=at("2015-01-01"),
        )
    return person


def detox(world, person, start: str, end: str | None = "2015-01-20"):
    episode = care.start_episode(
        world.bob, person, kind=EpisodeKind.DETOX, started_on=d(start), now=at(start)
    )
    if end:
        care.end_episode(world.bob, episode, ended_on=d(end), end_reason=EpisodeEnd.COMPLETED, now=at(end))
    return episode


@pytest.fixture
def story(world):
    bob = world.bob
    ana = someone(world, "RB-ANA00001", "Ana", date_of_birth=d("1990-06-15"), on_moud=True)
    care.give_consent(
        bob, ana, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, scope="first name",
        given_at=at("2015-01-05"), now=at("2015-01-05"),
    )  # fmt: skip
    detox(world, ana, "2015-01-10")
    referral = care.create_referral(
        bob, ana, target_kind=ReferralTargetKind.OTHER_SERVICE, target_organisation=world.bridge,
        reason="Housing worries", now=at("2015-01-21"),
    )  # fmt: skip
    care.record_assisted_step(
        bob,
        referral,
        kind=AssistedStepKind.INTRODUCED,
        on=d("2015-01-22"),
        note="Met Sal",
        now=at("2015-01-22"),
    )
    care.set_referral_status(world.nina, referral, TaskStatus.ACCEPTED, now=at("2015-01-23"))
    care.set_business_status(bob, referral, MutualAidMilestone.ATTENDED_FIRST, now=at("2015-01-25"))
    care.log_contact(bob, ana, kind="phone", at=at("2015-01-26"), note="Doing well", now=at("2015-01-26"))
    care.add_related_person(
        bob, ana, name="Bo Sister", relationship="sister", contact="+44 1", now=at("2015-01-26")
    )
    outcomes.record_response(bob, ana, "barc-10", barc(3), time_point="baseline", now=at("2015-01-10"))
    outcomes.record_response(bob, ana, "barc-10", barc(5), time_point="3m", now=at("2015-04-10"))
    outcomes.record_check_in(bob, ana, meetings_count=2, now=at("2015-01-15"))
    made_on(ana, "2015-01-26")

    gus = someone(world, "RB-GUS00001", "Gus", expires="2030-01-01", date_of_birth=d("1980-02-29"))
    detox(world, gus, "2015-02-28", "2015-03-10")
    made_on(gus, "2015-03-10")

    ben = someone(world, "RB-BEN00001", "Ben", evaluation=False)
    detox(world, ben, "2015-01-10")
    outcomes.record_response(bob, ben, "barc-10", barc(4), time_point="baseline", now=at("2015-01-10"))
    made_on(ben, "2015-01-20")

    hal = someone(world, "RB-HAL00001", "Hal")
    made_on(hal, "2015-01-01")

    cal = someone(world, "RB-CAL00001", "Cal", evaluation=False)
    detox(world, cal, "2015-01-10")
    actions.place_hold(world.alice, cal, reason="Claim 2015/44", now=at("2015-03-01"))
    made_on(cal, "2015-03-01")

    dee = someone(world, "RB-DEE00001", "Dee")
    detox(world, dee, "2015-02-01", end=None)
    made_on(dee, "2015-02-01")

    eve = someone(world, "RB-EVE00001", "Eve")
    detox(world, eve, "2015-01-10")
    care.log_contact(bob, eve, kind="phone", at=at("2020-05-01"), note="Back in touch", now=at("2020-05-01"))
    made_on(eve, "2015-01-20")

    fay = someone(world, "RB-FAY00001", "Fay", evaluation=False)
    detox(world, fay, "2015-01-10")
    care.record_view(world.alice, fay, now=at("2019-09-01"))
    made_on(fay, "2015-01-20")

    ivy = someone(world, "RB-IVY00001", "Ivy", evaluation=False)
    care.log_contact(bob, ivy, kind="phone", at=at("2017-06-29"), now=at("2017-06-29"))
    made_on(ivy, "2015-01-20")
    jay = someone(world, "RB-JAY00001", "Jay", evaluation=False)
    care.log_contact(bob, jay, kind="phone", at=at("2017-07-01"), now=at("2017-07-01"))
    made_on(jay, "2015-01-20")
    return {p.given_name.lower(): p for p in (ana, gus, ben, hal, cal, dee, eve, fay, ivy, jay)}


def exists(person: Person) -> bool:
    return Person.objects.filter(pk=person.pk).exists()


def test_exactly_what_is_due_is_anonymised_or_erased(world, story):
    run = retention.apply(now=NOW)

    assert run.report["anonymised"] == 2
    assert run.report["erased"] == 3
    assert run.report["kept_under_hold"] == 1
    assert run.report["kept_open_episode"] == 1
    assert sorted(p.given_name for p in Person.objects.filter(anonymised_at__isnull=False)) == ["", ""]
    assert {p.pk for p in Person.objects.filter(anonymised_at=NOW)} == {story["ana"].pk, story["gus"].pk}
    for name in ("ben", "hal", "ivy"):
        assert not exists(story[name]), name
    for name in ("cal", "dee", "eve", "fay", "jay"):
        kept = Person.objects.get(pk=story[name].pk)
        assert kept.anonymised_at is None and kept.given_name == name.capitalize(), name
    for person in (world.pat, world.quinn, world.rowan):
        assert exists(person)


def test_an_anonymised_record_keeps_what_evaluation_reads_and_nothing_that_identifies(world, story):
    ana = story["ana"]
    referral = Referral.objects.get(person=ana)
    updated = referral.updated_at
    retention.apply(now=NOW)

    kept = Person.objects.get(pk=ana.pk)
    assert (kept.given_name, kept.family_name, kept.email, kept.phone, kept.postcode) == ("", "", "", "", "")
    assert kept.latitude is None and kept.reference != "RB-ANA00001" and kept.reference.startswith("RB-")
    # 24 at her detox on 10 January 2015: the earliest birthday giving that is 11 January 1990.
    assert kept.date_of_birth == d("1990-01-11")
    assert kept.on_moud and kept.navigator == world.bob and kept.team == world.detox
    assert not Contact.objects.filter(person=ana).exists()
    assert not RelatedPerson.objects.filter(person=ana).exists()
    assert not FollowUp.objects.filter(referral__person=ana).exists()
    referral.refresh_from_db()
    assert (referral.reason, referral.business_status, referral.updated_at) == (
        "",
        "attended-first-meeting",
        updated,
    )
    assert referral.assisted_steps.get().note == ""
    consents = {c.purpose: c for c in Consent.objects.filter(person=ana)}
    assert consents[ConsentPurpose.EVALUATION].revoked_at is None
    assert consents[ConsentPurpose.REFERRAL].revoked_at == NOW  # nothing more is disclosed
    assert consents[ConsentPurpose.REFERRAL].scope == ""
    assert (
        Response.objects.filter(person=ana).count() == 2 and CheckIn.objects.filter(person=ana).count() == 1
    )
    # Nobody sees it as a record any more: not her worker, not her team's manager.
    assert not Person.objects.restrict(world.bob).filter(pk=ana.pk).exists()
    assert not Person.objects.restrict(world.alice, "audit").filter(pk=ana.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, person_id=ana.pk, at=NOW)
    assert event.actor is None and event.changes["reference"] == {"old": "[hidden]", "new": "[hidden]"}
    assert "RB-ANA" not in str(event.changes) and "Ana" not in event.detail


def test_evaluation_figures_are_the_same_before_and_after(world, story):
    before = build_cohort(CohortSpec(), now=NOW)
    retention.apply(now=NOW)
    after = build_cohort(CohortSpec(), now=NOW)

    anonymised = set(Person.objects.filter(anonymised_at=NOW).values_list("pk", flat=True))
    theirs = set(Episode.objects.filter(person__in=anonymised).values_list("pk", flat=True))
    assert (
        len(theirs & set(before.frame["episode_id"])) == 2
    )  # Ana's and Gus's detoxes are in the frame, before and after
    pd.testing.assert_frame_equal(before.frame, after.frame)
    assert before.n_episodes == after.n_episodes
    # People erased had no evaluation consent: they were only ever counted as left out.
    assert after.n_without_consent == before.n_without_consent - 1  # Ben's detox


def test_what_was_kept_goes_when_the_consent_to_evaluation_ends(world, story):
    retention.apply(now=NOW)
    later = timezone.make_aware(datetime.datetime(2031, 1, 1, 12, 0))
    run = retention.apply(now=later)
    assert not exists(story["gus"])  # his consent ended in 2030
    assert exists(story["ana"])  # hers has no end
    assert run.report["erased"] >= 1


def test_erasure_leaves_the_audit_trail_with_ids_only(world, story):
    ben = story["ben"]
    trail = AuditEvent.objects.filter(person_id=ben.pk).count()
    retention.apply(now=NOW)
    assert AuditEvent.objects.filter(person_id=ben.pk).count() == trail + 1
    erased = AuditEvent.objects.get(action=AuditAction.DELETE, person_id=ben.pk)
    assert erased.detail == "erased past retention"
    assert erased.changes["erased"]["new"] == {"care.episode": 1, "care.person": 1, "outcomes.response": 1}
    assert "Ben" not in str(erased.changes)
    assert chain.verify().intact


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(world, story):
    people = Person.objects.count()
    run = retention.apply(now=NOW, dry_run=True)
    assert run.dry_run and run.report["anonymised"] == 2 and run.report["erased"] == 3
    assert Person.objects.count() == people
    assert not Person.objects.filter(anonymised_at__isnull=False).exists()
    assert RetentionRun.objects.count() == 1


def test_lifting_the_hold_lets_the_next_run_erase(world, story):
    cal = story["cal"]
    retention.apply(now=NOW)
    actions.lift_hold(world.alice, cal.legal_holds.get(), now=at("2015-03-02"))
    retention.apply(now=NOW)
    assert not exists(cal)


def test_old_answered_requests_and_sent_messages_go(world, story):
    old = actions.record_request(
        world.bob, story["eve"], kind=RequestKind.ACCESS, received_on=d("2018-01-02"), now=at("2018-01-02")
    )
    actions.refuse_request(world.alice, old, reason="Given last week", now=at("2018-01-10"))
    recent = actions.record_request(
        world.bob, story["eve"], kind=RequestKind.ACCESS, received_on=d("2020-01-02"), now=at("2020-01-02")
    )
    actions.refuse_request(world.alice, recent, reason="Given last week", now=at("2020-01-10"))
    Message.objects.bulk_create(
        [
            Message(to="a@example.org", body="old", sent_at=at("2024-06-01")),
            Message(to="b@example.org", body="recent", sent_at=at("2025-06-01")),
            Message(to="c@example.org", body="never went"),
        ]
    )
    run = retention.apply(now=NOW)
    assert run.report["requests_erased"] == 1 and run.report["messages_erased"] == 1
    assert list(RightsRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    assert sorted(Message.objects.values_list("body", flat=True)) == ["never went", "recent"]


@pytest.mark.parametrize("seed", range(3))
def test_a_coarse_birth_date_gives_the_same_ages(seed):
    rng = random.Random(seed)
    for _ in range(300):
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 50))
        starts = [
            born + datetime.timedelta(days=rng.randrange(365 * 15, 365 * 70))
            for _ in range(rng.randrange(1, 4))
        ]
        coarse = retention.coarse_birth_date(born, starts)
        assert coarse is not None and coarse <= born
        assert [retention.age_at(coarse, s) for s in starts] == [retention.age_at(born, s) for s in starts]


def test_coarse_birth_dates_at_the_edges():
    assert retention.coarse_birth_date(None, [d("2020-01-01")]) is None
    assert retention.coarse_birth_date(d("1990-01-01"), []) is None
    # 24 on 10 January 2015: born after 10 January 1990.
    assert retention.coarse_birth_date(d("1990-06-15"), [d("2015-01-10")]) == d("1990-01-11")
    # Two episodes narrow it: also 25 on 1 July 2015, so born on or before 1 July 1990.
    assert retention.coarse_birth_date(d("1990-06-15"), [d("2015-01-10"), d("2015-07-01")]) == d("1990-01-11")
    # 36 on 29 February 2016: after 29 February 1979, a day that does not exist, so 1 March.
    assert retention.coarse_birth_date(d("1980-02-29"), [d("2016-02-29")]) == d("1979-03-01")


def test_an_anonymised_persons_requests_keep_no_words_and_no_link(world, story, settings):
    settings.RETENTION = {**settings.RETENTION, "rights_documentation_years": 12}  # not yet due themselves
    ana = story["ana"]
    old = actions.record_request(
        world.bob, ana, kind=RequestKind.CORRECTION, received_on=d("2015-02-01"),
        details="My name is Anna", now=at("2015-02-01"),
    )  # fmt: skip
    actions.refuse_request(world.alice, old, reason="Ana is right", now=at("2015-02-02"))
    retention.apply(now=NOW)
    old.refresh_from_db()
    assert (old.person, old.subject_id, old.details, old.answer) == (None, ana.pk, "", "")
    assert old.outcome == "refused" and old.received_on == d("2015-02-01")
