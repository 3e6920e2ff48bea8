"""Correcting, linking and removing a related person (a family member or concerned other).

Bob added Pat's sister Morgan with a mistyped phone number. He corrects it on the edit page
(the add form, filled in with what is on record); the change goes through care.actions with
one audit event holding the old and new values (name and contact masked, as the trail always
does). Morgan turns out to be a client of the Detox team's family group too, so Bob links her
to her own record by typing its reference; a reference of someone outside his teams gets the
same clear "no one with that reference" answer as one that does not exist. Later Morgan asks
not to be on Pat's record: Bob removes her after a confirmation page (a GET changes nothing),
the row is deleted and a DELETE event keeps who removed which one, when, and the old values.
A worker of another team, or anyone signed out, never reaches any of it."""

import pytest
from django.core.exceptions import PermissionDenied

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import Person, RelatedPerson
from tests.care_world import make_person

MORGAN = {"name": "Morgan Example", "relationship": "sister", "contact": "+44 7700 900132", "as_person": ""}


@pytest.fixture
def morgan(world) -> RelatedPerson:
    return actions.add_related_person(
        world.bob, world.pat, name="Morgan Example", relationship="sister", contact="+44 7700 900132"
    )


def edit_url(related: RelatedPerson) -> str:
    return f"/staff/people/{related.person_id}/related/{related.pk}/edit/"


def remove_url(related: RelatedPerson) -> str:
    return f"/staff/people/{related.person_id}/related/{related.pk}/remove/"


def changes() -> int:
    return AuditEvent.objects.exclude(action__in=[AuditAction.VIEW, AuditAction.DENIED]).count()


# ---------------------------------------------------------------- the timeline


def test_the_timeline_links_to_editing_and_removing_each_related_person(world, client, morgan):
    client.force_login(world.bob)
    body = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert f'href="{edit_url(morgan)}"' in body
    assert f'href="{remove_url(morgan)}"' in body


# ---------------------------------------------------------------- editing


def test_the_edit_page_is_the_add_form_filled_in(world, client, morgan):
    client.force_login(world.bob)
    response = client.get(edit_url(morgan))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Morgan Example"' in body and 'value="sister"' in body and 'value="+44 7700 900132"' in body
    assert 'name="as_person"' in body and "csrfmiddlewaretoken" in body
    assert (
        AuditEvent.objects.filter(action=AuditAction.VIEW, actor=world.bob, person_id=world.pat.pk).count()
        == 1
    )


def test_correcting_a_mistyped_phone_number(world, client, morgan):
    client.force_login(world.bob)
    before = changes()
    response = client.post(
        edit_url(morgan), {**MORGAN, "contact": "+44 7700 900123", "relationship": "half-sister"}
    )
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{world.pat.pk}/"
    morgan.refresh_from_db()
    assert (morgan.contact, morgan.relationship) == ("+44 7700 900123", "half-sister")
    assert changes() == before + 1
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, person_id=world.pat.pk)
    assert event.actor == world.bob
    assert (event.object_type, event.object_id) == ("care.relatedperson", str(morgan.pk))
    # Old and new values; the contact is masked like every contact detail on the trail.
    assert event.changes == {
        "relationship": {"old": "sister", "new": "half-sister"},
        "contact": {"old": "[hidden]", "new": "[hidden]"},
    }
    assert "900123" not in str(event.changes)


def test_saving_without_a_change_writes_no_change_event(world, client, morgan):
    client.force_login(world.bob)
    before = changes()
    assert client.post(edit_url(morgan), MORGAN).status_code == 302
    assert changes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"relationship": ""}, "This field is required."),
        ({"contact": "x" * 201}, "Ensure this value has at most 200 characters"),
        (
            {"as_person": "RB-NOBODY01"},
            "No one with the reference RB-NOBODY01 is on your teams&#x27; caseloads.",
        ),
    ],
)
def test_editing_with_mistakes(world, client, morgan, change, message):
    client.force_login(world.bob)
    before = changes()
    response = client.post(edit_url(morgan), {**MORGAN, "relationship": "cousin", **change})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'role="alert"' in body
    assert 'id="id_' in body and 'aria-invalid="true"' in body  # the message is next to its field
    if "relationship" not in change:
        assert 'value="cousin"' in body  # nothing typed is lost
    morgan.refresh_from_db()
    assert morgan.relationship == "sister"
    assert changes() == before


# ---------------------------------------------------------------- linking to their own record


def test_linking_to_their_own_record_by_reference(world, client, morgan):
    own = make_person(world.detox, "RB-MORGAN01", "Morgan")
    client.force_login(world.bob)
    response = client.post(edit_url(morgan), {**MORGAN, "as_person": " rb-morgan01 "})
    assert response.status_code == 302
    morgan.refresh_from_db()
    assert morgan.as_person == own
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, person_id=world.pat.pk)
    assert event.changes == {"as_person": {"old": None, "new": own.pk}}
    # Pat's timeline links to Morgan's record; Morgan's says whose sister she is.
    assert f'href="/staff/people/{own.pk}/"' in client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "sister of" in client.get(f"/staff/people/{own.pk}/").content.decode()
    # The edit page shows the link as the reference it was typed as; emptying it unlinks.
    assert 'value="RB-MORGAN01"' in client.get(edit_url(morgan)).content.decode()
    assert client.post(edit_url(morgan), MORGAN).status_code == 302
    morgan.refresh_from_db()
    assert morgan.as_person is None


def test_a_link_can_be_made_when_adding(world, client):
    own = make_person(world.detox, "RB-MORGAN01", "Morgan")
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/related/new/", {**MORGAN, "as_person": "RB-MORGAN01"}
    )
    assert response.status_code == 302
    assert RelatedPerson.objects.get(person=world.pat).as_person == own


@pytest.mark.parametrize("outside", ["quinn", "rowan"])
def test_a_reference_outside_the_users_teams_is_refused_like_a_missing_one(world, client, morgan, outside):
    """Quinn is on another team of Harbour, Rowan at another organisation: Bob gets the same answer
    for their references as for one that does not exist, and no link is made."""
    client.force_login(world.bob)
    reference = world.person(outside).reference
    response = client.post(edit_url(morgan), {**MORGAN, "as_person": reference})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"No one with the reference {reference} is on your teams&#x27; caseloads." in body
    assert world.person(outside).given_name not in body
    # Word for word what a reference nobody has gets: it does not say whether the person exists.
    missing = client.post(edit_url(morgan), {**MORGAN, "as_person": "RB-NOBODY01"}).content.decode()
    assert field_error(body).replace(reference, "RB-X") == field_error(missing).replace("RB-NOBODY01", "RB-X")
    morgan.refresh_from_db()
    assert morgan.as_person is None


def field_error(body: str) -> str:
    start = body.index('<p class="field-error" id="id_as_person_error">')
    return body[start : body.index("</p>", start)]


def test_a_person_is_not_their_own_related_person(world, client, morgan):
    client.force_login(world.bob)
    response = client.post(edit_url(morgan), {**MORGAN, "as_person": world.pat.reference})
    assert response.status_code == 400
    assert "That is Pat&#x27;s own reference" in response.content.decode()
    with pytest.raises(ValueError):
        actions.update_related_person(world.bob, morgan, as_person=world.pat)


def test_the_action_refuses_a_link_outside_the_users_scope(world, morgan):
    """The action checks again, so a page that forgot to would still not link (or leak) anyone."""
    with pytest.raises(PermissionDenied):
        actions.update_related_person(world.bob, morgan, as_person=world.quinn)
    morgan.refresh_from_db()
    assert morgan.as_person is None
    denied = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert (denied.actor, denied.person_id) == (world.bob, world.quinn.pk)


def test_a_link_the_worker_may_not_see_is_kept_and_not_shown(world, client, morgan):
    """Sam (service manager of both Harbour teams) links Pat's sister to Quinn's record. Bob sees
    only Detox: the edit page does not show Quinn's reference, and saving a corrected phone number
    with the link field left empty keeps Sam's link."""
    actions.update_related_person(world.sam, morgan, as_person=world.quinn)
    client.force_login(world.bob)
    timeline = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert f'href="/staff/people/{world.quinn.pk}/"' not in timeline
    page = client.get(edit_url(morgan)).content.decode()
    assert world.quinn.reference not in page and "linked to a record outside your teams" in page
    assert client.post(edit_url(morgan), {**MORGAN, "contact": "+44 7700 900123"}).status_code == 302
    morgan.refresh_from_db()
    assert morgan.as_person == world.quinn and morgan.contact == "+44 7700 900123"
    assert "A record outside your teams" in client.get(remove_url(morgan)).content.decode()


# ---------------------------------------------------------------- removing


def test_asking_to_remove_shows_a_confirmation_and_changes_nothing(world, client, morgan):
    client.force_login(world.bob)
    before = changes()
    response = client.get(remove_url(morgan))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Morgan Example" in body and "sister" in body
    assert '<form method="post"' in body and "csrfmiddlewaretoken" in body
    assert "Remove related person" in body
    assert RelatedPerson.objects.filter(pk=morgan.pk).exists()
    assert changes() == before


def test_removing_a_related_person(world, client, morgan):
    linked = make_person(world.detox, "RB-MORGAN01", "Morgan")
    actions.update_related_person(world.bob, morgan, as_person=linked)
    client.force_login(world.alice)
    before = changes()
    response = client.post(remove_url(morgan))
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{world.pat.pk}/"
    assert not RelatedPerson.objects.filter(pk=morgan.pk).exists()
    assert changes() == before + 1
    event = AuditEvent.objects.get(action=AuditAction.DELETE)
    assert (event.actor, event.person_id) == (world.alice, world.pat.pk)
    assert (event.object_type, event.object_id) == ("care.relatedperson", str(morgan.pk))
    assert event.changes == {
        "name": {"old": "[hidden]", "new": "[hidden]"},
        "relationship": {"old": "sister", "new": None},
        "contact": {"old": "[hidden]", "new": "[hidden]"},
        "as_person": {"old": linked.pk, "new": None},
    }
    assert Person.objects.filter(pk=linked.pk).exists()  # only the relationship goes
    timeline = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert "Related person removed." in timeline and "Morgan Example" not in timeline
    # A second removal (a double submit, another tab) finds nothing: a 404, nothing recorded.
    assert client.post(remove_url(morgan)).status_code == 404
    assert changes() == before + 1


def test_the_remove_action_is_idempotent(world, morgan):
    actions.remove_related_person(world.bob, morgan)
    actions.remove_related_person(world.bob, morgan)
    assert AuditEvent.objects.filter(action=AuditAction.DELETE).count() == 1


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("username", ["dave", "nina", "cora", "eddie", "ada"])
@pytest.mark.parametrize("page", ["edit", "remove"])
def test_another_teams_worker_gets_a_404_and_changes_nothing(world, client, morgan, username, page):
    client.force_login(world.user(username))
    url = edit_url(morgan) if page == "edit" else remove_url(morgan)
    before = AuditEvent.objects.exclude(action=AuditAction.DENIED).count()
    assert client.get(url).status_code == 404
    response = client.post(url, {**MORGAN, "name": "Hacked"})
    assert response.status_code == 404
    assert b"Morgan" not in response.content and world.pat.reference.encode() not in response.content
    morgan.refresh_from_db()
    assert morgan.name == "Morgan Example"
    assert AuditEvent.objects.exclude(action=AuditAction.DENIED).count() == before


@pytest.mark.parametrize("page", ["edit", "remove"])
def test_a_related_person_of_someone_else_is_a_404(world, client, morgan, page):
    """Bob may see Pat and Lee (both Detox), but Morgan is Pat's sister, not Lee's: the URL must
    name the person she belongs to."""
    lee = make_person(world.detox, "RB-LEE00001", "Lee")
    client.force_login(world.bob)
    url = f"/staff/people/{lee.pk}/related/{morgan.pk}/{page}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {**MORGAN, "name": "Moved"}).status_code == 404
    morgan.refresh_from_db()
    assert (morgan.person_id, morgan.name) == (world.pat.pk, "Morgan Example")
    assert client.get(f"/staff/people/{world.pat.pk}/related/999999/{page}/").status_code == 404


@pytest.mark.parametrize("page", ["edit", "remove"])
def test_signed_out_is_sent_to_sign_in(world, client, morgan, page):
    url = edit_url(morgan) if page == "edit" else remove_url(morgan)
    for response in (client.get(url), client.post(url, MORGAN)):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert RelatedPerson.objects.filter(pk=morgan.pk, name="Morgan Example").exists()


def test_removing_needs_the_csrf_token(world, morgan):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    assert client.post(remove_url(morgan)).status_code == 403
    assert client.post(edit_url(morgan), {**MORGAN, "name": "Changed"}).status_code == 403
    morgan.refresh_from_db()
    assert morgan.name == "Morgan Example"


# ---------------------------------------------------------------- Spanish


def test_the_pages_in_spanish(world, client, morgan):
    client.force_login(world.bob)
    client.cookies["django_language"] = "es"
    edit = client.get(edit_url(morgan)).content.decode()
    assert "Editar un familiar o allegado" in edit and "Su propio expediente" in edit
    bad = client.post(edit_url(morgan), {**MORGAN, "as_person": "RB-NOBODY01"})
    assert bad.status_code == 400
    assert "Nadie con la referencia RB-NOBODY01" in bad.content.decode()
    remove = client.get(remove_url(morgan)).content.decode()
    assert "Quitar un familiar o allegado" in remove and "Quitar persona allegada" in remove
    timeline = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert (
        f'href="{edit_url(morgan)}">Editar' in timeline and f'href="{remove_url(morgan)}">Quitar' in timeline
    )
