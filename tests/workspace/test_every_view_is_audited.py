"""Every page that shows a person's identity writes an audit event naming them, and every
refused look-up of a staff record writes a DENIED one (42 CFR Part 2: the name alone discloses
that someone is a patient). Walks every URL pattern with GET as every role, as
test_every_page does."""

import pytest
from django.test import Client

from recoverybridge.audit.models import AuditAction, AuditEvent
from tests.workspace.test_every_page import ROLES, records, urls, user_for  # noqa: F401 (fixture)

STAFF = ("workspace:", "care:", "outcomes:", "rights:", "evaluation:")
# Lists of people (the dashboards, the work queue) audit every person they name, as pages about one
# record do. The admin is not yet audited person by person: a known gap (docs/privacy.md).
LISTS = ("admin:",)


@pytest.mark.parametrize("username", ROLES)
def test_every_page_showing_a_person_is_audited_and_every_refusal_too(world, records, username):  # noqa: F811
    user = user_for(world, username)
    client = Client()
    client.force_login(user)
    pat = world.pat
    unaudited, untraced = [], []
    for name, url in urls(records):
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = client.get(url)
        new = AuditEvent.objects.filter(id__gt=before)
        body = "" if response.streaming else response.content.decode(errors="replace")
        shown = response.status_code == 200 and "html" in response.get("Content-Type", "")
        names_pat = pat.reference in body or "Pat Example" in body
        if shown and names_pat and not name.startswith(LISTS):
            audited = new.filter(person_id=pat.pk, actor=user).exists()
            unaudited += [] if audited else [url]
        if response.status_code == 404 and name.startswith(STAFF):
            traced = new.filter(action=AuditAction.DENIED, actor=user).exists()
            untraced += [] if traced else [url]
    assert unaudited == [], f"{username} saw Pat on these pages and no audit event says so: {unaudited}"
    assert untraced == [], f"{username} was refused these and the trail has no trace"


def test_a_refused_look_up_names_the_person_for_their_managers(client, world):
    client.force_login(world.nina)  # another organisation
    assert client.get(f"/staff/people/{world.pat.pk}/").status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert (event.actor, event.person_id, event.object_type) == (world.nina, world.pat.pk, "care:person")
    assert event.object_id == f"person_id={world.pat.pk}"
    assert "Pat" not in event.detail


def test_a_list_page_audits_each_person_it_names_once(client, world):
    client.force_login(world.bob)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get("/staff/?show=team")
    assert response.status_code == 200
    assert world.pat.reference in response.content.decode()
    views = AuditEvent.objects.filter(id__gt=before, action=AuditAction.VIEW, actor=world.bob)
    named = list(views.values_list("person_id", flat=True))
    assert world.pat.pk in named
    assert len(named) == len(set(named)), "one event per person, however often the page names them"
    assert set(views.values_list("detail", flat=True)) == {"dashboard"}
