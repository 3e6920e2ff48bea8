"""Bob refers Pat. The referring team drafts, requests and cancels; the receiving
organisation (Bridge, with Pat's consent) accepts, starts and completes; nobody skips steps."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from recoverybridge.care import actions
from recoverybridge.care.errors import InvalidTransition
from recoverybridge.care.models import (
    AssistedStepKind,
    ConsentPurpose,
    MutualAidMilestone,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from tests.factories import make_meeting

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def to_bridge(world):
    actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, now=NOW
    )
    return actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.OTHER_SERVICE,
        target_organisation=world.bridge,
        now=NOW,
    )


def test_meeting_referral_records_every_option_presented_and_the_choice(world):
    aa, smart, lifering = make_meeting("aa"), make_meeting("smart"), make_meeting("lifering")
    referral = actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.MEETING,
        presented=[aa, smart, lifering],
        chosen=[smart],
        reason="wants a secular group",
        now=NOW,
    )
    assert referral.status == TaskStatus.REQUESTED
    assert referral.meeting == smart
    assert referral.referred_by == world.bob
    assert {(o.meeting_id, o.chosen) for o in referral.options.all()} == {
        (aa.pk, False),
        (smart.pk, True),
        (lifering.pk, False),
    }


def test_target_must_be_named(world):
    with pytest.raises(ValueError, match="meeting"):
        actions.create_referral(world.bob, world.pat, target_kind=ReferralTargetKind.MEETING)
    with pytest.raises(ValueError, match="organisation"):
        actions.create_referral(world.bob, world.pat, target_kind=ReferralTargetKind.HOUSING)


def test_only_the_persons_teams_may_refer_them(world):
    for outsider in (world.dave, world.nina, world.cora, world.eddie, world.ada):
        with pytest.raises(PermissionDenied):
            actions.create_referral(outsider, world.pat, target_kind=ReferralTargetKind.FELLOWSHIP)


def test_performer_statuses_belong_to_the_receiving_organisation(world, to_bridge):
    with pytest.raises(PermissionDenied, match="receiving organisation"):
        actions.set_referral_status(world.bob, to_bridge, TaskStatus.ACCEPTED, now=NOW)
    accepted = actions.set_referral_status(world.nina, to_bridge, TaskStatus.ACCEPTED, now=NOW)
    started = actions.set_referral_status(world.bridge, accepted, TaskStatus.IN_PROGRESS, now=NOW)
    done = actions.set_referral_status(world.nina, started, TaskStatus.COMPLETED, now=NOW)
    assert done.status == TaskStatus.COMPLETED


def test_requester_statuses_belong_to_the_referring_team(world, to_bridge):
    with pytest.raises(PermissionDenied, match="referring team"):
        actions.set_referral_status(world.nina, to_bridge, TaskStatus.CANCELLED, now=NOW)
    with pytest.raises(PermissionDenied):
        actions.set_referral_status(world.bridge, to_bridge, TaskStatus.ENTERED_IN_ERROR, now=NOW)
    cancelled = actions.set_referral_status(world.carol, to_bridge, TaskStatus.CANCELLED, reason="moved away")
    assert cancelled.status == TaskStatus.CANCELLED
    assert cancelled.status_reason == "moved away"


def test_invalid_transitions_are_refused(world, to_bridge):
    with pytest.raises(InvalidTransition):
        actions.set_referral_status(world.nina, to_bridge, TaskStatus.ON_HOLD)
    actions.set_referral_status(world.nina, to_bridge, TaskStatus.REJECTED, reason="no capacity")
    with pytest.raises(InvalidTransition):
        actions.set_referral_status(world.nina, to_bridge, TaskStatus.ACCEPTED)
    # Still correctable as a mistake.
    assert actions.set_referral_status(world.bob, to_bridge, TaskStatus.ENTERED_IN_ERROR).status == (
        TaskStatus.ENTERED_IN_ERROR
    )


def test_others_cannot_touch_the_referral(world, to_bridge):
    for outsider in (world.dave, world.cora, world.eddie, world.ada):
        with pytest.raises(PermissionDenied):
            actions.set_referral_status(outsider, to_bridge, TaskStatus.CANCELLED)
    with pytest.raises(PermissionDenied):
        actions.set_referral_status(world.county, to_bridge, TaskStatus.ACCEPTED)


def test_mutual_aid_referral_is_tracked_by_the_referring_team(world):
    meeting = make_meeting("na")
    referral = actions.create_referral(
        world.bob, world.pat, target_kind=ReferralTargetKind.MEETING, meeting=meeting, now=NOW
    )
    referral = actions.set_referral_status(world.bob, referral, TaskStatus.IN_PROGRESS)
    actions.record_assisted_step(world.bob, referral, kind=AssistedStepKind.ACCOMPANIED, on=date(2026, 3, 4))
    referral = actions.set_business_status(world.bob, referral, MutualAidMilestone.ATTENDED_FIRST)
    assert referral.business_status == MutualAidMilestone.ATTENDED_FIRST
    assert referral.assisted_steps.get().by == world.bob
    with pytest.raises(PermissionDenied):
        actions.set_business_status(world.dave, referral, MutualAidMilestone.TRIED_AND_STOPPED)


def test_follow_ups_are_scheduled_when_a_referral_is_sent(world, settings):
    settings.FOLLOW_UP_DAYS = [3, 10]
    world.pat.navigator = world.carol
    world.pat.save()
    referral = actions.create_referral(
        world.bob, world.pat, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=aa(), now=NOW
    )
    due = [(f.due_on, f.assigned_to) for f in referral.follow_ups.order_by("due_on")]
    assert due == [(date(2026, 3, 5), world.carol), (date(2026, 3, 12), world.carol)]


def test_drafts_get_follow_ups_only_when_sent(world):
    draft = actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=aa(),
        submit=False,
        now=NOW,
    )
    assert not draft.follow_ups.exists()
    later = NOW + timedelta(days=2)
    actions.set_referral_status(world.bob, draft, TaskStatus.REQUESTED, now=later)
    assert [f.due_on for f in draft.follow_ups.order_by("due_on")] == [date(2026, 3, 11), date(2026, 4, 1)]
    assert [f.assigned_to for f in draft.follow_ups.all()] == [world.bob, world.bob]


def aa():
    return Fellowship.objects.get(slug="aa")
