"""Lighthouse lists Sam's Tasks: every Task listed is on Sam's audit trail, as if Lighthouse had
read each one, and the list costs the same number of queries for one Task as for forty."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import Referral, ReferralTargetKind, TaskStatus

TASKS = "/api/v1/fhir/Task"
# Everything an audit row holds but its id, its time and the request it came from.
SAME = [
    field.attname
    for field in AuditEvent._meta.concrete_fields
    if field.attname not in {"id", "at", "request_id", "seq", "seal"}  # seq, seal: place in the chain
]


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def more_referrals(referral, n):
    """n more referrals like Sam's first, each an hour older than the last."""
    return Referral.objects.bulk_create(
        Referral(
            person=referral.person,
            team=referral.team,
            referred_by=referral.referred_by,
            target_kind=ReferralTargetKind.OTHER_SERVICE,
            target_organisation=referral.target_organisation,
            consent=referral.consent,
            status=TaskStatus.REQUESTED,
            authored_on=timezone.now() - timedelta(hours=3 + i),
        )
        for i in range(n)
    )


def list_queries(client, token, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(TASKS, params, **auth(token))
    assert response.status_code == 200, response.content[:300]
    return response, len(queries.captured_queries)


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_tasks_listed(client, referral, lighthouse_token):
    one, few = list_queries(client, lighthouse_token)
    assert one.json()["total"] == 1

    more_referrals(referral, 39)
    forty, many = list_queries(client, lighthouse_token)
    assert len(forty.json()["entry"]) == 40

    assert many == few
    # A later page costs the same too.
    page, later = list_queries(client, lighthouse_token, _count=10, _offset=20)
    assert len(page.json()["entry"]) == 10
    assert later == few


@pytest.mark.django_db
def test_a_page_of_fifty_tasks_takes_a_handful_of_queries(
    client, referral, lighthouse_token, django_assert_max_num_queries
):
    more_referrals(referral, 60)
    # The address's failed-token count (shared by every web process, so read from the database),
    # the token, the count, the page, and the audit: the chain's head locked and moved on, and one
    # INSERT (before: one INSERT per Task, 55 queries here); the test's transaction adds a
    # savepoint and its release around the audit.
    with django_assert_max_num_queries(9):
        response = client.get(TASKS, **auth(lighthouse_token))
    assert len(response.json()["entry"]) == 50


@pytest.mark.django_db
def test_each_task_listed_is_audited_as_reading_it_would_be(client, referral, lighthouse, lighthouse_token):
    more_referrals(referral, 4)
    before = AuditEvent.objects.count()  # issuing the token is on the trail too
    listed = client.get(TASKS, {"_count": 3}, **auth(lighthouse_token))
    ids = [entry["resource"]["id"] for entry in listed.json()["entry"]]
    from_list = list(AuditEvent.objects.order_by("id")[before:])
    assert [event.object_id for event in from_list] == ids  # one row per Task, in the page's order

    for task_id, listed_event in zip(ids, from_list, strict=True):
        read = client.get(f"{TASKS}/{task_id}", **auth(lighthouse_token))
        assert read.status_code == 200
        read_event = AuditEvent.objects.order_by("-id").first()
        assert {name: getattr(listed_event, name) for name in SAME} == {
            name: getattr(read_event, name) for name in SAME
        }
        assert read_event.request_id == read["X-Request-ID"]

    first = from_list[0]
    assert first.action == AuditAction.VIEW and first.object_type == "care.referral"
    assert first.actor is None and first.actor_organisation == lighthouse
    assert first.person_id == referral.person_id
    # One list, one request, one instant.
    assert {event.request_id for event in from_list} == {listed["X-Request-ID"]}
    assert len({event.at for event in from_list}) == 1


@pytest.mark.django_db
def test_an_empty_list_writes_nothing(client, referral, beacon_token):
    before = AuditEvent.objects.count()  # issuing the token
    assert client.get(TASKS, **auth(beacon_token)).json()["total"] == 0
    assert AuditEvent.objects.count() == before
