"""Pat asks Bob for a copy of her record. Bob records the request; Alice, who manages the Detox
team, decides what is left out, makes the PDF and the FHIR file and marks the copy given. Her
sister Morgan's name and phone, a note that would harm her, and Rowan's record (which names Pat
as his friend) stay out; everything else is in."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from recoverybridge.audit.actions import DISCLOSED_TO
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, EpisodeKind
from recoverybridge.messaging.models import Message
from recoverybridge.outcomes import actions as outcomes
from recoverybridge.rights import actions
from recoverybridge.rights.errors import ExtendedAlready, NothingDelivered, RequestClosed, TooLateToExtend
from recoverybridge.rights.models import ReplyChannel, RequestKind, RequestOutcome

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))


def text_of(pdf: bytes) -> str:
    import io

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def record(world):
    pat = world.pat
    care.add_related_person(
        world.bob, pat, name="Morgan Example", relationship="sister", contact="+44 7700 900132"
    )
    care.add_related_person(
        world.sam, world.quinn, name="Pat Example", relationship="bandmate", as_person=pat
    )
    care.give_consent(
        world.bob, pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, scope="first name only"
    )
    episode = care.start_episode(world.bob, pat, kind=EpisodeKind.DETOX, started_on=datetime.date(2026, 1, 5))
    care.log_contact(
        world.bob, pat, kind="phone", at=NOW - datetime.timedelta(days=9), note="Talked about meetings."
    )
    harmful = care.log_contact(
        world.carol,
        pat,
        kind="in_person",
        at=NOW - datetime.timedelta(days=8),
        note="Risk note XYZZY.",
        confidential=True,
    )
    care.log_contact(
        world.bob,
        pat,
        kind="video",
        at=NOW - datetime.timedelta(days=7),
        note="Planned steps QWERTY.",
        confidential=True,
    )
    outcomes.record_response(
        world.bob, pat, "barc-10", {f"barc-{n}": "4" for n in range(1, 11)}, time_point="baseline"
    )
    outcomes.record_check_in(world.bob, pat, meetings_count=3, mood=4)
    return {"episode": episode, "harmful": harmful}


def test_a_request_is_due_a_month_later_at_most_thirty_days(world):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=datetime.date(2026, 3, 1), now=NOW
    )
    assert request.due_on == datetime.date(2026, 3, 31)  # 1 April is 31 days on: HIPAA's 30 days win
    assert request.team == world.detox and request.subject_id == world.pat.pk
    assert request.outcome == RequestOutcome.OPEN
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="rights.rightsrequest")
    assert event.person_id == world.pat.pk and event.changes["kind"]["new"] == "access"


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-01-31", "2026-02-28"),  # no 31 February: the month's last day
        ("2026-02-01", "2026-03-01"),
        ("2026-04-15", "2026-05-15"),
        ("2026-05-01", "2026-05-31"),  # 1 June would be 31 days
    ],
)
def test_due_dates(received, due):
    assert actions.due_on(datetime.date.fromisoformat(received)) == datetime.date.fromisoformat(due)


def test_without_the_thirty_day_cap_a_calendar_month(settings):
    settings.RIGHTS_DEADLINES = {**settings.RIGHTS_DEADLINES, "max_days": 0, "extension_max_days": 0}
    received = datetime.date(2026, 5, 1)
    assert actions.due_on(received) == datetime.date(2026, 6, 1)
    assert actions.extended_due_on(received, datetime.date(2026, 6, 1)) == datetime.date(2026, 8, 1)


def test_a_request_cannot_be_received_in_the_future(world):
    with pytest.raises(ValueError, match="future"):
        actions.record_request(
            world.bob, world.pat, kind=RequestKind.ACCESS, received_on=datetime.date(2026, 3, 11), now=NOW
        )


def test_someone_outside_the_team_cannot_record_one_and_is_recorded(world):
    with pytest.raises(PermissionDenied):
        actions.record_request(
            world.nina, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW
        )
    assert AuditEvent.objects.filter(
        action=AuditAction.DENIED, actor=world.nina, person_id=world.pat.pk
    ).exists()


def test_the_person_is_told_by_email_only_when_they_asked(world):
    actions.record_request(world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW)
    assert not Message.objects.exists()
    asked = actions.record_request(
        world.bob,
        world.pat,
        kind=RequestKind.ACCESS,
        received_on=NOW.date(),
        reply_by=ReplyChannel.EMAIL,
        language="es",
        now=NOW,
    )
    (message,) = Message.objects.all()
    assert message.to == "pat@example.net"
    assert "Hemos recibido" in message.body and "9 de abril de 2026" in message.body
    for private in ("Pat", "Example", "Harbour", "Detox", "RB-"):
        assert private not in message.subject + message.body
    notice = AuditEvent.objects.get(action=AuditAction.DISCLOSE, object_id=str(asked.pk))
    assert notice.changes[DISCLOSED_TO]["new"] == {
        "recipient": "person",
        "channel": "email",
        "organisation": None,
        "basis": f"request {asked.pk}",
        "content": "notice-received",
    }


def test_only_the_teams_managers_answer(world, record):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW
    )
    for refused in (
        lambda: actions.disclose_copy(world.bob, request, form="pdf"),
        lambda: actions.complete_access(world.bob, request),
        lambda: actions.refuse_request(world.bob, request, reason="no"),
        lambda: actions.extend_request(world.dave, request, reason="busy"),
    ):
        with pytest.raises(PermissionDenied):
            refused()
    assert (
        AuditEvent.objects.filter(action=AuditAction.DENIED, object_type="rights.rightsrequest").count() == 4
    )
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()


def test_the_copy_holds_the_record_minus_what_is_withheld(world, record):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), details="All of it", now=NOW
    )
    actions.withhold_notes(
        world.alice, request, contact_ids=[record["harmful"].pk], reason="Dr Lee: risk of harm"
    )

    bundle = Bundle.model_validate_json(actions.disclose_copy(world.alice, request, form="fhir"))
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    for kind in (
        "Patient",
        "RelatedPerson",
        "Consent",
        "EpisodeOfCare",
        "Encounter",
        "QuestionnaireResponse",
        "Observation",
    ):
        assert kind in kinds, kind
    raw = bundle.model_dump_json()
    assert "Pat" in raw and "pat@example.net" in raw  # their own details are theirs
    assert "Morgan" not in raw and "900132" not in raw  # their sister's are not
    assert "sister" in raw
    assert "XYZZY" not in raw and "REDACTED" in raw  # the harmful note's text is out, its contact in
    assert "QWERTY" in raw  # a confidential note is not withheld for being confidential
    assert "bandmate" not in raw  # Quinn's record, which names Pat, is Quinn's

    pdf = actions.disclose_copy(world.alice, request, form="pdf")
    assert pdf[:5] == b"%PDF-"
    text = text_of(pdf)
    assert "Your record" in text and "Pat Example" in text and "sister" in text
    assert "Morgan" not in text and "900132" not in text and "XYZZY" not in text
    assert "QWERTY" in text and "Talked about meetings." in text
    assert "1 note by your workers" in text
    assert "other person's record" in text

    copies = AuditEvent.objects.filter(action=AuditAction.DISCLOSE, object_id=str(request.pk)).order_by("id")
    assert [c.changes[DISCLOSED_TO]["new"]["content"] for c in copies] == ["record-fhir", "record-pdf"]
    assert all(len(c.changes["sha256"]["new"]) == 64 and c.person_id == world.pat.pk for c in copies)

    actions.complete_access(world.alice, request, answer="Handed over in person")
    request.refresh_from_db()
    assert (request.outcome, request.answered_by, request.answer) == (
        "granted",
        world.alice,
        "Handed over in person",
    )
    with pytest.raises(RequestClosed):
        actions.disclose_copy(world.alice, request, form="pdf")


def test_the_copy_in_spanish(world, record):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), language="es", now=NOW
    )
    text = text_of(actions.disclose_copy(world.alice, request, form="pdf"))
    assert "Su expediente" in text and "hermana" not in text and "sister" in text
    bundle = json.loads(actions.disclose_copy(world.alice, request, form="fhir"))
    answered = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert answered[0]["language"] == "es"


def test_a_copy_must_be_made_before_the_request_is_answered(world, record):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW
    )
    with pytest.raises(NothingDelivered):
        actions.complete_access(world.alice, request)


def test_withholding_needs_a_reason_and_the_persons_own_notes(world, record):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW
    )
    with pytest.raises(ValueError, match="why"):
        actions.withhold_notes(world.alice, request, contact_ids=[record["harmful"].pk], reason=" ")
    other = care.log_contact(world.dave, world.quinn, kind="phone", at=NOW, note="Quinn's")
    with pytest.raises(ValueError, match="not all"):
        actions.withhold_notes(world.alice, request, contact_ids=[other.pk], reason="x")


def test_more_time_once_before_it_is_due_and_the_person_told_why(world):
    request = actions.record_request(
        world.bob,
        world.pat,
        kind=RequestKind.ACCESS,
        received_on=datetime.date(2026, 3, 1),
        reply_by=ReplyChannel.EMAIL,
        now=NOW,
    )
    actions.extend_request(world.alice, request, reason="Your record is long.", now=NOW)
    request.refresh_from_db()
    assert request.due_on == datetime.date(2026, 4, 30)  # 30 more days, within two more months
    notice = Message.objects.order_by("pk").last()
    assert "April 30, 2026" in notice.body and "Your record is long." in notice.body
    with pytest.raises(ExtendedAlready):
        actions.extend_request(world.alice, request, reason="again", now=NOW)
    late = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=datetime.date(2026, 1, 5), now=NOW
    )
    with pytest.raises(TooLateToExtend):
        actions.extend_request(world.alice, late, reason="late", now=NOW)


def test_a_refusal_keeps_its_reason_and_closes_the_request(world):
    request = actions.record_request(
        world.bob, world.pat, kind=RequestKind.ACCESS, received_on=NOW.date(), now=NOW
    )
    with pytest.raises(ValueError):
        actions.refuse_request(world.alice, request, reason="")
    actions.refuse_request(world.alice, request, reason="A copy was given last week.")
    request.refresh_from_db()
    assert (request.outcome, request.answer) == (RequestOutcome.REFUSED, "A copy was given last week.")
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="rights.rightsrequest").get()
    assert event.changes["reason"] == {"old": "[hidden]", "new": "[hidden]"}
    with pytest.raises(RequestClosed):
        actions.refuse_request(world.alice, request, reason="twice")
