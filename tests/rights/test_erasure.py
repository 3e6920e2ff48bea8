"""Pat asks for her record to be erased. Alice erases it through the same path as retention: the
record goes, the request stays (its kind, dates and answer, not Pat's words), the audit trail
keeps its events by id, and Pat is told before her address goes. A legal hold, or another of
her requests still open, stops it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from recoverybridge.audit import chain
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, EpisodeKind, Person, ReferralTargetKind
from recoverybridge.messaging.models import Message
from recoverybridge.rights import actions
from recoverybridge.rights.errors import HeldAlready, UnderLegalHold
from recoverybridge.rights.models import (
    ErasureGround,
    ReplyChannel,
    RequestKind,
    RequestOutcome,
    RightsRequest,
)

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))


@pytest.fixture
def asked(world):
    pat = world.pat
    care.give_consent(world.bob, pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    care.create_referral(
        world.bob, pat, target_kind=ReferralTargetKind.OTHER_SERVICE, target_organisation=world.bridge
    )
    care.start_episode(world.bob, pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2026, 1, 5))
    care.log_contact(world.bob, pat, kind="phone", at=NOW, note="Spoke")
    return actions.record_request(
        world.bob,
        pat,
        kind=RequestKind.ERASURE,
        received_on=NOW.date(),
        details="Please delete everything, I am moving away.",
        reply_by=ReplyChannel.EMAIL,
        now=NOW,
    )


def test_an_erasure_on_request(world, asked):
    pat_id = world.pat.pk
    actions.accept_erasure(world.alice, asked, ground=ErasureGround.CONSENT_WITHDRAWN, now=NOW)

    assert not Person.objects.filter(pk=pat_id).exists()
    kept = RightsRequest.objects.get(pk=asked.pk)
    assert (kept.person, kept.subject_id, kept.outcome) == (None, pat_id, RequestOutcome.GRANTED)
    assert (kept.details, kept.erasure_ground, kept.answered_by) == ("", "consent_withdrawn", world.alice)
    erased = AuditEvent.objects.get(action=AuditAction.DELETE, object_type="care.person", person_id=pat_id)
    assert (
        erased.actor == world.alice and erased.detail == f"erased on request {asked.pk} (consent_withdrawn)"
    )
    assert erased.changes["erased"]["new"]["care.referral"] == 1
    told = Message.objects.order_by("pk").last()
    assert told.to == "pat@example.net" and "your record has been erased" in told.body
    assert AuditEvent.objects.filter(person_id=pat_id).count() > 5  # the trail keeps its events, by id
    assert chain.verify().intact


def test_a_legal_hold_stops_it(world, asked):
    actions.place_hold(world.alice, world.pat, reason="Court order 12", now=NOW)
    with pytest.raises(UnderLegalHold):
        actions.accept_erasure(world.alice, asked, ground=ErasureGround.NOT_NEEDED, now=NOW)
    assert Person.objects.filter(pk=world.pat.pk).exists()
    assert RightsRequest.objects.get(pk=asked.pk).is_open


def test_other_open_requests_are_answered_first(world, asked):
    actions.record_request(world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW)
    with pytest.raises(actions.OtherRequestsOpen):
        actions.accept_erasure(world.alice, asked, ground=ErasureGround.NOT_NEEDED, now=NOW)
    assert Person.objects.filter(pk=world.pat.pk).exists()


def test_only_a_manager_of_the_team_erases(world, asked):
    for user in (world.bob, world.dave, world.nina):
        with pytest.raises(PermissionDenied):
            actions.accept_erasure(user, asked, ground=ErasureGround.NOT_NEEDED, now=NOW)
    assert Person.objects.filter(pk=world.pat.pk).exists()


def test_a_refused_erasure_keeps_the_record_and_the_reason(world, asked):
    actions.refuse_request(
        world.alice, asked, reason="We must keep health records for 8 years after care ends.", now=NOW
    )
    assert Person.objects.filter(pk=world.pat.pk).exists()
    assert RightsRequest.objects.get(pk=asked.pk).outcome == RequestOutcome.REFUSED


def test_holds_are_placed_and_lifted_by_managers_once_at_a_time(world):
    with pytest.raises(PermissionDenied):
        actions.place_hold(world.bob, world.pat, reason="x", now=NOW)
    hold = actions.place_hold(world.alice, world.pat, reason="Inquiry", now=NOW)
    with pytest.raises(HeldAlready):
        actions.place_hold(world.sam, world.pat, reason="again", now=NOW)
    actions.lift_hold(world.alice, hold, now=NOW)
    hold.refresh_from_db()
    assert hold.lifted_by == world.alice
    assert actions.place_hold(world.sam, world.pat, reason="Second inquiry", now=NOW).pk != hold.pk
