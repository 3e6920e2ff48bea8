"""The rights pages: who may open what, every form's happy path and its errors (a clear 400 that
keeps what was typed, never a 500), and the work queue's panel."""

import datetime
import json

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import Person
from recoverybridge.rights import actions
from recoverybridge.rights.models import RequestKind, RequestOutcome, RightsRequest

TODAY = timezone.localdate()


def ask(world, kind=RequestKind.ACCESS, **fields) -> RightsRequest:
    return actions.record_request(world.bob, world.pat, kind=kind, received_on=TODAY, **fields)


@pytest.mark.parametrize(
    ("user", "pages", "copy"),
    [
        ("bob", 200, 403),  # his caseload; a manager answers
        ("alice", 200, 200),  # manages the team
        ("sam", 200, 200),  # the organisation's service manager
        ("dave", 404, 404),  # another team
        ("nina", 404, 404),  # another organisation
        ("cora", 404, 404),  # a commissioner: aggregates only
    ],
)
def test_who_may_open_the_pages(client, world, user, pages, copy):
    request = ask(world)
    client.force_login(world.user(user))
    assert client.get(f"/staff/people/{world.pat.pk}/rights/").status_code == pages
    assert client.get(f"/staff/requests/{request.pk}/").status_code == pages
    assert client.post(f"/staff/requests/{request.pk}/copy/pdf/").status_code == copy


def test_a_worker_records_a_request_and_sees_it_is_for_a_manager(client, world):
    client.force_login(world.bob)
    response = client.post(
        f"/staff/people/{world.pat.pk}/rights/new/",
        {
            "kind": "access",
            "received_on": TODAY.isoformat(),
            "reply_by": "in_person",
            "language": "en",
            "details": "",
        },
    )
    request = RightsRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/requests/{request.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "A manager of the team answers this request" in page
    assert "Make the PDF" not in page
    queue = client.get("/staff/queue/").content.decode()
    assert "Requests about records" in queue and f"/staff/requests/{request.pk}/" in queue


def test_the_request_form_says_what_is_wrong_and_keeps_what_was_typed(client, world):
    client.force_login(world.bob)
    tomorrow = TODAY + datetime.timedelta(days=1)
    response = client.post(
        f"/staff/people/{world.pat.pk}/rights/new/",
        {
            "kind": "correction",
            "received_on": tomorrow.isoformat(),
            "reply_by": "email",
            "language": "es",
            "details": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be in the future" in page and "Say what they want corrected." in page
    assert tomorrow.isoformat() in page
    assert not RightsRequest.objects.exists()


def test_a_manager_answers_an_access_request_on_its_page(client, world):
    care.log_contact(
        world.carol, world.pat, kind="phone", at=timezone.now(), note="Hard news", confidential=True
    )
    request = ask(world)
    client.force_login(world.alice)
    page = client.get(f"/staff/requests/{request.pk}/").content.decode()
    assert "Make the PDF" in page and "Hard news" in page and "confidential" in page

    too_early = client.post(
        f"/staff/requests/{request.pk}/", {"form": "delivered", "delivered-answer": "given"}
    )
    assert too_early.status_code == 400 and "Make the copy of the record first" in too_early.content.decode()

    note = world.pat.contacts.get()
    no_reason = client.post(
        f"/staff/requests/{request.pk}/",
        {"form": "withhold", "withhold-contacts": [str(note.pk)], "withhold-reason": ""},
    )
    assert no_reason.status_code == 400 and "opinion for withholding" in no_reason.content.decode()
    saved = client.post(
        f"/staff/requests/{request.pk}/",
        {"form": "withhold", "withhold-contacts": [str(note.pk)], "withhold-reason": "Dr Lee, 3 March"},
    )
    assert saved.status_code == 302
    pdf = client.post(f"/staff/requests/{request.pk}/copy/pdf/")
    assert (
        pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and "attachment" in pdf["Content-Disposition"]
    )
    bundle = client.post(f"/staff/requests/{request.pk}/copy/fhir/")
    assert bundle["Content-Type"] == "application/fhir+json"
    assert (
        json.loads(bundle.content)["resourceType"] == "Bundle" and "Hard news" not in bundle.content.decode()
    )
    done = client.post(
        f"/staff/requests/{request.pk}/", {"form": "delivered", "delivered-answer": "In person"}
    )
    assert done.status_code == 302
    assert RightsRequest.objects.get().outcome == RequestOutcome.GRANTED
    again = client.post(f"/staff/requests/{request.pk}/copy/pdf/")
    assert again.status_code == 302  # answered: no more copies, and a message says why
    stale = client.post(
        f"/staff/requests/{request.pk}/", {"form": "refuse", "refuse-reason": "Too late"}, follow=True
    )
    assert "This request has been answered already" in stale.content.decode()
    assert RightsRequest.objects.get().outcome == RequestOutcome.GRANTED
    assert client.post(f"/staff/requests/{request.pk}/copy/zip/").status_code == 404


def test_an_unknown_form_is_a_404_and_a_refusal_needs_a_reason(client, world):
    request = ask(world)
    client.force_login(world.alice)
    assert client.post(f"/staff/requests/{request.pk}/", {"form": "erase"}).status_code == 404
    empty = client.post(f"/staff/requests/{request.pk}/", {"form": "refuse", "refuse-reason": " "})
    assert empty.status_code == 400
    assert RightsRequest.objects.get().is_open


def test_the_correction_page(client, world):
    request = ask(world, kind=RequestKind.CORRECTION, details="My family name is Exampel")
    client.force_login(world.alice)
    page = client.get(f"/staff/requests/{request.pk}/correct/")
    assert page.status_code == 200 and "My family name is Exampel" in page.content.decode()
    form = {
        "person-team": world.detox.pk,
        "person-given_name": "Pat",
        "person-family_name": "Exampel",
        "person-preferred_language": "en",
        "person-time_zone": "Europe/London",
        "person-spiritual_preference": "none",
        "person-attendance_preference": "either",
        "person-group_gender_preference": "any",
        "person-place": "",
        "answer-answer": "",
    }
    broken = client.post(f"/staff/requests/{request.pk}/correct/", {**form, "person-given_name": ""})
    assert broken.status_code == 400 and "Exampel" in broken.content.decode()
    done = client.post(f"/staff/requests/{request.pk}/correct/", form)
    assert done.status_code == 302
    assert Person.objects.get(pk=world.pat.pk).family_name == "Exampel"
    assert "family_name" in RightsRequest.objects.get().changed_fields
    assert client.get(f"/staff/requests/{request.pk}/correct/").status_code == 404  # answered


def test_erasure_from_its_page_needs_the_confirmation(client, world):
    request = ask(world, kind=RequestKind.ERASURE)
    client.force_login(world.alice)
    unconfirmed = client.post(
        f"/staff/requests/{request.pk}/", {"form": "erase", "erase-ground": "not_needed"}
    )
    assert unconfirmed.status_code == 400 and Person.objects.filter(pk=world.pat.pk).exists()
    done = client.post(
        f"/staff/requests/{request.pk}/",
        {"form": "erase", "erase-ground": "not_needed", "erase-confirm": "on"},
    )
    assert done.status_code == 302 and done["Location"] == "/staff/queue/"
    assert not Person.objects.filter(pk=world.pat.pk).exists()
    kept = client.get(f"/staff/requests/{request.pk}/")
    assert kept.status_code == 200 and "no longer needed" in kept.content.decode()


def test_legal_holds_from_the_persons_page(client, world):
    client.force_login(world.bob)
    assert client.post(f"/staff/people/{world.pat.pk}/rights/hold/", {"reason": "Claim"}).status_code == 403
    client.force_login(world.alice)
    client.post(f"/staff/people/{world.pat.pk}/rights/hold/", {"reason": ""})
    assert not world.pat.legal_holds.exists()
    client.post(f"/staff/people/{world.pat.pk}/rights/hold/", {"reason": "Claim 2026/1"})
    hold = world.pat.legal_holds.get()
    page = client.get(f"/staff/people/{world.pat.pk}/rights/").content.decode()
    assert "Claim 2026/1" in page and "Lift the legal hold" in page
    client.post(f"/staff/people/{world.pat.pk}/rights/hold/{hold.pk}/lift/")
    hold.refresh_from_db()
    assert hold.lifted_at is not None
    assert AuditEvent.objects.filter(object_type="rights.legalhold", action=AuditAction.UPDATE).count() == 1


def test_the_timeline_links_to_the_requests(client, world):
    client.force_login(world.bob)
    page = client.get(f"/staff/people/{world.pat.pk}/").content.decode()
    assert f"/staff/people/{world.pat.pk}/rights/" in page


def test_more_time_is_taken_once_and_the_page_says_so_in_spanish(client, world):
    request = ask(world)
    client.force_login(world.alice)
    first = client.post(f"/staff/requests/{request.pk}/", {"form": "extend", "extend-reason": "Long record"})
    assert first.status_code == 302
    client.cookies["django_language"] = "es"
    again = client.post(
        f"/staff/requests/{request.pk}/",
        {"form": "extend", "extend-reason": "Otra vez"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert again.status_code == 400
    assert "solo se puede tomar una vez" in again.content.decode() and "Otra vez" in again.content.decode()
