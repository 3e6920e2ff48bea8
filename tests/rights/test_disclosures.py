"""The accounting of disclosures: every time Pat's record left the service, read from the audit
trail. Bob refers her to Bridge Peer Network under her consent, Alice exports that referral as
FHIR, Bridge reads its Task through the API, Bob introduces her to a member at a meeting, and she
is told by e-mail that her request arrived. Referrals inside Harbour, to a meeting, and drafts
disclose nothing."""

import datetime
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import AssistedStepKind, ConsentPurpose, ReferralTargetKind, TaskStatus
from recoverybridge.directory.models import Fellowship
from recoverybridge.rights import actions, queries
from recoverybridge.rights.models import ReplyChannel, RequestKind

# The FHIR export is stamped with the clock (it takes no `now`): the story happened before it.
START = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - datetime.timedelta(days=60)


def at(days: int) -> datetime.datetime:
    return START + datetime.timedelta(days=days)


@pytest.fixture
def story(world):
    pat, bob = world.pat, world.bob
    care.give_consent(
        bob, pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, now=at(0), given_at=at(0)
    )
    sent = care.create_referral(
        bob, pat, target_kind=ReferralTargetKind.OTHER_SERVICE, target_organisation=world.bridge, now=at(1)
    )
    care.record_task_reads(world.bridge, [sent], now=at(3))
    care.record_assisted_step(bob, sent, kind=AssistedStepKind.INTRODUCED, on=at(4).date(), now=at(4))
    care.record_assisted_step(bob, sent, kind=AssistedStepKind.ACCOMPANIED, on=at(5).date(), now=at(5))
    actions.record_request(
        bob, pat, kind=RequestKind.ACCESS, received_on=at(6).date(), reply_by=ReplyChannel.EMAIL, now=at(6)
    )
    # Nothing leaves the service with these.
    care.create_referral(
        bob, pat, target_kind=ReferralTargetKind.TREATMENT, target_organisation=world.harbour, now=at(7)
    )
    care.create_referral(
        bob,
        pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="aa"),
        now=at(7),
    )
    draft = care.create_referral(
        bob,
        pat,
        target_kind=ReferralTargetKind.HOUSING,
        target_organisation=world.bridge,
        submit=False,
        now=at(8),
    )
    care.record_task_reads(world.harbour, [draft], now=at(8))  # its own organisation's token
    care.set_referral_status(bob, draft, TaskStatus.REQUESTED, now=at(9))  # sent: now it discloses
    care.export_referral(sent, base_url="https://rb.example.org/api/v1/fhir/", actor=world.alice)
    return {"sent": sent, "draft": draft}


def test_every_disclosure_is_listed_once_in_order(world, story):
    rows = queries.disclosures(world.pat.pk)
    assert [(row.recipient, row.channel) for row in rows] == [
        ("Bridge Peer Network", "Referral sent"),
        ("Bridge Peer Network", "Read through the Task API"),
        ("A mutual-aid member", "In person"),
        ("The person themselves", "E-mail"),
        ("Bridge Peer Network", "Referral sent"),
        ("Bridge Peer Network", "FHIR export"),
    ]
    consent = world.pat.consents.get()
    assert rows[0].basis == f"Consent no. {consent.pk}" and rows[0].by == "bob"
    assert rows[1].by == "Bridge Peer Network"  # the organisation read it itself
    assert rows[2].content == "The person's name, and that they are looking for support"
    assert rows[3].content == "A notice that a request was received"
    assert rows[5].by == "Alice Adams"
    assert queries.disclosures(world.quinn.pk) == []


def test_a_period(world, story):
    rows = queries.disclosures(world.pat.pk, since=at(2), until=at(5))
    assert [row.channel for row in rows] == ["Read through the Task API", "In person"]


def test_the_copy_given_to_the_person_is_a_disclosure_too(world, story):
    request = world.pat.rights_requests.get()
    actions.disclose_copy(world.alice, request, form="pdf")
    last = queries.disclosures(world.pat.pk)[-1]
    assert (last.recipient, last.content, last.by) == (
        "The person themselves",
        "A copy of the record (PDF)",
        "Alice Adams",
    )


def test_the_page_and_the_pdf_for_the_teams_managers(client, world, story):
    client.force_login(world.alice)
    page = client.get(f"/staff/people/{world.pat.pk}/disclosures/")
    assert page.status_code == 200
    assert page.content.decode().count("Bridge Peer Network") >= 4
    period = f"since={at(2).date()}&until={at(3).date()}"
    pdf = client.get(f"/staff/people/{world.pat.pk}/disclosures.pdf?{period}&language=es")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Bridge Peer Network" in text and "PAT00001" in text
    assert "Persona" not in text  # only the Task read falls in the period, not the e-mail to Pat
    printed = AuditEvent.objects.get(action=AuditAction.PRINT, person_id=world.pat.pk)
    assert printed.actor == world.alice and "disclosures" in printed.detail


def test_a_worker_may_not_read_it_and_outsiders_do_not_find_it(client, world, story):
    client.force_login(world.bob)
    assert client.get(f"/staff/people/{world.pat.pk}/disclosures/").status_code == 403
    client.force_login(world.nina)
    assert client.get(f"/staff/people/{world.pat.pk}/disclosures/").status_code == 404
    assert client.get(f"/staff/people/{world.pat.pk}/disclosures.pdf").status_code == 404


def test_a_period_ending_before_it_starts_is_a_clear_error(client, world, story):
    client.force_login(world.alice)
    page = client.get(f"/staff/people/{world.pat.pk}/disclosures/?since=2026-03-01&until=2026-02-01")
    assert page.status_code == 400
    assert "before its start" in page.content.decode()
    nonsense = client.get(f"/staff/people/{world.pat.pk}/disclosures/?since=yesterday")
    assert nonsense.status_code == 400
