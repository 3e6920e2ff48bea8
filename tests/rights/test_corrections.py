"""Pat says her family name is misspelt and her date of birth wrong. Alice corrects both through
care's own action; another time she refuses a correction Pat asked for, with a reason. Both
requests and both answers stay with the record, and Pat is told by e-mail, as she asked."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import Person
from recoverybridge.messaging.models import Message
from recoverybridge.rights import actions
from recoverybridge.rights.errors import NothingCorrected, RequestClosed
from recoverybridge.rights.models import ReplyChannel, RequestKind, RequestOutcome, RightsRequest

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))


def ask(world, details: str) -> RightsRequest:
    return actions.record_request(
        world.bob,
        world.pat,
        kind=RequestKind.CORRECTION,
        received_on=NOW.date(),
        details=details,
        reply_by=ReplyChannel.EMAIL,
        now=NOW,
    )


def test_an_accepted_correction_changes_the_record_through_care(world):
    request = ask(world, "My name is Exampel, and I was born on 2 April 1985.")
    actions.accept_correction(
        world.alice,
        request,
        fields={
            "family_name": "Exampel",
            "date_of_birth": datetime.date(1985, 4, 2),
            "phone": world.pat.phone,
        },
        answer="Corrected your family name and date of birth.",
        now=NOW,
    )
    pat = Person.objects.get(pk=world.pat.pk)
    assert (pat.family_name, pat.date_of_birth) == ("Exampel", datetime.date(1985, 4, 2))
    request.refresh_from_db()
    assert request.outcome == RequestOutcome.GRANTED
    assert request.changed_fields == ["date_of_birth", "family_name"]  # the phone was right already
    assert request.details.startswith("My name is Exampel")  # their words are kept
    change = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="care.person")
    assert change.actor == world.alice and set(change.changes) == {"family_name", "date_of_birth"}
    assert change.changes["family_name"] == {"old": "[hidden]", "new": "[hidden]"}
    told = Message.objects.order_by("pk").last()
    assert told.to == "pat@example.net" and "We have answered" in told.body and "Exampel" not in told.body


def test_a_correction_made_elsewhere_is_said_in_the_answer(world):
    request = ask(world, "My sister's number is wrong.")
    with pytest.raises(NothingCorrected):
        actions.accept_correction(world.alice, request, fields={"family_name": "Example"}, answer="", now=NOW)
    actions.accept_correction(
        world.alice,
        request,
        fields={},
        answer="Corrected your sister's number under related people.",
        now=NOW,
    )
    request.refresh_from_db()
    assert (request.outcome, request.changed_fields) == (RequestOutcome.GRANTED, [])


def test_a_refused_correction_is_kept_with_its_reason(world):
    request = ask(world, "Take out that I was in detox.")
    actions.refuse_request(
        world.alice, request, reason="The detox happened; we have added your view to your record.", now=NOW
    )
    request.refresh_from_db()
    assert request.outcome == RequestOutcome.REFUSED
    assert request.details == "Take out that I was in detox."
    told = Message.objects.order_by("pk").last()
    assert "cannot do what you asked" in told.body and "added your view" in told.body
    assert "regulator" in told.body
    with pytest.raises(RequestClosed):
        actions.accept_correction(world.alice, request, fields={"family_name": "X"}, now=NOW)
    assert Person.objects.get(pk=world.pat.pk).family_name == "Example"


def test_a_worker_cannot_answer_a_correction(world):
    request = ask(world, "Wrong name")
    with pytest.raises(PermissionDenied):
        actions.accept_correction(world.bob, request, fields={"family_name": "X"}, now=NOW)
    assert Person.objects.get(pk=world.pat.pk).family_name == "Example"
