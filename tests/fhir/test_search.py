"""Searching Lighthouse's Tasks never pretends: the total alone with _count=0, each supported
parameter filters, an unsupported one is a 400 (or, when the client prefers lenient handling,
left out of the search and of the self link with a warning), and the pages link up."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import Referral, ReferralTargetKind, TaskStatus

TASKS = "/api/v1/fhir/Task"


def auth(token, **headers):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


def search(client, token, params="", **headers):
    response = client.get(f"{TASKS}?{params}", **auth(token, **headers))
    return response


def ids(bundle):
    return [
        entry["resource"]["id"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"
    ]


def link(bundle, relation):
    found = [item["url"] for item in bundle["link"] if item["relation"] == relation]
    return found[0] if found else None


def query(url):
    return parse_qsl(urlsplit(url).query)


@pytest.fixture
def three(referral, navigators, beacon):
    """Sam's referral to Lighthouse (requested), and two more: accepted, and an internal one."""
    accepted = Referral.objects.create(
        person=referral.person,
        team=referral.team,
        referred_by=referral.referred_by,
        target_kind=ReferralTargetKind.OTHER_SERVICE,
        target_organisation=referral.target_organisation,
        status=TaskStatus.ACCEPTED,
        authored_on=timezone.now() - timedelta(hours=1),
    )
    Referral.objects.filter(pk=accepted.pk).update(updated_at=timezone.now() - timedelta(days=3))
    return [referral, accepted]


@pytest.mark.django_db
def test_count_zero_gives_the_total_alone_and_discloses_nothing(client, three, lighthouse_token):
    before = AuditEvent.objects.count()

    bundle = search(client, lighthouse_token, "_count=0").json()

    assert bundle["total"] == 2 and "entry" not in bundle
    assert AuditEvent.objects.count() == before
    summary = search(client, lighthouse_token, "_summary=count").json()
    assert summary["total"] == 2 and "entry" not in summary
    assert ("_summary", "count") in query(link(summary, "self"))
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_id_filters_and_the_self_link_says_so(client, three, lighthouse_token):
    first, second = three

    bundle = search(client, lighthouse_token, f"_id={second.pk}").json()

    assert ids(bundle) == [str(second.pk)] and bundle["total"] == 1
    assert ("_id", str(second.pk)) in query(link(bundle, "self"))
    several = search(client, lighthouse_token, f"_id={first.pk},{second.pk},nonsense").json()
    assert sorted(ids(several)) == sorted([str(first.pk), str(second.pk)])


@pytest.mark.django_db
def test_status_owner_and_requester(client, three, lighthouse, harbour, beacon, lighthouse_token):
    first, second = three

    assert ids(search(client, lighthouse_token, "status=accepted").json()) == [str(second.pk)]
    task_status = "http://hl7.org/fhir/task-status|requested"
    assert ids(search(client, lighthouse_token, f"status={task_status}").json()) == [str(first.pk)]
    assert search(client, lighthouse_token, f"owner=Organization/{lighthouse.pk}").json()["total"] == 2
    assert search(client, lighthouse_token, f"owner=Organization/{beacon.pk}").json()["total"] == 0
    assert search(client, lighthouse_token, f"requester={harbour.pk}").json()["total"] == 2
    absolute = f"http://testserver/api/v1/fhir/Organization/{harbour.pk}"
    assert search(client, lighthouse_token, f"requester={absolute}").json()["total"] == 2
    assert search(client, lighthouse_token, "requester=Practitioner/1").json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("_lastUpdated=ge{today}", ["first"]),
        ("_lastUpdated=gt{yesterday}", ["first"]),
        ("_lastUpdated=lt{today}", ["second"]),
        ("_lastUpdated=le{three_days_ago}", ["second"]),
        ("_lastUpdated=eq{three_days_ago}", ["second"]),
        ("_lastUpdated={three_days_ago}", ["second"]),
        ("_lastUpdated=ge{three_days_ago}&_lastUpdated=le{today}", ["first", "second"]),
        ("_lastUpdated=ge{four_days_ago}T00:00:00Z&_lastUpdated=lt{two_days_ago}", ["second"]),
        ("_lastUpdated=gt{today}", []),
    ],
)
@pytest.mark.django_db
def test_last_updated_with_prefixes(client, three, lighthouse_token, params, expected):
    first, second = three
    day = timezone.now().date()
    dates = {
        "today": day,
        "yesterday": day - timedelta(days=1),
        "two_days_ago": day - timedelta(days=2),
        "three_days_ago": day - timedelta(days=3),
        "four_days_ago": day - timedelta(days=4),
    }
    names = {"first": str(first.pk), "second": str(second.pk)}

    bundle = search(
        client, lighthouse_token, params.format(**{k: v.isoformat() for k, v in dates.items()})
    ).json()

    assert sorted(ids(bundle)) == sorted(names[name] for name in expected)


@pytest.mark.parametrize(
    "params",
    [
        "_lastUpdated=sa2024-01-01",
        "_lastUpdated=ge2024-13-01",
        "_lastUpdated=yesterday",
        "status=pending",
        "status=http://example.org/other|requested",
        "_count=-1",
        "_count=ten",
        "_offset=99999999999",
        "_summary=true",
        "_total=exact",
    ],
)
@pytest.mark.django_db
def test_bad_values_are_400s_naming_the_parameter(client, referral, lighthouse_token, params):
    response = search(client, lighthouse_token, params)

    assert response.status_code == 400, response.content
    assert response.json()["issue"][0]["expression"] == [params.split("=")[0]]


@pytest.mark.parametrize(
    "params", ["subject=Patient/1", "status:not=requested", "_sort=-_lastUpdated", "_include=Task:focus"]
)
@pytest.mark.django_db
def test_an_unsupported_parameter_is_a_400_not_ignored(client, referral, lighthouse_token, params):
    response = search(client, lighthouse_token, params)

    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["code"] == "not-supported" and issue["expression"] == [params.split("=")[0]]


@pytest.mark.django_db
def test_lenient_handling_leaves_it_out_and_says_so(client, three, lighthouse_token):
    _, second = three

    response = search(
        client, lighthouse_token, f"_id={second.pk}&subject=Patient/1", HTTP_PREFER="handling=lenient"
    )

    assert response.status_code == 200
    bundle = response.json()
    assert ids(bundle) == [str(second.pk)]
    names = [name for name, _ in query(link(bundle, "self"))]
    assert "subject" not in names and "_id" in names
    (warning,) = [entry for entry in bundle["entry"] if entry["search"]["mode"] == "outcome"]
    issue = warning["resource"]["issue"][0]
    assert (issue["severity"], issue["expression"]) == ("warning", ["subject"])
    # A supported parameter with a bad value is still refused: lenience is for the unknown.
    assert (
        search(client, lighthouse_token, "status=pending", HTTP_PREFER="handling=lenient").status_code == 400
    )


@pytest.mark.django_db
def test_paging_links_first_previous_next(client, referral, lighthouse_token):
    for _ in range(4):
        extra = Referral.objects.get(pk=referral.pk)
        extra.pk = None
        extra.save()

    first_page = search(client, lighthouse_token, "_count=2").json()
    second_page = client.get(link(first_page, "next"), **auth(lighthouse_token)).json()
    third_page = client.get(link(second_page, "next"), **auth(lighthouse_token)).json()

    assert first_page["total"] == 5
    seen = ids(first_page) + ids(second_page) + ids(third_page)
    assert len(seen) == len(set(seen)) == 5
    assert link(third_page, "next") is None
    assert dict(query(link(second_page, "previous")))["_count"] == "2"
    assert "_offset" not in dict(query(link(second_page, "first")))
    assert dict(query(link(second_page, "self")))["_offset"] == "2"


@pytest.mark.django_db
def test_a_count_above_the_most_is_capped_and_the_self_link_says_so(client, referral, lighthouse_token):
    bundle = search(client, lighthouse_token, "_count=5000").json()

    assert dict(query(link(bundle, "self")))["_count"] == "200"


@pytest.mark.django_db
def test_post_search_takes_a_form(client, three, lighthouse_token):
    _, second = three

    response = client.post(
        f"{TASKS}/_search", {"status": "accepted"}, **auth(lighthouse_token)
    )  # the test client posts multipart unless told
    assert response.status_code == 415
    response = client.post(
        f"{TASKS}/_search",
        "status=accepted",
        content_type="application/x-www-form-urlencoded",
        **auth(lighthouse_token),
    )

    assert response.status_code == 200, response.content
    assert ids(response.json()) == [str(second.pk)]
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(second.pk)).count() == 1


@pytest.mark.parametrize("prefer", ["", "handling=lenient"])
@pytest.mark.django_db
def test_a_parameter_with_no_name_is_named_as_nothing(client, referral, lighthouse_token, prefer):
    """Found by hypothesis: "?=ge2024-01-01" once made an OperationOutcome with an empty expression."""
    response = search(client, lighthouse_token, "=ge2024-01-01", HTTP_PREFER=prefer)

    assert response.status_code == (200 if prefer else 400)
    outcome = response.json() if not prefer else response.json()["entry"][-1]["resource"]
    assert "expression" not in outcome["issue"][0]
