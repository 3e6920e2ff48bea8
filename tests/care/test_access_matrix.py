"""Who sees whose records: every role against people on their own team, another team of
their organisation and another organisation. The table is written out in full so that a
change of rule shows up as a changed cell, and any cell not marked allowed must be denied."""

import pytest

from recoverybridge.accounts import access
from recoverybridge.care import actions
from recoverybridge.care.models import ConsentPurpose, FollowUp, Person, Referral, ReferralTargetKind

# Pat is on the Detox team, Quinn on Harbour's Community team, Rowan at Bridge.
# user: (role, people they may see)
SEES = {
    "alice": ("team manager, Detox", {"pat"}),
    "bob": ("peer worker, Detox", {"pat"}),
    "carol": ("clinician, Detox", {"pat"}),
    "dave": ("peer worker, Community", {"quinn"}),
    "sam": ("service manager, Harbour", {"pat", "quinn"}),
    "nina": ("peer worker, Bridge", {"rowan"}),
    "cora": ("commissioner", set()),
    "eddie": ("directory editor", set()),
    "ada": ("administrator and superuser", set()),
}
# Whose audit trail a user may read (managers only).
AUDITS = {"alice": {"pat"}, "sam": {"pat", "quinn"}}
PEOPLE = ("pat", "quinn", "rowan")
CELLS = [(user, person) for user in SEES for person in PEOPLE]


@pytest.mark.parametrize(("username", "person_name"), CELLS)
def test_people_for_and_can(world, username, person_name):
    user, person = world.user(username), world.person(person_name)
    allowed = person_name in SEES[username][1]
    assert (person in Person.objects.restrict(user)) is allowed
    assert access.can(user, "person.view", person) is allowed
    assert access.can(user, "person.change", person) is allowed
    assert access.can(user, "person.audit", person) is (person_name in AUDITS.get(username, set()))


@pytest.mark.parametrize("username", list(SEES))
def test_people_for_lists_exactly_the_allowed(world, username):
    seen = {p.reference for p in Person.objects.restrict(world.user(username))}
    assert seen == {world.person(name).reference for name in SEES[username][1]}


def test_anonymous_and_inactive_users_see_nobody(world):
    from django.contrib.auth.models import AnonymousUser

    assert not Person.objects.restrict(AnonymousUser()).exists()
    world.bob.is_active = False
    world.bob.save()
    assert not Person.objects.restrict(world.bob).exists()
    assert not Referral.objects.restrict(world.bob).exists()


# A referral of Pat (Detox) to Bridge, with Pat's consent: visible to Pat's own teams and
# service manager, and to Bridge's care staff; nobody else.
SEES_REFERRAL_TO_BRIDGE = {"alice", "bob", "carol", "sam", "nina"}


@pytest.mark.parametrize("username", list(SEES))
def test_referrals_for_with_consent(world, username):
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    referral = actions.create_referral(
        world.bob, world.pat, target_kind=ReferralTargetKind.OTHER_SERVICE, target_organisation=world.bridge
    )
    user = world.user(username)
    allowed = username in SEES_REFERRAL_TO_BRIDGE
    assert (referral in Referral.objects.restrict(user)) is allowed
    assert access.can(user, "referral.view", referral) is allowed
    assert access.can(user, "referral.request", referral) is (username in {"alice", "bob", "carol", "sam"})
    assert access.can(user, "referral.perform", referral) is (username == "nina")
    assert (referral in Referral.objects.restrict(user, "request")) is (
        username in {"alice", "bob", "carol", "sam"}
    )


@pytest.mark.parametrize("username", list(SEES))
def test_nothing_leaks_through_follow_ups(world, username):
    actions.create_referral(world.bob, world.pat, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=_aa())
    visible = FollowUp.objects.restrict(world.user(username))
    assert visible.exists() is ("pat" in SEES[username][1])


def _aa():
    from recoverybridge.directory.models import Fellowship

    return Fellowship.objects.get(slug="aa")


# Bob logs a confidential contact with Pat: only Bob and the Detox team's managers read the note.
READS_CONFIDENTIAL_NOTE = {"bob", "alice", "sam"}


@pytest.mark.parametrize("username", list(SEES))
def test_confidential_contact_notes(world, username):
    from datetime import UTC, datetime

    from recoverybridge.care.models import ContactKind

    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    open_note = actions.log_contact(world.bob, world.pat, kind=ContactKind.PHONE, at=at, note="booked a lift")
    secret = actions.log_contact(
        world.bob, world.pat, kind=ContactKind.PHONE, at=at, note="disclosed a relapse", confidential=True
    )
    user = world.user(username)
    assert access.can(user, "contact.note", open_note) is ("pat" in SEES[username][1])
    assert access.can(user, "contact.note", secret) is (username in READS_CONFIDENTIAL_NOTE)
