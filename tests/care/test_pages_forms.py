"""The forms that change a record: each good submission goes through care.actions (and so the
audit trail); each bad one comes back with a clear message, what was typed still there, and
nothing changed. Never a 500."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    Contact,
    Episode,
    FollowUp,
    Person,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from tests.factories import make_location


@pytest.fixture
def bob(world, client):
    client.force_login(world.bob)
    return client


def changes_to_pat() -> int:
    return AuditEvent.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE]).count()


PERSON = {
    "team": "",
    "given_name": "Jo",
    "family_name": "Rivera",
    "preferred_language": "es",
    "spiritual_preference": "secular",
    "on_moud": "on",
    "attendance_preference": "in_person",
    "group_gender_preference": "women",
    "time_zone": "Europe/London",
}


def test_adding_a_person(world, bob):
    make_location(city="Lewes", postal_code="BN7 2AA", latitude=50.87, longitude=0.01)
    response = bob.post(
        "/staff/people/new/", {**PERSON, "team": world.detox.pk, "place": "Lewes", "navigator": world.bob.pk}
    )
    jo = Person.objects.get(given_name="Jo")
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{jo.pk}/"
    assert (
        jo.team == world.detox and jo.on_moud and jo.preferred_language == "es" and jo.navigator == world.bob
    )
    assert jo.latitude == pytest.approx(50.87)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, person_id=jo.pk).count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"given_name": ""}, "This field is required."),
        ({"place": "Atlantis"}, "We could not find that place."),
        ({"date_of_birth": "2999-01-01"}, "The date of birth cannot be in the future."),
        ({"date_of_birth": "31/31/1990"}, "Enter a valid date."),
        ({"email": "not an address"}, "Enter a valid email address."),
        ({"navigator": "dave"}, "Select a valid choice."),  # Dave works in another team
        ({"team": "community"}, "Select a valid choice."),  # Bob is not on the Community team
    ],
)
def test_adding_a_person_with_mistakes(world, bob, change, message):
    data = {**PERSON, "team": world.detox.pk, **change}
    for key in ("navigator", "team"):
        if data.get(key) in ("dave", "community"):
            data[key] = world.dave.pk if key == "navigator" else world.community.pk
    response = bob.post("/staff/people/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    assert 'value="Rivera"' in body  # nothing typed is lost
    assert not Person.objects.filter(family_name="Rivera").exists()


def test_the_navigator_works_in_the_persons_team(world, client):
    client.force_login(world.sam)  # Sam manages both of Harbour's teams
    data = {**PERSON, "team": world.detox.pk, "family_name": "Rivera", "navigator": world.dave.pk}
    response = client.post("/staff/people/new/", data)
    assert response.status_code == 400
    assert "The navigator must work in the person&#x27;s team." in response.content.decode()
    assert not Person.objects.filter(family_name="Rivera").exists()


def test_consent_given_and_revoked(world, bob):
    url = f"/staff/people/{world.pat.pk}/consent/"
    expires = (timezone.localdate() + timedelta(days=90)).isoformat()
    response = bob.post(
        url,
        {
            "purpose": "referral",
            "recipient": world.bridge.pk,
            "scope": "Referral details",
            "expires_on": expires,
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get(person=world.pat)
    assert consent.recipient == world.bridge and consent.expires_at is not None
    response = bob.post(f"/staff/people/{world.pat.pk}/consent/{consent.pk}/revoke/")
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"purpose": "referral"}, "Choose the organisation the person agrees may receive the referral."),
        ({"purpose": "evaluation", "expires_on": "2020-01-01"}, "The end date must be after today."),
        ({"purpose": "gossip"}, "Select a valid choice."),
    ],
)
def test_consent_with_mistakes(world, bob, data, message):
    before = changes_to_pat()
    response = bob.post(f"/staff/people/{world.pat.pk}/consent/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert changes_to_pat() == before and not Consent.objects.exists()


def test_revoking_someone_elses_consent_is_not_found(world, bob):
    theirs = actions.give_consent(world.dave, world.quinn, purpose=ConsentPurpose.EVALUATION)
    assert bob.post(f"/staff/people/{world.pat.pk}/consent/{theirs.pk}/revoke/").status_code == 404
    assert bob.get(f"/staff/people/{world.pat.pk}/consent/{theirs.pk}/revoke/").status_code == 405
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_episodes_start_and_end(world, bob):
    url = f"/staff/people/{world.pat.pk}/episodes/new/"
    assert (
        bob.post(url, {"kind": "detox", "started_on": "2026-10-01", "navigator": world.bob.pk}).status_code
        == 302
    )
    episode = Episode.objects.get(person=world.pat)
    end = f"/staff/people/{world.pat.pk}/episodes/{episode.pk}/end/"
    bad = bob.post(end, {"ended_on": "2026-09-01", "end_reason": "completed"})
    assert bad.status_code == 400 and "An episode cannot end before it started." in bad.content.decode()
    assert bob.post(end, {"ended_on": "2026-10-09", "end_reason": "completed"}).status_code == 302
    episode.refresh_from_db()
    assert str(episode.ended_on) == "2026-10-09" and episode.end_reason == "completed"
    assert bob.get(end).status_code == 404  # already ended


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "detox", "started_on": ""}, "This field is required."),
        ({"kind": "spa", "started_on": "2026-10-01"}, "Select a valid choice."),
        ({"kind": "detox", "started_on": "2026-10-01", "navigator": "nina"}, "Select a valid choice."),
    ],
)
def test_episode_with_mistakes(world, bob, data, message):
    if data.get("navigator") == "nina":
        data["navigator"] = world.nina.pk
    response = bob.post(f"/staff/people/{world.pat.pk}/episodes/new/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Episode.objects.exists()


def test_logging_a_contact(world, bob):
    at = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    data = {"kind": "phone", "at": at, "duration_minutes": "15", "note": "Checked in", "confidential": "on"}
    assert bob.post(f"/staff/people/{world.pat.pk}/contacts/new/", data).status_code == 302
    contact = Contact.objects.get()
    assert contact.confidential and contact.worker == world.bob and contact.duration_minutes == 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at": "2999-01-01T10:00"}, "A contact cannot be logged in the future."),
        ({"at": "yesterday"}, "Enter a valid date/time."),
        ({"duration_minutes": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"duration_minutes": "lots"}, "Enter a whole number."),
    ],
)
def test_contact_with_mistakes(world, bob, change, message):
    data = {
        "kind": "phone",
        "at": "2026-10-01T10:00",
        "duration_minutes": "10",
        "note": "Keep this note",
        **change,
    }
    response = bob.post(f"/staff/people/{world.pat.pk}/contacts/new/", data)
    body = response.content.decode()
    assert response.status_code == 400 and message in body and "Keep this note" in body
    assert not Contact.objects.exists()


@pytest.fixture
def referral(world):
    return actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="smart"),
    )


def test_status_milestone_and_assisted_step(world, bob, referral):
    url = f"/staff/referrals/{referral.pk}/"
    assert (
        bob.post(url, {"form": "status", "status-status": "in-progress", "status-reason": ""}).status_code
        == 302
    )
    assert (
        bob.post(
            url, {"form": "milestone", "milestone-business_status": "attended-first-meeting"}
        ).status_code
        == 302
    )
    today = timezone.localdate().isoformat()
    assert bob.post(url, {"form": "step", "step-kind": "accompanied", "step-on": today}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == TaskStatus.IN_PROGRESS and referral.business_status == "attended-first-meeting"
    assert referral.assisted_steps.get().kind == "accompanied"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"form": "status", "status-status": "draft"}, "Select a valid choice."),  # not from requested
        (
            {"form": "status", "status-status": "entered-in-error", "status-reason": "x" * 300},
            "Ensure this value has at most 255 characters",
        ),
        ({"form": "milestone", "milestone-business_status": "sponsor"}, "Select a valid choice."),
        (
            {"form": "step", "step-kind": "introduced", "step-on": "2999-01-01"},
            "Record a step once it has happened.",
        ),
    ],
)
def test_referral_updates_with_mistakes(world, bob, referral, data, message):
    response = bob.post(f"/staff/referrals/{referral.pk}/", data)
    assert response.status_code == 400 and message in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == TaskStatus.REQUESTED and referral.business_status == ""
    assert not referral.assisted_steps.exists()


def test_a_stale_status_form_gets_a_message_not_an_error(world, bob, referral):
    actions.set_referral_status(world.bob, referral, TaskStatus.CANCELLED)
    response = bob.post(
        f"/staff/referrals/{referral.pk}/", {"form": "status", "status-status": "in-progress"}
    )
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()


def test_an_unknown_form_is_not_found(world, bob, referral):
    assert bob.post(f"/staff/referrals/{referral.pk}/", {"form": "delete"}).status_code == 404


def test_completing_a_follow_up(world, bob, referral):
    follow_up = referral.follow_ups.order_by("due_on").first()
    page = bob.get(f"/staff/follow-ups/{follow_up.pk}/?next=/staff/queue/")
    assert page.status_code == 200 and "How did it go?" in page.content.decode()
    response = bob.post(
        f"/staff/follow-ups/{follow_up.pk}/?next=/staff/queue/",
        {"result": "attended", "outcome": "Went twice"},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/queue/"
    follow_up.refresh_from_db()
    assert follow_up.completed_at is not None and follow_up.outcome == "Went twice"
    assert follow_up.result == "attended" and follow_up.reported_by == "worker"


def test_completing_a_follow_up_badly(world, client, bob, referral):
    follow_up = referral.follow_ups.order_by("due_on").first()
    url = f"/staff/follow-ups/{follow_up.pk}/"
    too_long = bob.post(url, {"result": "attended", "outcome": "x" * 3000})
    assert too_long.status_code == 400 and "at most 2000 characters" in too_long.content.decode()
    no_barrier = bob.post(url, {"result": "barrier", "outcome": "Missed the bus"})
    assert no_barrier.status_code == 400 and "Tick what got in the way." in no_barrier.content.decode()
    assert "Missed the bus</textarea>" in no_barrier.content.decode()  # nothing typed is lost
    assert bob.post(url, {"result": "maybe"}).status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.completed_at is None
    evil = bob.post(url + "?next=https://evil.example/", {"result": "not-yet"})
    assert evil["Location"] == f"/staff/referrals/{referral.pk}/"
    client.force_login(world.dave)  # another team: not found
    other = FollowUp.objects.exclude(pk=follow_up.pk).first()
    assert client.post(f"/staff/follow-ups/{other.pk}/", {"result": "attended"}).status_code == 404
    assert client.get(f"/staff/follow-ups/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.completed_at is None
