"""Editing a person's details and preferences, and adding a related person (a family member or
concerned other): in scope the change goes through care.actions with exactly one audit event;
out of scope (another team, another organisation) the page is a 404 and nothing changes; bad
input comes back as a 400 with the error, what was typed still there, and nothing changed."""

import pytest

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import Person, RelatedPerson
from tests.factories import make_location


def changes() -> int:
    return AuditEvent.objects.filter(action__in=[AuditAction.CREATE, AuditAction.UPDATE]).count()


def details(world, person: Person, **change: object) -> dict[str, object]:
    """The edit form as the page fills it in for `person`, with `change` typed over it."""
    data: dict[str, object] = {
        "team": person.team_id,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "email": person.email,
        "phone": person.phone,
        "place": person.postcode,
        "preferred_language": person.preferred_language,
        "spiritual_preference": person.spiritual_preference,
        "attendance_preference": person.attendance_preference,
        "group_gender_preference": person.group_gender_preference,
        "navigator": person.navigator_id or "",
        "time_zone": person.zone_name,
    }
    if person.on_moud:
        data["on_moud"] = "on"
    data.update(change)
    return {key: value for key, value in data.items() if value is not None}


RELATED = {"name": "Morgan Example", "relationship": "sister", "contact": "+44 7700 900123"}


# ---------------------------------------------------------------- who may open the pages


@pytest.mark.parametrize(
    ("username", "person_name", "status"),
    [
        ("bob", "pat", 200),  # own team
        ("alice", "pat", 200),  # own team's manager
        ("bob", "quinn", 404),  # another team of the same organisation
        ("bob", "rowan", 404),  # another organisation
        ("nina", "pat", 404),
        ("cora", "pat", 404),  # commissioner: aggregates only
    ],
)
@pytest.mark.parametrize("page", ["edit/", "related/new/"])
def test_the_pages_for_the_persons_own_team_only(world, client, username, person_name, status, page):
    person = world.person(person_name)
    client.force_login(world.user(username))
    response = client.get(f"/staff/people/{person.pk}/{page}")
    assert response.status_code == status
    if status == 404:
        assert person.reference.encode() not in response.content


def test_the_edit_page_shows_what_is_on_record_and_records_the_view(world, client):
    client.force_login(world.bob)
    response = client.get(f"/staff/people/{world.pat.pk}/edit/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Pat"' in body and 'value="pat@example.net"' in body and 'value="BN7 1AA"' in body
    assert (
        AuditEvent.objects.filter(action=AuditAction.VIEW, actor=world.bob, person_id=world.pat.pk).count()
        == 1
    )


def test_the_timeline_links_to_both_pages(world, client):
    client.force_login(world.bob)
    body = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert f'href="/staff/people/{world.pat.pk}/edit/"' in body
    assert f'href="/staff/people/{world.pat.pk}/related/new/"' in body


# ---------------------------------------------------------------- editing


def test_editing_details_and_preferences(world, client):
    make_location(city="Lewes", postal_code="BN7 2AA", latitude=50.87, longitude=0.01)
    client.force_login(world.bob)
    before = changes()
    data = details(
        world,
        world.pat,
        family_name="Rivera",
        place="Lewes",
        preferred_language="es",
        spiritual_preference="secular",
        on_moud="on",
        navigator=world.bob.pk,
    )
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{world.pat.pk}/"
    pat = Person.objects.get(pk=world.pat.pk)
    assert pat.family_name == "Rivera" and pat.preferred_language == "es" and pat.on_moud
    assert pat.spiritual_preference == "secular" and pat.navigator == world.bob and pat.team == world.detox
    assert pat.postcode == "Lewes" and pat.latitude == pytest.approx(50.87)
    assert changes() == before + 1
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, person_id=pat.pk)
    assert event.actor == world.bob
    assert {"family_name", "preferred_language", "on_moud", "navigator"} <= set(event.changes)
    assert "given_name" not in event.changes


def test_an_unchanged_place_keeps_its_coordinates(world, client):
    """Pat's postcode is not in the gazetteer; saving other fields must not make the worker fix it."""
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/edit/", details(world, world.pat, phone="01273 000000")
    )
    assert response.status_code == 302
    pat = Person.objects.get(pk=world.pat.pk)
    assert (
        pat.phone == "+441273000000" and pat.postcode == "BN7 1AA" and pat.latitude == pytest.approx(50.873)
    )


def test_saving_without_a_change_writes_no_change_event(world, client):
    client.force_login(world.bob)
    before = changes()
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", details(world, world.pat))
    assert response.status_code == 302
    assert changes() == before


def test_a_manager_of_both_teams_may_move_a_person(world, client):
    client.force_login(world.sam)
    response = client.post(
        f"/staff/people/{world.quinn.pk}/edit/", details(world, world.quinn, team=world.detox.pk)
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=world.quinn.pk).team == world.detox


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
        ({"preferred_language": "xx"}, "Select a valid choice."),
    ],
)
def test_editing_with_mistakes(world, client, change, message):
    client.force_login(world.bob)
    before = changes()
    data = details(world, world.pat, family_name="Rivera", **change)
    if data.get("navigator") == "dave":
        data["navigator"] = world.dave.pk
    if data.get("team") == "community":
        data["team"] = world.community.pk
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    assert 'value="Rivera"' in body  # nothing typed is lost
    assert Person.objects.get(pk=world.pat.pk).family_name == "Example"
    assert changes() == before


def test_an_empty_post_is_a_400_not_a_silent_success(world, client):
    client.force_login(world.bob)
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", {})
    assert response.status_code == 400
    assert Person.objects.get(pk=world.pat.pk).given_name == "Pat"


@pytest.mark.parametrize(("username", "person_name"), [("bob", "quinn"), ("bob", "rowan"), ("dave", "pat")])
def test_editing_out_of_scope_is_a_404_and_changes_nothing(world, client, username, person_name):
    person = world.person(person_name)
    client.force_login(world.user(username))
    before = changes()
    response = client.post(f"/staff/people/{person.pk}/edit/", details(world, person, family_name="Hacked"))
    assert response.status_code == 404
    assert Person.objects.get(pk=person.pk).family_name == "Example"
    assert changes() == before


# ---------------------------------------------------------------- related people


def test_adding_a_related_person(world, client):
    client.force_login(world.bob)
    before = changes()
    response = client.post(f"/staff/people/{world.pat.pk}/related/new/", RELATED)
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{world.pat.pk}/"
    related = RelatedPerson.objects.get(person=world.pat)
    assert (related.name, related.relationship, related.contact) == (
        "Morgan Example",
        "sister",
        "+44 7700 900123",
    )
    assert related.as_person is None
    assert changes() == before + 1
    event = AuditEvent.objects.get(action=AuditAction.CREATE, person_id=world.pat.pk)
    assert event.actor == world.bob
    timeline = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "Morgan Example" in timeline and "sister" in timeline


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"relationship": ""}, "This field is required."),
        ({"relationship": "x" * 61}, "Ensure this value has at most 60 characters"),
        ({"contact": "x" * 201}, "Ensure this value has at most 200 characters"),
    ],
)
def test_adding_a_related_person_with_mistakes(world, client, change, message):
    client.force_login(world.bob)
    before = changes()
    response = client.post(f"/staff/people/{world.pat.pk}/related/new/", {**RELATED, **change})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    if "name" not in change:
        assert 'value="Morgan Example"' in body  # nothing typed is lost
    assert not RelatedPerson.objects.exists()
    assert changes() == before


@pytest.mark.parametrize(("username", "person_name"), [("bob", "quinn"), ("bob", "rowan"), ("nina", "pat")])
def test_adding_a_related_person_out_of_scope_is_a_404(world, client, username, person_name):
    person = world.person(person_name)
    client.force_login(world.user(username))
    response = client.post(f"/staff/people/{person.pk}/related/new/", RELATED)
    assert response.status_code == 404
    assert not RelatedPerson.objects.exists()


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07400 123456", "+447400123456"),
        ("+44 (0)7400 123456", "+447400123456"),
        ("0044 7400 123 456", "+447400123456"),
        ("+1 (201) 555-0123", "+12015550123"),
        ("", ""),
    ],
)
def test_a_phone_number_is_kept_in_one_form(world, client, typed, stored):
    client.force_login(world.bob)
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", details(world, world.pat, phone=typed))
    assert response.status_code == 302
    assert Person.objects.get(pk=world.pat.pk).phone == stored


@pytest.mark.parametrize("typed", ["12345", "07400 12345", "call me", "+44 7700 900000"])
def test_a_number_that_cannot_be_dialled_is_refused_with_an_example(world, client, typed):
    client.force_login(world.bob)
    before = changes()
    response = client.post(f"/staff/people/{world.pat.pk}/edit/", details(world, world.pat, phone=typed))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This is not a phone number that can be dialled." in html
    assert "like 07400 123456, or with its country code, like +44 7400 123456" in html
    assert f'value="{typed}"' in html  # what was typed is still there to correct
    assert changes() == before and Person.objects.get(pk=world.pat.pk).phone == "+447911123456"


def test_an_old_number_on_record_does_not_block_other_changes(world, client):
    Person.objects.filter(pk=world.pat.pk).update(phone="ask at reception")
    world.pat.refresh_from_db()
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/edit/", details(world, world.pat, family_name="Exemplar")
    )
    assert response.status_code == 302
    pat = Person.objects.get(pk=world.pat.pk)
    assert (pat.family_name, pat.phone) == ("Exemplar", "ask at reception")


def test_the_person_page_reads_the_number_and_says_how_messages_can_reach_them(world, client):
    from recoverybridge.care import actions
    from recoverybridge.messaging import optout

    actions.give_consent(world.bob, world.pat, purpose="messages_by_email")
    optout.set_opted_out("+447911123456", True, "STOP")
    client.force_login(world.bob)
    html = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "+44 7911 123456" in html
    assert "Text messages: no (they replied STOP to our texts," in html
    assert "E-mail: yes" in html
