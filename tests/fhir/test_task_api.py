"""Lighthouse works Sam's referral through the FHIR Task API with its own token; Beacon,
with a token of its own, cannot see it at all; bad tokens are refused and then throttled."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from recoverybridge.accounts.access import hash_token
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import fhir
from recoverybridge.care.models import Consent, Referral, TaskStatus
from recoverybridge.organisations.models import Organisation

TASKS = "/api/v1/fhir/Task"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def patch(client, referral_id, token, body):
    return client.patch(
        f"{TASKS}/{referral_id}", json.dumps(body), content_type="application/fhir+json", **auth(token)
    )


def issue(status, reason=None, milestone=None):
    body = {"resourceType": "Task", "status": status}
    if reason:
        body["statusReason"] = {"text": reason}
    if milestone:
        body["businessStatus"] = {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": milestone}]}
    return body


def status_of(referral):
    return Referral.objects.get(pk=referral.pk).status


# ---------------------------------------------------------------- tokens


@pytest.mark.django_db
def test_issue_api_token_prints_a_token_once_and_stores_only_its_hash(lighthouse, capsys):
    call_command("issue_api_token", "Lighthouse Recovery")

    token = capsys.readouterr().out.strip()
    lighthouse.refresh_from_db()
    assert token.startswith("rb_") and len(token) > 40
    assert lighthouse.api_token_hash == hash_token(token)
    assert token not in lighthouse.api_token_hash
    assert (
        AuditEvent.objects.filter(
            object_type="organisations.organisation", object_id=str(lighthouse.pk)
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_a_new_token_replaces_the_old_one(client, referral, lighthouse, lighthouse_token):
    call_command("issue_api_token", str(lighthouse.pk))

    assert client.get(TASKS, **auth(lighthouse_token)).status_code == 401


# ---------------------------------------------------------------- authentication


@pytest.mark.django_db
def test_no_token_is_a_401_operation_outcome(client, referral):
    response = client.get(TASKS)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer rb_not-a-real-token", "Basic YWxpY2U6cHc=", "Bearer "])
@pytest.mark.django_db
def test_a_bad_token_is_a_401(client, referral, lighthouse_token, header):
    response = client.get(TASKS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


@pytest.mark.django_db
def test_a_signed_in_worker_cannot_use_the_task_api(client, referral, alice):
    client.force_login(alice)

    assert client.get(TASKS).status_code == 401


@pytest.mark.django_db
def test_repeated_bad_tokens_are_throttled_even_before_a_good_one(
    client, settings, referral, lighthouse_token
):
    settings.API_TOKEN_FAILURES_ALLOWED = 3
    for _ in range(3):
        assert client.get(TASKS, **auth("rb_guess")).status_code == 401

    response = client.get(TASKS, **auth(lighthouse_token))

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


# ---------------------------------------------------------------- reading


@pytest.mark.django_db
def test_lighthouse_lists_its_requested_tasks(client, referral, lighthouse_token):
    response = client.get(TASKS, {"status": "requested"}, **auth(lighthouse_token))

    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    (entry,) = bundle["entry"]
    assert entry["resource"]["id"] == str(referral.pk)
    assert entry["resource"]["status"] == "requested"
    assert entry["resource"]["for"]["identifier"]["value"] == "P-7Q2K"
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(referral.pk)).count() == 1


@pytest.mark.django_db
def test_the_status_filter_excludes_other_statuses(client, referral, lighthouse_token):
    response = client.get(TASKS, {"status": "accepted,in-progress"}, **auth(lighthouse_token))

    assert response.json()["total"] == 0


@pytest.mark.django_db
def test_an_unknown_status_filter_is_a_400(client, referral, lighthouse_token):
    response = client.get(TASKS, {"status": "pending"}, **auth(lighthouse_token))

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["status"]


@pytest.mark.django_db
def test_beacon_sees_no_tasks_and_gets_404_for_sams(client, referral, beacon_token):
    assert client.get(TASKS, **auth(beacon_token)).json()["total"] == 0
    assert client.get(f"{TASKS}/{referral.pk}", **auth(beacon_token)).status_code == 404
    assert patch(client, referral.pk, beacon_token, issue("accepted")).status_code == 404
    assert status_of(referral) == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_a_missing_task_looks_the_same_as_someone_elses(client, referral, beacon_token):
    theirs = client.get(f"{TASKS}/{referral.pk}", **auth(beacon_token))
    missing = client.get(f"{TASKS}/999999", **auth(beacon_token))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"]


@pytest.mark.django_db
def test_lighthouse_loses_sight_of_the_task_when_sam_revokes_consent(
    client, referral, sams_consent, lighthouse_token
):
    Consent.objects.filter(pk=sams_consent.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))

    assert client.get(TASKS, **auth(lighthouse_token)).json()["total"] == 0
    assert client.get(f"{TASKS}/{referral.pk}", **auth(lighthouse_token)).status_code == 404
    assert patch(client, referral.pk, lighthouse_token, issue("accepted")).status_code == 404


@pytest.mark.django_db
def test_lighthouse_reads_one_task(client, referral, lighthouse_token):
    response = client.get(f"{TASKS}/{referral.pk}", **auth(lighthouse_token))

    assert response.status_code == 200
    assert response.json()["resourceType"] == "Task"
    assert response.json()["owner"]["display"] == "Lighthouse Recovery"


# ---------------------------------------------------------------- updating


@pytest.mark.django_db
def test_lighthouse_accepts_then_starts_then_completes(client, referral, lighthouse, lighthouse_token):
    for status in ("accepted", "in-progress", "completed"):
        response = patch(client, referral.pk, lighthouse_token, issue(status))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
        assert status_of(referral) == status

    events = AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="care.referral", object_id=str(referral.pk)
    ).order_by("id")
    assert [event.changes["status"]["new"] for event in events] == ["accepted", "in-progress", "completed"]
    assert {event.actor_organisation_id for event in events} == {lighthouse.pk}
    assert {event.actor_id for event in events} == {None}


@pytest.mark.django_db
def test_milestone_and_status_together(client, referral, lighthouse_token):
    response = patch(
        client, referral.pk, lighthouse_token, issue("in-progress", milestone="attended-first-meeting")
    )

    assert response.status_code == 200
    assert response.json()["businessStatus"]["coding"][0]["code"] == "attended-first-meeting"
    saved = Referral.objects.get(pk=referral.pk)
    assert (saved.status, saved.business_status) == ("in-progress", "attended-first-meeting")
    changed = [
        set(event.changes)
        for event in AuditEvent.objects.filter(
            action=AuditAction.UPDATE, object_type="care.referral", object_id=str(referral.pk)
        )
    ]
    assert sorted(map(sorted, changed)) == [["business_status"], ["status"]]


@pytest.mark.django_db
def test_rejecting_needs_a_reason(client, referral, lighthouse_token):
    refused = patch(client, referral.pk, lighthouse_token, issue("rejected"))
    accepted = patch(
        client, referral.pk, lighthouse_token, issue("rejected", reason="No capacity this month")
    )

    assert refused.status_code == 400
    assert accepted.status_code == 200
    saved = Referral.objects.get(pk=referral.pk)
    assert (saved.status, saved.status_reason) == ("rejected", "No capacity this month")
    assert accepted.json()["statusReason"] == {"text": "No capacity this month"}


@pytest.mark.parametrize("status", ["cancelled", "draft", "entered-in-error"])
@pytest.mark.django_db
def test_lighthouse_may_not_set_the_requesters_statuses(client, referral, lighthouse_token, status):
    response = patch(client, referral.pk, lighthouse_token, issue(status))

    assert response.status_code == 403
    assert status_of(referral) == TaskStatus.REQUESTED
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="care.referral").exists()


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("requested", "completed"),
        ("requested", "on-hold"),
        ("completed", "in-progress"),
        ("rejected", "accepted"),
    ],
)
@pytest.mark.django_db
def test_transitions_the_guide_does_not_allow_are_409(client, referral, lighthouse_token, current, wanted):
    Referral.objects.filter(pk=referral.pk).update(status=current)

    response = patch(client, referral.pk, lighthouse_token, issue(wanted, reason="because"))

    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] == "business-rule"
    assert status_of(referral) == current


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Task", "status": "done"},
        {"resourceType": "Patient", "status": "accepted"},
        {
            "resourceType": "Task",
            "businessStatus": {"coding": [{"system": "http://example.org", "code": "x"}]},
        },
        {"resourceType": "Task", "status": 7},
    ],
)
@pytest.mark.django_db
def test_bad_bodies_are_400(client, referral, lighthouse_token, body):
    response = patch(client, referral.pk, lighthouse_token, body)

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert status_of(referral) == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_malformed_json_is_a_400_not_a_500(client, referral, lighthouse_token):
    response = client.patch(
        f"{TASKS}/{referral.pk}", "{not json", content_type="application/json", **auth(lighthouse_token)
    )

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_non_numeric_task_id_is_a_404(client, referral, lighthouse_token):
    assert client.get(f"{TASKS}/abc", **auth(lighthouse_token)).status_code == 404


# ---------------------------------------------------------------- export over HTTP


@pytest.mark.django_db
def test_alice_exports_the_bundle_when_signed_in(client, referral, alice):
    client.force_login(alice)

    response = client.get(f"/api/v1/fhir/referrals/{referral.pk}/bundle")

    assert response.status_code == 200
    assert [entry["resource"]["resourceType"] for entry in response.json()["entry"]] == [
        "ServiceRequest",
        "Task",
        "Consent",
    ]
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=alice).count() == 1


@pytest.mark.django_db
def test_lighthouse_exports_the_bundle_with_its_token(client, referral, lighthouse, lighthouse_token):
    response = client.get(f"/api/v1/fhir/referrals/{referral.pk}/bundle", **auth(lighthouse_token))

    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor_organisation=lighthouse).count() == 1


@pytest.mark.django_db
def test_export_without_consent_is_a_403(client, referral, sams_consent, alice):
    Consent.objects.filter(pk=sams_consent.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(alice)

    response = client.get(f"/api/v1/fhir/referrals/{referral.pk}/bundle")

    assert response.status_code == 403
    assert "consent" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.django_db
def test_export_by_someone_else_is_a_404(client, referral, beacon_token):
    assert client.get(f"/api/v1/fhir/referrals/{referral.pk}/bundle", **auth(beacon_token)).status_code == 404
    assert client.get(f"/api/v1/fhir/referrals/{referral.pk}/bundle").status_code == 401


# ---------------------------------------------------------------- documentation


@pytest.mark.django_db
def test_openapi_documents_the_fhir_endpoints(client):
    document = client.get("/api/openapi.json").json()

    paths = document["paths"]
    assert set(paths["/api/v1/fhir/Task"]) == {"get"}
    assert set(paths["/api/v1/fhir/Task/{task_id}"]) == {"get", "put", "patch"}
    assert "get" in paths["/api/v1/fhir/referrals/{referral_id}/bundle"]
    patch_doc = paths["/api/v1/fhir/Task/{task_id}"]["patch"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(patch_doc["responses"])
    assert "status" in patch_doc["requestBody"]["content"]["application/fhir+json"]["schema"]["properties"]
    assert patch_doc["requestBody"]["content"]["application/json-patch+json"]["schema"]["type"] == "array"
    assert any(
        scheme.get("scheme") == "bearer" for scheme in document["components"]["securitySchemes"].values()
    )


@pytest.mark.django_db
def test_organisations_are_untouched_by_reading(client, referral, lighthouse, lighthouse_token):
    before = Organisation.objects.get(pk=lighthouse.pk).api_token_hash
    client.get(TASKS, **auth(lighthouse_token))
    assert Organisation.objects.get(pk=lighthouse.pk).api_token_hash == before


# ---------------------------------------------------------------- more updating and paging


@pytest.mark.django_db
def test_a_milestone_alone_leaves_the_status(client, referral, lighthouse_token):
    Referral.objects.filter(pk=referral.pk).update(status=TaskStatus.IN_PROGRESS)
    body = {"businessStatus": {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": "attending-regularly"}]}}

    response = patch(client, referral.pk, lighthouse_token, body)

    assert response.status_code == 200
    saved = Referral.objects.get(pk=referral.pk)
    assert (saved.status, saved.business_status) == ("in-progress", "attending-regularly")


@pytest.mark.django_db
def test_a_reason_alone_is_refused(client, referral, lighthouse_token):
    response = patch(client, referral.pk, lighthouse_token, {"statusReason": {"text": "Busy"}})

    assert response.status_code == 400
    assert Referral.objects.get(pk=referral.pk).status_reason == ""


@pytest.mark.django_db
def test_an_overlong_reason_is_a_400_not_a_database_error(client, referral, lighthouse_token):
    response = patch(client, referral.pk, lighthouse_token, issue("rejected", reason="x" * 256))

    assert response.status_code == 400
    assert status_of(referral) == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_the_task_list_pages_with_a_next_link(client, referral, lighthouse_token):
    second = Referral.objects.get(pk=referral.pk)
    second.pk = None
    second.save()

    first_page = client.get(TASKS, {"_count": 1}, **auth(lighthouse_token)).json()
    assert first_page["total"] == 2
    assert len(first_page["entry"]) == 1
    (following,) = [link["url"] for link in first_page["link"] if link["relation"] == "next"]

    second_page = client.get(following, **auth(lighthouse_token)).json()
    assert len(second_page["entry"]) == 1
    assert second_page["entry"][0]["resource"]["id"] != first_page["entry"][0]["resource"]["id"]
    assert not [link for link in second_page["link"] if link["relation"] == "next"]


@pytest.mark.django_db
def test_csrf_is_not_asked_of_a_token_caller(referral, lighthouse_token):
    """The API's views are wrapped to answer a wrong method in JSON; they stay exempt from the
    CSRF check of form posts (the token is the credential; no cookie is involved)."""
    client = Client(enforce_csrf_checks=True)
    response = patch(client, referral.pk, lighthouse_token, issue("accepted"))
    assert response.status_code == 200, response.content[:300]
    assert status_of(referral) == TaskStatus.ACCEPTED
    task = client.get(f"{TASKS}/{referral.pk}", **auth(lighthouse_token))
    put = client.put(
        f"{TASKS}/{referral.pk}",
        json.dumps({**task.json(), "status": "in-progress"}),
        content_type="application/fhir+json",
        HTTP_IF_MATCH=task["ETag"],
        **auth(lighthouse_token),
    )
    assert put.status_code == 200, put.content[:300]
    found = client.post(
        f"{TASKS}/_search",
        "status=in-progress",
        content_type="application/x-www-form-urlencoded",
        **auth(lighthouse_token),
    )
    assert found.status_code == 200 and found.json()["total"] == 1


@pytest.mark.parametrize("task_id", ["%C2%B3", "%D9%A3", "12%C2%B3"])
def test_an_id_of_other_scripts_digits_is_a_404_not_a_500(client, referral, lighthouse_token, task_id):
    """Found by Schemathesis: "³" passes str.isdigit() but not int(); the read must say not found."""
    response = client.get(
        f"/api/v1/fhir/Task/{task_id}", **auth(lighthouse_token), HTTP_IF_NONE_MATCH='W/"W!h"'
    )
    assert response.status_code == 404
