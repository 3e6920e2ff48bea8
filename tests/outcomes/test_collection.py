"""Collecting outcomes: Bob (peer worker, Detox team) records responses for Pat, sends Pat
self-completion links, and schedules Pat's journey. Dave (Community team) and Nina (another
organisation) may not see any of it."""

import datetime
import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, EpisodeKind
from recoverybridge.outcomes import actions, queries
from recoverybridge.outcomes.models import (
    CheckIn,
    CollectionMode,
    Invitation,
    InvitationKind,
    Response,
    ResponseStatus,
    ScheduledAssessment,
    TimePoint,
)
from recoverybridge.outcomes.scoring import InvalidAnswers
from tests.care_world import World, build_world

NOW = timezone.make_aware(datetime.datetime(2025, 3, 3, 10, 0))
ALL_FIVES = {f"barc-{n}": "5" for n in range(1, 11)}


@pytest.fixture
def world(db) -> World:
    return build_world()


def test_staff_response_scored_and_audited(world):
    response = actions.record_response(
        world.bob, world.pat, "barc-10", ALL_FIVES, time_point="baseline", now=NOW
    )
    response.refresh_from_db()
    assert response.status == ResponseStatus.COMPLETED
    assert (response.instrument, response.instrument_version) == ("barc-10", "1")
    assert response.scores == {"total": 50, "flags": ["sustained-remission-threshold"], "prorated": []}
    assert response.mode == CollectionMode.STAFF and response.collected_by == world.bob
    event = AuditEvent.objects.get(object_type="outcomes.response", object_id=str(response.pk))
    assert (event.actor, event.action, event.person_id) == (world.bob, AuditAction.CREATE, world.pat.pk)


def test_partial_staff_response_then_completed(world):
    response = actions.record_response(
        world.bob, world.pat, "barc-10", {"barc-1": "4"}, complete=False, now=NOW
    )
    assert response.status == ResponseStatus.IN_PROGRESS and response.completed_at is None
    response = actions.update_response(world.bob, response, ALL_FIVES, now=NOW)
    assert response.status == ResponseStatus.COMPLETED and response.scores["total"] == 50


def test_invalid_answers_save_nothing(world):
    with pytest.raises(InvalidAnswers):
        actions.record_response(world.bob, world.pat, "barc-10", {"barc-1": "9"}, now=NOW)
    assert not Response.objects.exists()


@pytest.mark.parametrize("name", ["dave", "nina", "cora", "eddie", "ada"])
def test_others_cannot_record_or_see_responses(world, name):
    actions.record_response(world.bob, world.pat, "barc-10", ALL_FIVES, now=NOW)
    with pytest.raises(PermissionDenied):
        actions.record_response(world.user(name), world.pat, "barc-10", ALL_FIVES, now=NOW)
    assert not Response.objects.restrict(world.user(name)).exists()
    assert queries.trajectory(world.user(name), world.pat).recovery_capital == []


@pytest.mark.parametrize("name", ["bob", "carol", "alice", "sam"])
def test_pats_team_and_service_manager_see_responses(world, name):
    actions.record_response(world.bob, world.pat, "barc-10", ALL_FIVES, now=NOW)
    assert Response.objects.restrict(world.user(name)).count() == 1
    assert queries.trajectory(world.user(name), world.pat).recovery_capital == [(NOW, 50)]


# ---------------------------------------------------------------- self-completion links


def test_token_is_stored_only_as_its_hash(world):
    invitation, token = actions.create_invitation(world.bob, world.pat, instrument_id="barc-10", now=NOW)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(value) for value in Invitation.objects.values().get(pk=invitation.pk).values()]
    assert token not in stored
    assert len(token) >= 40


def test_partial_save_then_complete_once(world):
    _invitation, token = actions.create_invitation(world.bob, world.pat, instrument_id="barc-10", now=NOW)
    partial = actions.save_invitation_answers(token, {"barc-1": "6", "barc-2": "5"}, now=NOW)
    assert partial.status == ResponseStatus.IN_PROGRESS
    assert partial.answers == {"barc-1": "6", "barc-2": "5"}
    # The link still opens, with the partial answers.
    assert actions.usable_invitation(token, now=NOW).response == partial
    later = NOW + datetime.timedelta(hours=1)
    done = actions.complete_invitation(token, ALL_FIVES, now=later)
    assert done.pk == partial.pk
    assert done.status == ResponseStatus.COMPLETED and done.completed_at == later
    assert done.mode == CollectionMode.SELF and done.collected_by is None
    # Single use.
    with pytest.raises(actions.InvitationUnusable):
        actions.usable_invitation(token, now=later)
    with pytest.raises(actions.InvitationUnusable):
        actions.complete_invitation(token, ALL_FIVES, now=later)
    events = AuditEvent.objects.filter(object_type="outcomes.response", object_id=str(done.pk))
    assert [e.actor for e in events] == [None, None]
    assert all(e.detail.startswith("self-completion") for e in events)
    assert all("barc" not in str(e.changes) for e in events)  # no answers in the trail


def test_expired_link_stops_working(world):
    _invitation, token = actions.create_invitation(
        world.bob, world.pat, instrument_id="barc-10", valid_for=datetime.timedelta(days=2), now=NOW
    )
    actions.save_invitation_answers(token, {"barc-1": "3"}, now=NOW + datetime.timedelta(days=1))
    with pytest.raises(actions.InvitationUnusable):
        actions.save_invitation_answers(token, {"barc-1": "3"}, now=NOW + datetime.timedelta(days=2))


def test_revoked_link_stops_working(world):
    invitation, token = actions.create_invitation(world.bob, world.pat, instrument_id="barc-10", now=NOW)
    actions.revoke_invitation(world.carol, invitation, now=NOW)
    with pytest.raises(actions.InvitationUnusable):
        actions.complete_invitation(token, ALL_FIVES, now=NOW)
    with pytest.raises(PermissionDenied):
        actions.revoke_invitation(world.dave, invitation, now=NOW)


def test_unknown_token_and_invalid_answers_through_a_link(world):
    _invitation, token = actions.create_invitation(world.bob, world.pat, instrument_id="barc-10", now=NOW)
    with pytest.raises(actions.InvitationUnusable):
        actions.usable_invitation("not-a-token", now=NOW)
    with pytest.raises(InvalidAnswers):
        actions.complete_invitation(token, {"barc-1": "0"}, now=NOW)
    actions.usable_invitation(token, now=NOW)  # still usable after a rejected attempt


def test_a_link_answers_the_version_it_was_sent_with(world):
    invitation, token = actions.create_invitation(
        world.bob, world.pat, instrument_id="social-network", now=NOW
    )
    response = actions.complete_invitation(
        token, {"network-size": 5, "in-recovery": 2, "supportive": 4}, now=NOW
    )
    assert (response.instrument, response.instrument_version) == (
        "social-network",
        invitation.instrument_version,
    )
    assert response.scores["supportive-share"] == 0.8


# ---------------------------------------------------------------- schedules


def test_schedule_from_the_start_of_a_journey(world):
    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2025, 1, 31), now=NOW
    )
    created = actions.generate_schedule(world.bob, episode, now=NOW)
    # default: 5 time points x 4 instruments
    assert len(created) == 20
    barc = ScheduledAssessment.objects.filter(episode=episode, instrument="barc-10").order_by("due_on")
    assert [(s.time_point, s.due_on) for s in barc] == [
        (TimePoint.BASELINE, datetime.date(2025, 1, 31)),
        (TimePoint.MONTH_1, datetime.date(2025, 2, 28)),  # no 31 February
        (TimePoint.MONTH_3, datetime.date(2025, 4, 30)),
        (TimePoint.MONTH_6, datetime.date(2025, 7, 31)),
        (TimePoint.MONTH_12, datetime.date(2026, 1, 31)),
    ]
    assert actions.generate_schedule(world.bob, episode, now=NOW) == []  # nothing twice


def test_organisation_schedule_setting(world):
    with pytest.raises(PermissionDenied):
        actions.set_schedule(world.bob, world.harbour.pk, months=[0, 6], instrument_ids=["barc-10"], now=NOW)
    actions.set_schedule(world.sam, world.harbour.pk, months=[0, 6, 24], instrument_ids=["barc-10"], now=NOW)
    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2025, 1, 1), now=NOW
    )
    created = actions.generate_schedule(world.bob, episode, now=NOW)
    assert sorted(s.due_on for s in created) == [
        datetime.date(2025, 1, 1),
        datetime.date(2025, 7, 1),
        datetime.date(2027, 1, 1),
    ]
    with pytest.raises(ValueError, match="months must be among"):
        actions.set_schedule(world.sam, world.harbour.pk, months=[5], instrument_ids=["barc-10"], now=NOW)


def test_due_overdue_fulfilled_and_cancelled(world):
    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2025, 1, 1), now=NOW
    )
    actions.generate_schedule(world.bob, episode, now=NOW)
    today = datetime.date(2025, 2, 3)
    due = queries.due_assessments(world.bob, today)
    # baseline (1 Jan) overdue and 1 month (1 Feb) overdue, for 4 instruments each
    assert due.count() == 8
    assert queries.overdue_assessments(world.bob, today).count() == 8
    assert not queries.due_assessments(world.dave, today).exists()
    actions.record_response(world.bob, world.pat, "barc-10", ALL_FIVES, time_point="baseline", now=NOW)
    assert due.count() == 7  # the baseline BARC-10 is fulfilled by the response at its time point
    done = ScheduledAssessment.objects.get(episode=episode, instrument="barc-10", time_point="baseline")
    assert done.response is not None
    assert actions.cancel_schedule(world.bob, episode, now=NOW) == 19
    assert not queries.due_assessments(world.bob, datetime.date(2027, 1, 1)).exists()


def test_team_completion_rates(world):
    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2025, 1, 1), now=NOW
    )
    actions.generate_schedule(world.bob, episode, now=NOW)
    actions.record_response(world.bob, world.pat, "barc-10", ALL_FIVES, time_point="baseline", now=NOW)
    rows = {c.team.name: c for c in queries.team_completion(world.alice, datetime.date(2025, 2, 3))}
    # due by 3 Feb: baseline and 1 month x 4 instruments = 8; one done, late (3 Mar > 1 Jan + 14 days)
    assert (rows["Detox"].due, rows["Detox"].completed, rows["Detox"].completed_on_time) == (8, 1, 0)
    assert rows["Detox"].rate == 1 / 8
    assert queries.team_completion(world.bob, datetime.date(2025, 2, 3)) == []  # not a manager


# ---------------------------------------------------------------- check-ins


def test_check_ins_visible_only_with_consent(world):
    _invitation, token = actions.create_invitation(
        world.bob, world.pat, kind=InvitationKind.CHECK_IN, now=NOW
    )
    check_in = actions.check_in_through(token, meetings_count=3, mood=4, cravings=2, now=NOW)
    assert check_in.mode == CollectionMode.SELF
    with pytest.raises(actions.InvitationUnusable):
        actions.check_in_through(token, mood=3, now=NOW)
    assert not CheckIn.objects.restrict(world.bob, now=NOW).exists()
    assert queries.trajectory(world.bob, world.pat).check_in_meetings == []
    care.give_consent(world.bob, world.pat, purpose=ConsentPurpose.CHECK_INS, given_at=NOW, now=NOW)
    assert list(CheckIn.objects.restrict(world.bob)) == [check_in]
    assert queries.trajectory(world.bob, world.pat).check_in_meetings == [(NOW, 3)]
    assert not CheckIn.objects.restrict(world.dave).exists()
    with pytest.raises(ValueError, match="mood"):
        actions.record_check_in(world.bob, world.pat, mood=6, now=NOW)
