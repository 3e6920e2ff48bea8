"""The OpenAPI document is the contract: Schemathesis generates requests from the whole document
(valid ones and ones that break it) and sends them to the app in-process, as a receiving
organisation with its API token, so that the FHIR endpoints' own logic runs and not only the
token check. Every answer must be no 5xx, a status code the document lists for the operation, in a
content type it lists, with a body and headers that match its schema; a request the document calls
invalid must be refused with a 4xx. The ids in paths are now and then those of real records (a
meeting, the referral sent to the organisation, its person, consent and the organisation), so
that reads, updates and exports of real resources are fuzzed too.

A request the document calls valid may still be refused with a 400 when its value is unknown to
the data (a fellowship or attribute slug, a language, a Task whose id is not the URL's), which no
schema can say; Schemathesis' positive_data_acceptance check is left out here for that reason.
`test_what_the_search_document_calls_valid_is_accepted` checks it for the search's own
parameters (times, instants, ranges, enums).
"""

import json
import zlib
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from recoverybridge.accounts.actions import issue_api_token
from recoverybridge.api import api
from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    Person,
    Referral,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.directory.exports import hsds
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from tests.factories import make_meeting

# The document as /api/openapi.json serves it (test_the_served_document_is_the_one_fuzzed).
DOCUMENT = json.loads(json.dumps(api.get_openapi_schema()))
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = WSGIHandler()
# DSTU2's FHIR JSON type, which a Task update still takes, is JSON.
schemathesis.serializer.alias("application/json+fhir", "application/json")

# Bounded: 22 operations, each with its examples, the coverage phase's edge cases and this many
# generated requests.
FUZZ = settings(
    max_examples=10,
    deadline=None,
    database=None,  # nothing written to the working tree
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def in_the_test_transaction(db):
    """The app answers on the test's own connection, inside its transaction (pytest-django's `db`),
    as Django's test client runs it: the handler's "close old connections" at the start and end of
    each request would otherwise close that connection (on PostgreSQL; an in-memory SQLite one is
    never closed)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(in_the_test_transaction, settings):
    """A meeting, and a referral from Harbour Detox to Lighthouse Recovery under Sam's consent."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]  # Schemathesis' WSGI client; Django's
    # The fuzzer sends bad tokens on purpose: the throttle's 429 would soon answer everything.
    settings.API_TOKEN_FAILURES_ALLOWED = 10**9
    cache.clear()
    meeting = make_meeting(name="Harbour Lights Group")
    harbour = Organisation.objects.create(name="Harbour Detox", kind=OrganisationKind.TREATMENT)
    lighthouse = Organisation.objects.create(name="Lighthouse Recovery", kind=OrganisationKind.PEER_RECOVERY)
    team = Team.objects.create(organisation=harbour, name="Navigators")
    alice = get_user_model().objects.create_user("alice", password="correct horse battery staple")
    sam = Person.objects.create(team=team, reference="P-7Q2K", given_name="Sam", family_name="Rivers")
    consent = Consent.objects.create(
        person=sam,
        purpose=ConsentPurpose.REFERRAL,
        recipient=lighthouse,
        scope="The referral and my first name",
        given_at=timezone.now() - timedelta(days=1),
        expires_at=timezone.now() + timedelta(days=90),
        recorded_by=alice,
    )
    referral = Referral.objects.create(
        person=sam,
        team=team,
        referred_by=alice,
        target_kind=ReferralTargetKind.MEETING,
        meeting=meeting,
        fellowship=meeting.fellowship,
        target_organisation=lighthouse,
        consent=consent,
        reason="Wants a meeting near home after detox",
        status=TaskStatus.REQUESTED,
        authored_on=timezone.now() - timedelta(hours=2),
    )
    yield {
        "token": issue_api_token(lighthouse),
        "referral": referral,
        "ids": {
            "meeting_id": str(meeting.pk),
            "service_id": hsds.service_id(meeting.pk),
            "task_id": str(referral.pk),
            "request_id": str(referral.pk),
            "referral_id": str(referral.pk),
            "patient_id": sam.reference,
            "consent_id": str(consent.pk),
            "organization_id": str(lighthouse.pk),
        },
    }
    cache.clear()


def _now_and_then(case) -> bool:
    """Half of the cases, the same ones on every run (Python's own hash changes per process)."""
    return zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode()) % 2 == 0


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_every_answer_keeps_the_document(case, world):
    if case.path_parameters and _now_and_then(case):
        case.path_parameters = {
            name: world["ids"].get(name, value) for name, value in case.path_parameters.items()
        }
        if case.headers and "If-Match" in case.headers:
            world["referral"].refresh_from_db()
            case.headers["If-Match"] = f'W/"{world["referral"].version}"'
    case.call_and_validate(
        headers={"Authorization": f"Bearer {world['token']}"},
        excluded_checks=[positive_data_acceptance],
    )


SEARCHES = [
    operation.ok()
    for operation in schema.get_all_operations()
    if operation.ok().path in {"/api/v1/meetings", "/api/v1/meetings.ics"}
]
# Valid values of these come from the data (/api/v1/fellowships, /api/v1/attributes) or are
# ISO 639-1 codes (the two language parameters).
VOCABULARY = {"fellowship", "attribute", "language", "prefer_language"}


def within_the_rules_in_words(query):
    """The search's rules across parameters, which its description states and no parameter schema
    can: lat and lon together; radius_km and sort=distance only with them."""
    query = {name: value for name, value in (query or {}).items() if name not in VOCABULARY}
    if ("lat" in query) != ("lon" in query):
        query.pop("lat", None)
        query.pop("lon", None)
    if "lat" not in query:
        query.pop("radius_km", None)
        if query.get("sort") == "distance":
            query.pop("sort")
    return query


@pytest.mark.django_db
@pytest.mark.parametrize("operation", SEARCHES, ids=lambda operation: operation.path)
def test_what_the_search_document_calls_valid_is_accepted(operation, world):
    @FUZZ
    @given(case=operation.as_strategy())
    def search(case):
        case.query = within_the_rules_in_words(case.query)
        response = case.call()
        assert response.status_code == 200, (case.query, response.text[:300])

    search()


def test_the_served_document_is_the_one_fuzzed(client, world):
    assert client.get("/api/openapi.json").json() == DOCUMENT
