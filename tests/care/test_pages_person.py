"""The person timeline: everything about Pat on one page, each view recorded exactly once,
confidential notes only for their author and the team's managers, and the audit trail (with
its export) for managers only."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions, queries, states
from recoverybridge.care.models import ConsentPurpose, Contact, EpisodeKind, ReferralTargetKind
from recoverybridge.directory.models import Fellowship


@pytest.fixture
def pats_record(world):
    """Bob logs an open contact and a confidential one; Pat has a detox episode, a referral
    to SMART, a consent to Bridge that is active, one that expired and one revoked."""
    now = timezone.now()
    actions.start_episode(world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=date(2026, 10, 1))
    actions.log_contact(world.bob, world.pat, kind="phone", at=now, note="Talked about SMART meetings")
    actions.log_contact(
        world.bob, world.pat, kind="in_person", at=now, note="Family worries", confidential=True
    )
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    actions.give_consent(
        world.bob,
        world.pat,
        purpose=ConsentPurpose.EVALUATION,
        given_at=now - timedelta(days=60),
        expires_at=now - timedelta(days=1),
    )
    revoked = actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.CARE_COORDINATION)
    actions.revoke_consent(world.bob, revoked)
    referral = actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="smart"),
    )
    actions.record_assisted_step(world.bob, referral, kind="introduced", on=timezone.localdate())
    return referral


def test_the_timeline_shows_pats_whole_journey(world, client, pats_record):
    client.force_login(world.bob)
    body = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "Pat Example" in body and world.pat.reference in body
    assert "Detox" in body and "Ongoing" in body
    assert "SMART Recovery" in body and "Requested" in body and "Introduced to a member" in body
    assert "Talked about SMART meetings" in body
    assert "Active" in body and "Expired" in body and "Revoked" in body
    assert body.count("Record how it went") == 2  # the 7- and 28-day follow-ups


def test_each_view_is_recorded_exactly_once(world, client, pats_record):
    client.force_login(world.carol)
    views = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.VIEW, actor=world.carol)
    for n in (1, 2):
        assert client.get(f"/staff/people/{world.pat.pk}/").status_code == 200
        assert views.count() == n
    assert AuditEvent.objects.filter(actor=world.carol).exclude(action=AuditAction.VIEW).count() == 0


@pytest.mark.parametrize(
    ("username", "sees_note"),
    [("bob", True), ("alice", True), ("sam", True), ("carol", False)],
)
def test_confidential_notes(world, client, pats_record, username, sees_note):
    """Bob wrote it, Alice and Sam manage the team; Carol is on the team but may not read it."""
    client.force_login(world.user(username))
    body = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "Talked about SMART meetings" in body
    assert ("Family worries" in body) is sees_note
    assert ("only its author and the team's managers may read it" in body) is not sees_note


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave", "sam", "nina"])
def test_note_visibility_agrees_with_access_can(world, pats_record, username):
    """The page decides once per page what access.can decides per contact: same answers."""
    user = world.user(username)
    actions.log_contact(
        world.alice, world.pat, kind="phone", at=timezone.now(), note="Alice's", confidential=True
    )
    visible = queries.note_visibility(user, world.pat)
    for contact in Contact.objects.filter(person=world.pat):
        if access.can(user, "person.view", world.pat):
            assert visible(contact) is access.can(user, "contact.note", contact)


@pytest.mark.parametrize(
    ("username", "link"), [("alice", True), ("sam", True), ("bob", False), ("carol", False)]
)
def test_managers_see_the_audit_trail_link(world, client, username, link):
    client.force_login(world.user(username))
    body = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert (f"/staff/people/{world.pat.pk}/audit/" in body) is link


def test_the_audit_trail_and_its_export(world, client, pats_record):
    client.force_login(world.bob)
    client.get(f"/staff/people/{world.pat.pk}/")
    client.force_login(world.alice)
    page = client.get(f"/staff/people/{world.pat.pk}/audit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "bob" in body and "Viewed" in body and "Created" in body
    assert "Family worries" not in body and "Talked about" not in body  # notes never reach the trail

    response = client.post(f"/staff/people/{world.pat.pk}/audit/export/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {row["person_reference"] for row in rows} == {world.pat.reference}
    exports = AuditEvent.objects.filter(person_id=world.pat.pk, action=AuditAction.EXPORT, actor=world.alice)
    assert exports.count() == 1
    # A GET does not export (nothing is recorded by following a link).
    assert client.get(f"/staff/people/{world.pat.pk}/audit/export/").status_code == 405
    assert exports.count() == 1


def test_the_referral_page_offers_only_allowed_transitions(world, client, pats_record):
    client.force_login(world.bob)
    body = client.get(f"/staff/referrals/{pats_record.pk}/").content.decode()
    offered = set(states.allowed_statuses(world.bob, pats_record))
    assert offered
    for value in ("draft", "accepted", "requested", "rejected", "in-progress", "completed", "cancelled"):
        assert (f'<option value="{value}"' in body) is (value in offered)
