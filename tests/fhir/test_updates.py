"""Lighthouse updates Sam's Task the ways FHIR clients do: PUT of the whole Task with If-Match,
JSON Patch and merge patch; each version is one more, a stale one is refused with 412 and
nothing is lost, and every refusal about the Task is on the audit trail."""

import copy
import json

import pytest

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import fhir
from recoverybridge.care.models import Referral, TaskStatus

TASK = "/api/v1/fhir/Task/{}"


def auth(token, **headers):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


def read(client, referral, token):
    response = client.get(TASK.format(referral.pk), **auth(token))
    assert response.status_code == 200, response.content
    return response


def task_of(response):
    """The Task read, as a copy to change (the test client's json() is the same object each time)."""
    return copy.deepcopy(response.json())


def put(client, referral, token, body, etag=None, content_type="application/fhir+json", **headers):
    if etag is not None:
        headers["HTTP_IF_MATCH"] = etag
    return client.put(
        TASK.format(referral.pk), json.dumps(body), content_type=content_type, **auth(token, **headers)
    )


def patch(client, referral, token, body, content_type, **headers):
    return client.patch(
        TASK.format(referral.pk), json.dumps(body), content_type=content_type, **auth(token, **headers)
    )


def saved(referral):
    return Referral.objects.get(pk=referral.pk)


def denied(referral):
    return AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(referral.pk))


# ---------------------------------------------------------------- versions


@pytest.mark.django_db
def test_a_task_carries_its_version_as_meta_etag_and_last_modified(client, referral, lighthouse_token):
    response = read(client, referral, lighthouse_token)

    task = response.json()
    assert task["meta"]["versionId"] == "1"
    assert task["meta"]["lastUpdated"].startswith(referral.updated_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert response["ETag"] == 'W/"1"'
    assert response["Last-Modified"].endswith("GMT")


@pytest.mark.django_db
def test_every_save_is_a_new_version(referral):
    referral.reason = "Changed"
    referral.save()
    referral.save(update_fields=["reason"])

    assert referral.version == 3
    assert saved(referral).version == 3


@pytest.mark.django_db
def test_a_conditional_read_of_the_current_version_is_a_304(client, referral, lighthouse_token):
    current = read(client, referral, lighthouse_token)

    again = client.get(TASK.format(referral.pk), **auth(lighthouse_token, HTTP_IF_NONE_MATCH=current["ETag"]))
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == current["ETag"]
    # fhirpy's refresh() sends the bare versionId.
    bare = client.get(TASK.format(referral.pk), **auth(lighthouse_token, HTTP_IF_NONE_MATCH="1"))
    assert bare.status_code == 304
    older = client.get(TASK.format(referral.pk), **auth(lighthouse_token, HTTP_IF_NONE_MATCH='W/"0"'))
    assert older.status_code == 200
    since = client.get(
        TASK.format(referral.pk), **auth(lighthouse_token, HTTP_IF_MODIFIED_SINCE=current["Last-Modified"])
    )
    assert since.status_code == 304


# ---------------------------------------------------------------- PUT


@pytest.mark.django_db
def test_put_of_the_task_as_read_with_a_new_status(client, referral, lighthouse, lighthouse_token):
    current = read(client, referral, lighthouse_token)
    task = task_of(current)
    task["status"] = "accepted"
    task["businessStatus"] = {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": "attended-first-meeting"}]}

    response = put(client, referral, lighthouse_token, task, current["ETag"])

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response["ETag"] == f'W/"{saved(referral).version}"' != current["ETag"]
    assert response.json()["meta"]["versionId"] == str(saved(referral).version)
    assert (saved(referral).status, saved(referral).business_status) == ("accepted", "attended-first-meeting")
    events = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(referral.pk))
    assert {event.actor_organisation_id for event in events} == {lighthouse.pk}
    assert sorted(next(iter(event.changes)) for event in events) == ["business_status", "status"]


@pytest.mark.django_db
def test_put_without_if_match_is_a_428_and_audited(client, referral, lighthouse, lighthouse_token):
    task = read(client, referral, lighthouse_token).json()
    task["status"] = "accepted"

    response = put(client, referral, lighthouse_token, task)

    assert response.status_code == 428
    assert response.json()["issue"][0]["expression"] == ["If-Match"]
    assert saved(referral).status == TaskStatus.REQUESTED
    (event,) = denied(referral)
    assert event.actor_organisation == lighthouse and event.person_id == referral.person_id
    assert "428" in event.detail


@pytest.mark.django_db
def test_a_stale_if_match_is_a_412_and_nothing_is_lost(client, referral, lighthouse_token):
    first = read(client, referral, lighthouse_token)
    mine, theirs = task_of(first), task_of(first)
    mine["status"] = "accepted"
    theirs["status"] = "rejected"
    theirs["statusReason"] = {"text": "No capacity"}

    won = put(client, referral, lighthouse_token, mine, first["ETag"])
    lost = put(client, referral, lighthouse_token, theirs, first["ETag"])

    assert won.status_code == 200 and lost.status_code == 412
    assert lost.json()["issue"][0]["code"] == "conflict"
    assert saved(referral).status == "accepted"
    assert saved(referral).status_reason == ""
    assert denied(referral).count() == 1


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("owner", {"reference": "Organization/999"}),
        ("for", {"identifier": {"value": "someone-else"}}),
        ("note", [{"text": "We would like their phone number"}]),
        ("output", [{"type": {"text": "resulting-activity"}, "valueString": "Attended"}]),
        ("intent", "plan"),
    ],
)
@pytest.mark.django_db
def test_put_may_not_change_what_is_not_the_performers(client, referral, lighthouse_token, element, value):
    current = read(client, referral, lighthouse_token)
    task = task_of(current)
    task[element] = value
    task["status"] = "accepted"

    response = put(client, referral, lighthouse_token, task, current["ETag"])

    assert response.status_code == 403, response.content
    assert response.json()["issue"][0]["expression"] == [f"Task.{element}"]
    assert saved(referral).status == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_put_ignores_what_the_server_manages(client, referral, lighthouse_token):
    current = read(client, referral, lighthouse_token)
    task = task_of(current)
    task["meta"] = {"versionId": "99", "lastUpdated": "2001-01-01T00:00:00Z"}
    task["lastModified"] = "2001-01-01T00:00:00Z"
    del task["identifier"]  # but leaving out an element changes it
    assert put(client, referral, lighthouse_token, task, current["ETag"]).status_code == 403
    task = task_of(current)
    task["meta"] = {"versionId": "99"}
    task.pop("lastModified")

    assert put(client, referral, lighthouse_token, task, current["ETag"]).status_code == 200


@pytest.mark.django_db
def test_put_with_another_id_or_resource_is_a_400(client, referral, lighthouse_token):
    current = read(client, referral, lighthouse_token)
    task = task_of(current)
    task["id"] = "999"
    assert put(client, referral, lighthouse_token, task, current["ETag"]).status_code == 400
    patient = {"resourceType": "Patient", "id": str(referral.pk)}
    assert put(client, referral, lighthouse_token, patient, current["ETag"]).status_code == 400
    assert put(client, referral, lighthouse_token, [], current["ETag"]).status_code == 400


# ---------------------------------------------------------------- PATCH


@pytest.mark.django_db
def test_json_patch_changes_the_status(client, referral, lighthouse_token):
    operations = [
        {"op": "test", "path": "/status", "value": "requested"},
        {"op": "replace", "path": "/status", "value": "rejected"},
        {"op": "add", "path": "/statusReason", "value": {"text": "Full this month"}},
    ]

    response = patch(client, referral, lighthouse_token, operations, "application/json-patch+json")

    assert response.status_code == 200, response.content
    assert (saved(referral).status, saved(referral).status_reason) == ("rejected", "Full this month")


@pytest.mark.django_db
def test_a_failed_json_patch_test_is_a_409(client, referral, lighthouse_token):
    operations = [
        {"op": "test", "path": "/status", "value": "accepted"},
        {"op": "replace", "path": "/status", "value": "in-progress"},
    ]

    response = patch(client, referral, lighthouse_token, operations, "application/json-patch+json")

    assert response.status_code == 409
    assert saved(referral).status == TaskStatus.REQUESTED


@pytest.mark.parametrize(
    "operations",
    [
        {"op": "replace", "path": "/status", "value": "accepted"},  # not an array
        [{"op": "frobnicate", "path": "/status"}],
        [{"op": "replace", "path": "status", "value": "accepted"}],  # not a pointer
        [{"op": "replace", "value": "accepted"}],
    ],
)
@pytest.mark.django_db
def test_a_malformed_json_patch_is_a_400(client, referral, lighthouse_token, operations):
    response = patch(client, referral, lighthouse_token, operations, "application/json-patch+json")

    assert response.status_code == 400, response.content
    assert saved(referral).status == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_json_patch_may_not_remove_what_is_not_the_performers(client, referral, lighthouse_token):
    response = patch(
        client,
        referral,
        lighthouse_token,
        [{"op": "remove", "path": "/owner"}],
        "application/json-patch+json",
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_merge_patch_and_if_match(client, referral, lighthouse_token):
    body = {"status": "accepted"}
    stale = patch(
        client, referral, lighthouse_token, body, "application/merge-patch+json", HTTP_IF_MATCH='W/"7"'
    )
    assert stale.status_code == 412

    fresh = patch(
        client, referral, lighthouse_token, body, "application/merge-patch+json", HTTP_IF_MATCH='W/"1"'
    )
    assert fresh.status_code == 200
    assert fresh["ETag"] == f'W/"{saved(referral).version}"'


@pytest.mark.django_db
def test_merge_patch_with_null_clears_the_milestone(client, referral, lighthouse_token):
    Referral.objects.filter(pk=referral.pk).update(
        status="in-progress", business_status="attended-first-meeting"
    )

    response = patch(
        client, referral, lighthouse_token, {"businessStatus": None}, "application/merge-patch+json"
    )

    assert response.status_code == 200
    assert saved(referral).business_status == ""
    assert "businessStatus" not in response.json()


@pytest.mark.django_db
def test_a_fhirpath_patch_is_refused_plainly(client, referral, lighthouse_token):
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "operation"}]}

    response = patch(client, referral, lighthouse_token, parameters, "application/fhir+json")

    assert response.status_code == 400
    assert "FHIRPath Patch" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.django_db
def test_prefer_return_minimal_answers_no_body(client, referral, lighthouse_token):
    response = patch(
        client,
        referral,
        lighthouse_token,
        {"status": "accepted"},
        "application/fhir+json",
        HTTP_PREFER="return=minimal",
    )

    assert response.status_code == 200 and response.content == b""
    assert response["ETag"] == f'W/"{saved(referral).version}"'


@pytest.mark.django_db
def test_refusals_about_a_task_are_audited_once_each(
    client, referral, beacon, beacon_token, lighthouse_token
):
    patch(client, referral, lighthouse_token, {"status": "cancelled"}, "application/fhir+json")  # 403
    patch(client, referral, lighthouse_token, {"status": "completed"}, "application/fhir+json")  # 409
    client.get(TASK.format(referral.pk), **auth(beacon_token))  # 404 for Beacon
    client.get(TASK.format(999999), **auth(beacon_token))  # 404, no such Task

    details = [event.detail for event in AuditEvent.objects.filter(action=AuditAction.DENIED).order_by("id")]
    assert details == [
        "FHIR Task patch refused (403 forbidden)",
        "FHIR Task patch refused (409 business-rule)",
        "FHIR Task read refused (404 not-found)",
        "FHIR Task read refused (404 not-found)",
    ]
    probe = AuditEvent.objects.get(
        action=AuditAction.DENIED, actor_organisation=beacon, object_id=referral.pk
    )
    assert probe.person_id == referral.person_id  # on Sam's trail: Beacon asked for his referral
    # A malformed request is no refusal of access: not on the trail.
    patch(client, referral, lighthouse_token, "{", "application/fhir+json")
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 4
