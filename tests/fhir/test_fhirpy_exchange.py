"""Lighthouse's own FHIR tooling (fhirpy, a maintained third-party client) works its referrals
against the live test server, the whole exchange: the CapabilityStatement, searching and paging,
following every reference, updating with PUT and PATCH, a stale If-Match refused, and the loop
closed. Every resource the server returns is validated as FHIR R4 with fhir.resources."""

from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import fhir
from recoverybridge.care.models import Referral, ReferralTargetKind, TaskStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def valid(resource):
    """The resource as fhir.resources reads it: it must be valid R4(B)."""
    data = resource.serialize() if hasattr(resource, "serialize") else dict(resource)
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


def client_for(live_server, token, **headers):
    return SyncFHIRClient(
        f"{live_server.url}/api/v1/fhir", authorization=f"Bearer {token}", extra_headers=headers or None
    )


def references(value):
    """Every Reference (a dict with "reference") inside a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


@pytest.fixture
def five(referral):
    """Sam's referral and four more to Lighthouse, so that a page of two leaves three pages."""
    for hours in range(3, 7):
        Referral.objects.create(
            person=referral.person,
            team=referral.team,
            referred_by=referral.referred_by,
            target_kind=ReferralTargetKind.OTHER_SERVICE,
            target_organisation=referral.target_organisation,
            status=TaskStatus.REQUESTED,
            authored_on=timezone.now() - timedelta(hours=hours),
        )
    return Referral.objects.filter(target_organisation=referral.target_organisation)


def test_the_whole_exchange_with_fhirpy(live_server, five, referral, lighthouse, lighthouse_token):
    lighthouse_fhir = client_for(live_server, lighthouse_token)

    # The CapabilityStatement first, as many clients do.
    capability = valid(lighthouse_fhir.execute("metadata", method="get"))
    task_capability = next(item for item in capability.rest[0].resource if item.type == "Task")
    assert {item.code for item in task_capability.interaction} == {"read", "search-type", "update", "patch"}

    # Search and page: two at a time, fhirpy follows the next links.
    tasks = lighthouse_fhir.resources("Task").search(status="requested").limit(2)
    first_page = tasks.fetch()
    everything = tasks.fetch_all()
    assert len(first_page) == 2 and len(everything) == 5
    assert len({task.id for task in everything}) == 5
    for task in everything:
        valid(task)
    # fhirpy counts with _count=0 plus a parameter of another server's (_totalMethod): refused by
    # our strict search, counted when the client prefers lenient handling.
    with pytest.raises(OperationOutcome, match="_totalMethod"):
        tasks.count()
    lenient = client_for(live_server, lighthouse_token, Prefer="handling=lenient")
    assert lenient.resources("Task").search(status="requested").count() == 5

    # Follow every reference of Sam's referral: each resolves to a valid resource.
    task = lighthouse_fhir.resources("Task").search(_id=referral.pk).get()
    service_request = task["focus"].to_resource()
    assert task["basedOn"][0].to_resource().id == service_request.id == str(referral.pk)
    consent = service_request["supportingInfo"][0].to_resource()
    followed = {}
    for resource in (task, service_request, consent):
        valid(resource)
        for reference in references(resource.serialize()):
            target = lighthouse_fhir.reference(reference=reference["reference"]).to_resource()
            followed[reference["reference"]] = valid(target)
    assert set(followed) == {
        f"ServiceRequest/{referral.pk}",
        "Patient/P-7Q2K",
        f"Organization/{lighthouse.pk}",
        f"Organization/{referral.team.organisation_id}",
        f"Consent/{consent.id}",
    }
    assert followed["Patient/P-7Q2K"].identifier[0].value == "P-7Q2K"

    # PUT: without If-Match a 428; with the version read, saved.
    task["status"] = "accepted"
    with pytest.raises(OperationOutcome, match="If-Match"):
        task.save()
    read_version = task["meta"]["versionId"]
    as_read = client_for(live_server, lighthouse_token, **{"If-Match": f'W/"{read_version}"'})
    accepted = as_read.resource("Task", **task.serialize())
    accepted.save()
    valid(accepted)
    assert accepted["status"] == "accepted" and accepted["meta"]["versionId"] != read_version

    # The same version once more: someone else saved meanwhile, so 412 (fhirpy's name for it).
    stale = as_read.resource(
        "Task", **{**task.serialize(), "status": "rejected", "statusReason": {"text": "Full"}}
    )
    with pytest.raises(MultipleResourcesFound):
        stale.save()
    assert Referral.objects.get(pk=referral.pk).status == "accepted"

    # refresh() asks with If-None-Match: unchanged (304) keeps what it has, a change reloads it.
    accepted.refresh()
    assert accepted["status"] == "accepted"
    task.refresh()
    assert task["status"] == "accepted"

    # PATCH (fhirpy sends a merge patch as application/json), then the loop closes.
    task.patch(status="in-progress")
    milestone = {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": "attending-regularly"}]}
    task.patch(status="completed", businessStatus=milestone)
    valid(task)
    assert task["status"] == "completed"
    saved = Referral.objects.get(pk=referral.pk)
    assert (saved.status, saved.business_status) == ("completed", "attending-regularly")
    assert task["meta"]["versionId"] == str(saved.version)
    updates = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(referral.pk))
    assert [list(event.changes) for event in updates.order_by("id")] == [
        ["status"],
        ["status"],
        ["status"],
        ["business_status"],
    ]
    assert {event.actor_organisation_id for event in updates} == {lighthouse.pk}
    refusals = AuditEvent.objects.filter(action=AuditAction.DENIED, actor_organisation=lighthouse)
    assert sorted(event.detail for event in refusals) == [
        "FHIR Task update refused (412 conflict)",
        "FHIR Task update refused (428 required)",
    ]
