"""Volunteer members: offered, vetted and activated by their organisation's coordinator, paused
or left by themselves; a narrow role that opens only their own introductions."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from recoverybridge.accounts import access
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.volunteers import actions
from recoverybridge.volunteers.models import Volunteer, VolunteerStatus
from recoverybridge.workspace import landing
from tests.volunteers.conftest import make_volunteer


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_new_volunteer_waits_to_be_vetted_then_the_coordinator_activates_them(volunteers):
    new = make_volunteer(volunteers.vera, volunteers.world.navigators, "noor", active=False)
    assert new.status == VolunteerStatus.PENDING and new.vetted_at is None
    assert new.approaches == ["twelve-step"]
    actions.set_volunteer_status(volunteers.vera, new, VolunteerStatus.ACTIVE)
    new.refresh_from_db()
    assert new.status == VolunteerStatus.ACTIVE and new.vetted_by == volunteers.vera
    assert AuditEvent.objects.filter(object_type="volunteers.volunteer", object_id=str(new.pk)).count() == 2


def test_only_a_coordinator_of_their_organisation_registers_or_vets(volunteers):
    world = volunteers.world
    with pytest.raises(PermissionDenied):
        make_volunteer(volunteers.val, world.navigators, "nell")
    new = make_volunteer(volunteers.vera, world.navigators, "noor", active=False)
    for outsider in (volunteers.val, world.bob, world.ada, volunteers.sol.user):
        with pytest.raises(PermissionDenied):
            actions.set_volunteer_status(outsider, new, VolunteerStatus.ACTIVE)
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, object_type="volunteers.volunteer")
    assert denied.filter(object_id=str(new.pk)).count() == 4
    new.refresh_from_db()
    assert new.status == VolunteerStatus.PENDING


def test_a_volunteer_pauses_resumes_and_leaves_but_cannot_vet_themselves(volunteers):
    sol = volunteers.sol
    actions.set_volunteer_status(sol.user, sol, VolunteerStatus.PAUSED)
    actions.set_volunteer_status(sol.user, sol, VolunteerStatus.ACTIVE)
    actions.set_volunteer_status(sol.user, sol, VolunteerStatus.LEFT)
    sol.refresh_from_db()
    assert sol.status == VolunteerStatus.LEFT
    with pytest.raises(PermissionDenied):
        actions.set_volunteer_status(sol.user, sol, VolunteerStatus.ACTIVE)
    pending = make_volunteer(volunteers.vera, volunteers.world.navigators, "noor", active=False)
    with pytest.raises(PermissionDenied):
        actions.set_volunteer_status(pending.user, pending, VolunteerStatus.ACTIVE)
    # Nobody else's profile, either.
    with pytest.raises(PermissionDenied):
        actions.set_volunteer_status(sol.user, volunteers.mo, VolunteerStatus.PAUSED)


def test_the_volunteer_role_is_narrow(volunteers):
    user = volunteers.sol.user
    assert access.may(user, "volunteering.own")
    for capability in (
        "caseload.view",
        "people.add",
        "teams.manage",
        "evaluation.view",
        "volunteers.coordinate",
    ):
        assert not access.may(user, capability), capability
    assert landing.start_of(user) == reverse("volunteers:mine")
    assert landing.start_of(volunteers.vera) == reverse("volunteers:coordinate")
    client = client_for(user)
    assert client.get(reverse("volunteers:mine")).status_code == 200
    for name, args in (("workspace:dashboard", []), ("care:person", [volunteers.world.pat.pk])):
        assert client.get(reverse(name, args=args)).status_code in (403, 404), name
    assert client.get(reverse("volunteers:coordinate")).status_code == 403
    assert client.get(reverse("volunteers:arrange", args=[volunteers.referral.pk])).status_code == 403


def test_the_coordinator_sees_their_volunteers_with_their_load_and_no_one_elses(volunteers):
    page = client_for(volunteers.vera).get(reverse("volunteers:coordinate"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sol" in body and "Mo" in body and "0 / 2" in body
    other = client_for(volunteers.val).get(reverse("volunteers:coordinate")).content.decode()
    assert "Sol" not in other and "No volunteers yet" in other
    # Val may not change Vera's volunteers, even by posting the address.
    response = client_for(volunteers.val).post(
        reverse("volunteers:coordinate_status", args=[volunteers.sol.pk]), {"status": "paused"}
    )
    assert response.status_code == 404
    response = client_for(volunteers.vera).post(
        reverse("volunteers:coordinate_status", args=[volunteers.sol.pk]), {"status": "paused"}
    )
    assert response.status_code == 302
    assert Volunteer.objects.get(pk=volunteers.sol.pk).status == VolunteerStatus.PAUSED


def test_a_volunteer_pauses_from_their_page(volunteers):
    client = client_for(volunteers.mo.user)
    assert client.post(reverse("volunteers:mine_status"), {"status": "paused"}).status_code == 302
    assert Volunteer.objects.get(pk=volunteers.mo.pk).status == VolunteerStatus.PAUSED
    assert client.post(reverse("volunteers:mine_status"), {"status": "nonsense"}).status_code == 404
