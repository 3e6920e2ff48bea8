"""Pat (on Bob's Detox team) is referred to Bridge Peer Network. Nothing about Pat reaches
Bridge without Pat's consent to that disclosure; revoking or letting it expire hides the
referral from Bridge at once and stops any further export."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.audit.models import AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.errors import ConsentRequired
from recoverybridge.care.models import ConsentPurpose, Person, Referral, ReferralTargetKind, TaskStatus


def refer_to_bridge(world, **kw):
    return actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.OTHER_SERVICE,
        target_organisation=world.bridge,
        **kw,
    )


def test_no_referral_to_another_organisation_without_consent(world):
    with pytest.raises(ConsentRequired, match="Bridge Peer Network"):
        refer_to_bridge(world)
    assert not Referral.objects.exists()
    assert not Referral.objects.restrict(world.nina).exists()


def test_consent_for_another_purpose_or_recipient_does_not_cover(world):
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.EVALUATION, recipient=world.bridge)
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.county)
    with pytest.raises(ConsentRequired):
        refer_to_bridge(world)


def test_referral_within_the_organisation_needs_no_consent(world):
    referral = actions.create_referral(
        world.bob, world.pat, target_kind=ReferralTargetKind.TREATMENT, target_organisation=world.harbour
    )
    assert referral.consent is None
    assert referral in Referral.objects.restrict(world.dave)  # Harbour's Community team receives it


def test_consent_lets_the_recipient_see_the_referral(world):
    consent = actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge
    )
    referral = refer_to_bridge(world)
    assert referral.consent == consent
    assert list(Referral.objects.restrict(world.nina)) == [referral]
    assert list(Referral.objects.received_by([world.bridge.pk])) == [referral]
    # Bridge sees the referral, never Pat's record itself.
    assert not Person.objects.restrict(world.nina).filter(pk=world.pat.pk).exists()


def test_a_draft_is_not_disclosed_and_needs_consent_when_sent(world):
    draft = refer_to_bridge(world, submit=False)
    assert draft.status == TaskStatus.DRAFT
    assert not Referral.objects.restrict(world.bridge.teams.first().memberships.first().user).exists()
    with pytest.raises(ConsentRequired):
        actions.set_referral_status(world.bob, draft, TaskStatus.REQUESTED)
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    sent = actions.set_referral_status(world.bob, draft, TaskStatus.REQUESTED)
    assert sent.consent is not None
    assert list(Referral.objects.restrict(world.nina)) == [sent]


def test_revocation_takes_effect_at_once(world):
    now = timezone.now() - timedelta(hours=1)  # so "a minute later" has passed for can() too
    consent = actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, now=now
    )
    referral = refer_to_bridge(world, now=now)
    actions.record_disclosure(world.bridge, referral, detail="FHIR export", now=now)

    actions.revoke_consent(world.bob, consent, now=now + timedelta(minutes=1))

    later = now + timedelta(minutes=1, seconds=1)
    assert not Referral.objects.restrict(world.nina, now=later).exists()
    assert not Referral.objects.received_by([world.bridge.pk], later).exists()
    assert not access.can(world.nina, "referral.view", referral)
    with pytest.raises(PermissionDenied):
        actions.record_disclosure(world.bridge, referral, now=later)
    with pytest.raises(PermissionDenied):
        actions.set_referral_status(world.bridge, referral, TaskStatus.ACCEPTED, now=later)
    # The referring team still has it, but may not export it to Bridge any more.
    assert access.can(world.bob, "referral.view", referral)
    assert not access.can(world.bob, "referral.disclose", referral)
    with pytest.raises(ConsentRequired):
        actions.record_disclosure(world.bob, referral, now=later)
    # History is kept: the consent is revoked, not deleted.
    consent.refresh_from_db()
    assert consent.revoked_at == now + timedelta(minutes=1)


def test_expiry_takes_effect_without_anyone_acting(world):
    now = timezone.now()
    actions.give_consent(
        world.bob,
        world.pat,
        purpose=ConsentPurpose.REFERRAL,
        recipient=world.bridge,
        expires_at=now + timedelta(days=30),
        now=now,
    )
    referral = refer_to_bridge(world, now=now)
    assert Referral.objects.restrict(world.nina, now=now + timedelta(days=29)).exists()
    assert not Referral.objects.restrict(world.nina, now=now + timedelta(days=30)).exists()
    with pytest.raises(ConsentRequired):
        actions.record_disclosure(world.bob, referral, now=now + timedelta(days=31))


def test_a_new_consent_restores_disclosure(world):
    first = actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge
    )
    refer_to_bridge(world)
    actions.revoke_consent(world.bob, first)
    assert not Referral.objects.restrict(world.nina).exists()
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    assert Referral.objects.restrict(world.nina).exists()


def test_consent_cannot_be_recorded_by_someone_outside_the_team(world):
    with pytest.raises(PermissionDenied):
        actions.give_consent(world.nina, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    assert AuditEvent.objects.filter(action="denied", actor=world.nina, person_id=world.pat.pk).count() == 1
