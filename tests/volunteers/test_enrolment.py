"""Adding a volunteer from the coordinator's page: one action creates their account (no
password, the volunteer role in the coordinator's team), their offer (pending) and an e-mail
with a link to choose a password; bad input creates nothing; only a coordinator of the
organisation may, and every refusal is audited."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from recoverybridge.accounts import access
from recoverybridge.accounts.models import Membership, Role
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.directory.models import Fellowship
from recoverybridge.messaging.models import Message, MessageKind
from recoverybridge.volunteers import actions
from recoverybridge.volunteers.errors import EmailInUse
from recoverybridge.volunteers.models import Volunteer, VolunteerStatus

NEW = {
    "organisation": "",
    "first_name": "Noor",
    "email": "Noor@Members.example.org",
    "phone": "07400 123456",
    "fellowships": [],
    "languages": ["en", "es"],
    "gender": "woman",
    "moud_welcoming": "on",
    "place": "",
    "reach_km": "10",
    "online": "on",
    "availability": ["evening", "weekend"],
    "capacity": "2",
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def posted(volunteers, **changes):
    data = {**NEW, "organisation": str(volunteers.world.bridge.pk)}
    data["fellowships"] = [str(Fellowship.objects.get(slug="na").pk)]
    data.update(changes)
    return data


def test_the_action_creates_account_role_offer_and_a_set_password_email(
    volunteers, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://rb.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        volunteer = actions.enrol_volunteer(
            volunteers.vera,
            organisation=volunteers.world.bridge,
            fellowships=[Fellowship.objects.get(slug="na")],
            first_name="Noor",
            email="Noor@Members.example.org",
            languages=["es"],
            online=True,
            capacity=1,
        )
    user = volunteer.user
    assert user.username == user.email == "noor@members.example.org"
    assert not user.has_usable_password()
    assert volunteer.status == VolunteerStatus.PENDING and volunteer.approaches == ["twelve-step"]
    membership = Membership.objects.get(user=user)
    assert (membership.team, membership.role) == (volunteers.world.navigators, Role.VOLUNTEER)
    assert access.may(user, "volunteering.own")
    events = AuditEvent.objects.filter(actor=volunteers.vera, action=AuditAction.CREATE)
    assert events.filter(object_type="volunteers.volunteer", object_id=str(volunteer.pk)).exists()
    assert events.filter(object_type="accounts.membership", object_id=str(membership.pk)).exists()
    # With Django's one-time link to choose a password, and the username to sign in with.
    [email] = mail.outbox
    assert email.to == ["noor@members.example.org"]
    assert "(noor@members.example.org)" in email.body
    link = re.search(r"https://rb\.example\.org/accounts/reset/\S+/\S+/", email.body)
    assert link is not None, email.body
    assert Message.objects.get(to="noor@members.example.org").kind == MessageKind.VOLUNTEER_NOTICE


def test_an_address_that_has_an_account_creates_nothing(volunteers, django_capture_on_commit_callbacks):
    before = (User.objects.count(), Volunteer.objects.count(), Membership.objects.count())
    for taken in ("SOL@members.example.org", "bob@example.org"):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(EmailInUse):
            actions.enrol_volunteer(
                volunteers.vera,
                organisation=volunteers.world.bridge,
                fellowships=[Fellowship.objects.get(slug="aa")],
                first_name="Again",
                email=taken,
                languages=["en"],
                online=True,
            )
    assert (User.objects.count(), Volunteer.objects.count(), Membership.objects.count()) == before
    assert mail.outbox == []


def test_only_a_coordinator_of_the_organisation_adds_a_volunteer(volunteers):
    world = volunteers.world
    before = User.objects.count()
    for outsider in (volunteers.val, world.bob, volunteers.sol.user):
        with pytest.raises(PermissionDenied):
            actions.enrol_volunteer(
                outsider,
                organisation=world.bridge,
                first_name="Nell",
                email="nell@members.example.org",
                languages=["en"],
                online=True,
            )
    assert User.objects.count() == before
    denied = AuditEvent.objects.filter(
        action=AuditAction.DENIED, object_type="organisations.organisation", object_id=str(world.bridge.pk)
    )
    assert set(denied.values_list("actor__username", flat=True)) == {"val", "bob", "sol"}


def test_the_coordinator_adds_a_volunteer_from_their_page(volunteers, django_capture_on_commit_callbacks):
    client = client_for(volunteers.vera)
    page = client.get(reverse("volunteers:coordinate"))
    assert reverse("volunteers:add").encode() in page.content
    assert client.get(reverse("volunteers:add")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("volunteers:add"), posted(volunteers))
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("volunteers:coordinate")
    noor = Volunteer.objects.get(email="noor@members.example.org")
    assert noor.phone == "+447400123456" and noor.online and noor.moud_welcoming
    assert noor.languages == ["en", "es"] and noor.availability == ["evening", "weekend"]
    assert noor.capacity == 2 and noor.status == VolunteerStatus.PENDING
    assert len(mail.outbox) == 1
    listed = client.get(reverse("volunteers:coordinate"))
    assert b"Noor" in listed.content


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "sol@members.example.org"}, "email", "already has an account"),
        ({"email": "not an address"}, "email", "valid email"),
        ({"fellowships": [], "approaches": []}, "fellowships", "at least one fellowship"),
        ({"online": "", "place": ""}, "place", "meet online"),
        ({"place": "Nowhere-on-sea-xyz"}, "place", "could not find that place"),
        ({"phone": "12"}, "phone", "can be dialled"),
        ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
        ({"languages": []}, "languages", "required"),
    ],
)
def test_bad_input_is_explained_on_the_form_and_nothing_is_created(
    volunteers, django_capture_on_commit_callbacks, changes, field, words
):
    before = (User.objects.count(), Volunteer.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(volunteers.vera).post(reverse("volunteers:add"), posted(volunteers, **changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert words in " ".join(form.errors[field]), form.errors
    assert (User.objects.count(), Volunteer.objects.count()) == before
    assert mail.outbox == []


def test_another_organisation_cannot_be_chosen(volunteers):
    response = client_for(volunteers.vera).post(
        reverse("volunteers:add"), posted(volunteers, organisation=str(volunteers.world.harbour.pk))
    )
    assert response.status_code == 400 and "organisation" in response.context["form"].errors
    assert not Volunteer.objects.filter(email="noor@members.example.org").exists()


@pytest.mark.parametrize("who", ["bob", "sol", "ada"])
def test_a_worker_or_volunteer_is_refused_and_the_refusal_audited(volunteers, who):
    user = volunteers.sol.user if who == "sol" else volunteers.world.user(who)
    client = client_for(user)
    for response in (
        client.get(reverse("volunteers:add")),
        client.post(reverse("volunteers:add"), posted(volunteers)),
    ):
        assert response.status_code == 403
    assert not Volunteer.objects.filter(email="noor@members.example.org").exists()
    denied = AuditEvent.objects.filter(
        actor=user, action=AuditAction.DENIED, object_type="volunteers.volunteer"
    )
    assert denied.count() == 2


def test_the_coordinator_sends_a_new_link_until_a_password_is_chosen(
    volunteers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        noor = actions.enrol_volunteer(
            volunteers.vera,
            organisation=volunteers.world.bridge,
            fellowships=[Fellowship.objects.get(slug="aa")],
            first_name="Noor",
            email="noor@members.example.org",
            languages=["en"],
            online=True,
        )
    client = client_for(volunteers.vera)
    page = client.get(reverse("volunteers:coordinate"))
    assert reverse("volunteers:resend_link", args=[noor.pk]).encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("volunteers:resend_link", args=[noor.pk]))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["noor@members.example.org"]] * 2
    assert "/accounts/reset/" in mail.outbox[1].body
    assert AuditEvent.objects.filter(
        object_type="volunteers.volunteer", object_id=str(noor.pk), detail="password link sent again"
    ).exists()
    # Not for someone else's volunteer, and not once they have a password.
    assert (
        client_for(volunteers.val).post(reverse("volunteers:resend_link", args=[noor.pk])).status_code == 404
    )
    noor.user.set_password("a long passphrase here")
    noor.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("volunteers:resend_link", args=[noor.pk]))
    assert len(mail.outbox) == 2
    assert (
        reverse("volunteers:resend_link", args=[noor.pk]).encode()
        not in client.get(reverse("volunteers:coordinate")).content
    )
