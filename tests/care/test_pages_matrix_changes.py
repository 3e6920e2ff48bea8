"""The permission matrix for the staff pages' state changes (POSTs): every role against a
person on their own team, another team of their organisation and another organisation.
In scope the change is made with exactly one audit event; out of scope the answer is 404
and nothing changes. (tests/care/test_pages_matrix.py covers the pages themselves.)"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    Contact,
    Episode,
    EpisodeKind,
    FollowUp,
    Referral,
    ReferralTargetKind,
    RelatedPerson,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from tests.care.test_access_matrix import SEES
from tests.care_world import make_person

PEOPLE = ("pat", "quinn", "rowan")
# A day for a planned or moved follow-up: soon, and on no follow-up's day already.
LATER = (timezone.localdate() + timedelta(days=3)).isoformat()
WORKER = {"pat": "bob", "quinn": "dave", "rowan": "nina"}


@pytest.fixture
def records(world):
    """For each person, made by their own worker: a consent, an episode, a referral with follow-ups,
    a related person (their sister Jo) and Jo's own record on the same team."""
    made = {}
    for name in PEOPLE:
        worker, person = world.user(WORKER[name]), world.person(name)
        made[name] = {
            "consent": actions.give_consent(worker, person, purpose=ConsentPurpose.EVALUATION),
            "episode": actions.start_episode(
                worker, person, kind=EpisodeKind.DETOX, started_on=date(2026, 1, 5)
            ),
            "referral": actions.create_referral(
                worker,
                person,
                target_kind=ReferralTargetKind.FELLOWSHIP,
                fellowship=Fellowship.objects.get(slug="smart"),
            ),
            "related": actions.add_related_person(worker, person, name="Jo Example", relationship="sister"),
            # The sister's own record, on the same team: linkable by whoever may change the person.
            "jo": make_person(person.team, f"RB-JO-{name.upper()}", "Jo"),
        }
    return made


def post_change(client, change, person, made):
    if change == "complete follow-up":
        follow_up = made["referral"].follow_ups.order_by("due_on").first()
        return client.post(
            f"/staff/follow-ups/{follow_up.pk}/", {"result": "not-yet", "outcome": "next week"}
        )
    if change == "revoke consent":
        return client.post(f"/staff/people/{person.pk}/consent/{made['consent'].pk}/revoke/")
    if change == "end episode":
        return client.post(
            f"/staff/people/{person.pk}/episodes/{made['episode'].pk}/end/",
            {"ended_on": "2026-01-12", "end_reason": "completed"},
        )
    if change == "log contact":
        return client.post(
            f"/staff/people/{person.pk}/contacts/new/",
            {"kind": "phone", "at": "2026-01-13 10:00", "duration_minutes": "15", "note": "ok"},
        )
    if change == "edit related person":
        return client.post(
            f"/staff/people/{person.pk}/related/{made['related'].pk}/edit/",
            {"name": "Jo Example", "relationship": "brother", "contact": "", "as_person": ""},
        )
    if change == "link related person":
        # To another person of the same team (made by the fixture below), so in scope exactly
        # when the person is.
        return client.post(
            f"/staff/people/{person.pk}/related/{made['related'].pk}/edit/",
            {"name": "Jo Example", "relationship": "sister", "as_person": made["jo"].reference},
        )
    if change == "remove related person":
        return client.post(f"/staff/people/{person.pk}/related/{made['related'].pk}/remove/")
    if change == "cancel referral":
        return client.post(
            f"/staff/referrals/{made['referral'].pk}/",
            {"form": "status", "status-status": TaskStatus.CANCELLED, "status-reason": ""},
        )
    if change == "plan follow-up":
        return client.post(f"/staff/referrals/{made['referral'].pk}/follow-ups/", {"plan-due_on": LATER})
    follow_up = made["referral"].follow_ups.order_by("due_on").first()
    if change == "move follow-up":
        return client.post(f"/staff/follow-ups/{follow_up.pk}/move/", {f"move-{follow_up.pk}-due_on": LATER})
    if change == "remove follow-up":
        return client.post(f"/staff/follow-ups/{follow_up.pk}/remove/")
    raise AssertionError(change)


def changed(change, person, made) -> bool:
    if change == "complete follow-up":
        return FollowUp.objects.filter(referral=made["referral"], completed_at__isnull=False).exists()
    if change == "revoke consent":
        return Consent.objects.get(pk=made["consent"].pk).revoked_at is not None
    if change == "end episode":
        return Episode.objects.get(pk=made["episode"].pk).ended_on is not None
    if change == "log contact":
        return Contact.objects.filter(person=person).exists()
    if change == "edit related person":
        return RelatedPerson.objects.filter(pk=made["related"].pk, relationship="brother").exists()
    if change == "link related person":
        return RelatedPerson.objects.filter(pk=made["related"].pk, as_person=made["jo"]).exists()
    if change == "remove related person":
        return not RelatedPerson.objects.filter(pk=made["related"].pk).exists()
    if change == "cancel referral":
        return Referral.objects.get(pk=made["referral"].pk).status == TaskStatus.CANCELLED
    if change == "plan follow-up":
        return FollowUp.objects.filter(referral=made["referral"]).count() == 3
    if change == "move follow-up":
        return FollowUp.objects.filter(referral=made["referral"], due_on=LATER).exists()
    if change == "remove follow-up":
        return FollowUp.objects.filter(referral=made["referral"]).count() == 1
    raise AssertionError(change)


CHANGES = (
    "complete follow-up",
    "revoke consent",
    "end episode",
    "log contact",
    "cancel referral",
    "edit related person",
    "link related person",
    "remove related person",
)
CELLS = [(c, u, p) for c in CHANGES for u in SEES for p in PEOPLE]


@pytest.mark.parametrize(("change", "username", "person_name"), CELLS)
def test_state_changes(world, records, client, change, username, person_name):
    user, person, made = world.user(username), world.person(person_name), records[person_name]
    client.force_login(user)
    events = AuditEvent.objects.filter(person_id=person.pk).exclude(action__in=[AuditAction.DENIED])
    before = events.count()
    response = post_change(client, change, person, made)
    if person_name in SEES[username][1]:
        assert response.status_code == 302, response.content[:500]
        assert changed(change, person, made)
        assert events.count() == before + 1
    else:
        assert response.status_code == 404
        assert not changed(change, person, made)
        assert events.count() == before
        assert person.reference.encode() not in response.content
