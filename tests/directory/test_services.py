"""HSDS services that are not meetings kept as services (issue 16, item 6).

Two feeds: the specification's own example (a counselling service, kept with
its fields, its impossible coordinates dropped) and a made-up Boston-area feed
of recovery services in every category, with one support group that must stay
a meeting.
"""

import copy
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from recoverybridge.directory.actions import imports
from recoverybridge.directory.feeds import hsds
from recoverybridge.directory.models import FeedSource, ImportRun, Meeting, Service

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hsds"
SPEC = FIXTURES / "service_full.json"
RECOVERY = FIXTURES / "recovery_services.json"


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def run_import(path: Path, source: str = "boston-services", **options) -> str:
    out = io.StringIO()
    call_command(
        "import_feed", str(path), format="hsds", source=source, fellowship="smart",
        timezone="America/New_York", no_progress=True, stdout=out, **options,
    )  # fmt: skip
    return out.getvalue()


def write(tmp_path: Path, data, name: str = "feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_every_category_is_read_from_types_and_taxonomy_terms():
    parsed = hsds.parse(load(RECOVERY))
    assert {service.name: service.category for service in parsed.services} == {
        "Cambridge Withdrawal Management": "detox",
        "Somerville Opioid Treatment Program": "moud-prescriber",
        "Boston Outpatient Recovery": "treatment",
        "Jamaica Plain Sober House": "recovery-housing",
        "Lowell Recovery Community Center": "recovery-community",
        "Cambridge Syringe Services and Naloxone": "harm-reduction",
        "Quincy Recovery Residence": "recovery-housing",
    }
    # The support group is a meeting, not a service.
    assert {record.name for record in parsed.records} == {"Tuesday Night Support Group"}


def test_the_specifications_example_is_kept_with_its_fields():
    (service,) = hsds.parse(load(SPEC)).services
    assert (service.hsds_id, service.name, service.category) == (
        "ac148810-d857-441c-9679-408f346de14b", "Community Counselling", "other",
    )  # fmt: skip
    assert (service.organization_name, service.organization_id) == (
        "Example Organization Inc.", "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610",
    )  # fmt: skip
    assert service.alternate_name == "MyCity Counselling Services"
    assert (service.email, service.url) == ("email@example.com", "http://example.com/counselling")
    assert service.phones == "+44 1234 234567"
    assert service.schedules.startswith("The service is available from 10 am to 6pm weekdays.")
    assert service.languages == "ur"
    assert service.location is not None
    assert (service.location.name, service.location.city, service.location.address) == (
        "MyCity Civic Center", "MyCity", "1-30 Main Street, MyVillage",
    )  # fmt: skip
    # Latitude 100 cannot be on the map: the service is kept, without coordinates.
    assert (service.location.latitude, service.location.longitude) == (None, None)


@pytest.mark.django_db
def test_import_keeps_services_with_counts_in_the_report(tmp_path):
    report = run_import(RECOVERY)
    run = ImportRun.objects.get(feed_source__name="boston-services")
    assert (run.status, run.created) == ("succeeded", 1)
    assert (run.services_created, run.services_updated, run.services_unchanged, run.services_gone) == (
        7, 0, 0, 0,
    )  # fmt: skip
    assert "services (not meetings): 7 created, 0 updated, 0 unchanged, 0 no longer listed." in report
    assert Meeting.objects.filter(name="Tuesday Night Support Group").exists()
    assert not Service.objects.filter(name="Tuesday Night Support Group").exists()
    detox = Service.objects.get(name="Cambridge Withdrawal Management")
    assert detox.feed_source == FeedSource.objects.get(name="boston-services")
    assert (detox.category, detox.organization_name, detox.city, detox.postal_code) == (
        "detox", "Charles River Health", "Cambridge", "02142",
    )  # fmt: skip
    assert (detox.latitude, detox.longitude) == (42.3656, -71.1040)
    assert detox.phone_numbers == ["+1 617 555 0101"]
    assert detox.schedules == "Weekdays 8am to 5pm"
    assert detox.formatted_address == "100 Main St, Cambridge, MA 02142, US"
    assert "Detoxification" in detox.taxonomy


@pytest.mark.django_db
def test_one_hsds_id_is_one_service_upserted_and_nothing_deleted(tmp_path):
    run_import(RECOVERY)
    first_ids = dict(Service.objects.values_list("hsds_id", "id"))
    run_import(RECOVERY)
    again = ImportRun.objects.filter(feed_source__name="boston-services").first()
    assert again is not None
    assert (again.services_created, again.services_updated, again.services_unchanged) == (0, 0, 7)

    changed = load(RECOVERY)
    detox = next(s for s in changed["contents"] if s["name"] == "Cambridge Withdrawal Management")
    detox["description"] = "Now also for benzodiazepines."
    changed["contents"] = [s for s in changed["contents"] if s["name"] != "Quincy Recovery Residence"]
    run_import(write(tmp_path, changed))
    third = ImportRun.objects.filter(feed_source__name="boston-services").first()
    assert third is not None
    assert (third.services_created, third.services_updated, third.services_unchanged, third.services_gone) == (
        0, 1, 5, 1,
    )  # fmt: skip
    assert dict(Service.objects.values_list("hsds_id", "id")) == first_ids  # same rows, none deleted
    assert (
        Service.objects.get(name="Cambridge Withdrawal Management").description
        == "Now also for benzodiazepines."
    )
    assert not Service.objects.get(name="Quincy Recovery Residence").listed

    # The same service from another file is the same service, now from that source.
    run_import(RECOVERY, source="other-file")
    assert Service.objects.count() == 7
    assert Service.objects.get(name="Quincy Recovery Residence").listed


@pytest.mark.django_db
def test_a_feed_of_services_only_is_imported_and_a_refused_feed_changes_no_service(tmp_path):
    only = load(RECOVERY)
    only["contents"] = [s for s in only["contents"] if s["name"] != "Tuesday Night Support Group"]
    run_import(write(tmp_path, only), source="services-only")
    run = ImportRun.objects.get(feed_source__name="services-only")
    assert (run.status, run.records_read, run.services_created) == ("succeeded", 0, 7)

    source = FeedSource.objects.get(name="services-only")
    bad = copy.deepcopy(only)
    for service in bad["contents"]:
        service["description"] = "changed"
    parsed = hsds.parse(bad)
    # Mostly broken meetings: the whole feed is refused, its services with it.
    parsed.rejections.extend(hsds.Rejection(key=f"x{n}", reason="broken") for n in range(5))
    failed = imports.import_feed(source, parsed, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert failed.status == "failed"
    assert not Service.objects.filter(description="changed").exists()


@pytest.mark.django_db
def test_the_specifications_example_imports_as_a_service(tmp_path):
    run_import(SPEC, source="spec")
    service = Service.objects.get()
    assert (service.name, service.category, service.latitude) == ("Community Counselling", "other", None)
    assert not Meeting.objects.exists()


# Search by place and category (/services/ and /services.json).


@pytest.fixture
def boston(db):
    run_import(RECOVERY)


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["services"]]


def test_search_by_place_and_category(boston):
    client = Client()
    page = client.get("/services/", {"where": "Cambridge", "category": "detox"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cambridge Withdrawal Management" in html
    assert "Cambridge Syringe Services" not in html
    assert "1 service near Cambridge" in html
    assert "km away" in html
    nearby = names(client.get("/services.json", {"where": "Cambridge"}))
    # Nearest first, within 25 km: Lowell (35 km) is too far.
    assert set(nearby[:2]) == {"Cambridge Syringe Services and Naloxone", "Cambridge Withdrawal Management"}
    assert nearby[2:] == [
        "Somerville Opioid Treatment Program",
        "Boston Outpatient Recovery",
        "Jamaica Plain Sober House",
        "Quincy Recovery Residence",
    ]
    wider = names(client.get("/services.json", {"where": "Cambridge", "radius": "50"}))
    assert "Lowell Recovery Community Center" in wider


def test_places_come_from_meetings_and_from_services(boston):
    client = Client()
    # Lowell has a meeting: the finder's own place lookup.
    lowell = client.get("/services.json", {"where": "Lowell", "radius": "5"}).json()
    assert [item["name"] for item in lowell["services"]] == ["Lowell Recovery Community Center"]
    assert lowell["services"][0]["distance_km"] == 0.0
    # Somerville has only a service; its postcode works too.
    assert names(
        client.get("/services.json", {"where": "02143", "radius": "5", "category": "moud-prescriber"})
    ) == ["Somerville Opioid Treatment Program"]


def test_every_category_alone_and_no_place(boston):
    client = Client()
    housing = names(client.get("/services.json", {"category": "recovery-housing"}))
    assert housing == ["Jamaica Plain Sober House", "Quincy Recovery Residence"]
    assert len(names(client.get("/services.json"))) == 7


def test_services_no_longer_listed_or_inactive_are_not_found(boston, tmp_path):
    feed = load(RECOVERY)
    feed["contents"] = [s for s in feed["contents"] if s["name"] != "Quincy Recovery Residence"]
    for service in feed["contents"]:
        if service["name"] == "Jamaica Plain Sober House":
            service["status"] = "inactive"
    run_import(write(tmp_path, feed))
    assert names(Client().get("/services.json", {"category": "recovery-housing"})) == []
    assert Service.objects.filter(category="recovery-housing").count() == 2  # kept, not shown


def test_bad_input_is_a_clear_error_not_a_500(boston):
    client = Client()
    page = client.get("/services/", {"category": "brain-surgery", "radius": "7"})
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert client.get("/services.json", {"where": "x" * 500}).status_code == 400
    unknown = client.get("/services/", {"where": "Atlantis"})
    assert unknown.status_code == 200
    assert "No place called “Atlantis” is known to the directory." in unknown.content.decode()
    assert client.get("/services.json", {"where": "Atlantis"}).json() == {
        "place": None,
        "place_unknown": True,
        "services": [],
    }


def test_the_page_in_spanish(boston):
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get("/services/", {"where": "Cambridge"})
    assert page.status_code == 200
    assert '<html lang="es"' in page.content.decode()


def test_the_admin_lists_services_read_only(boston, admin_client):
    page = admin_client.get("/admin/directory/service/", {"category__exact": "detox"})
    assert page.status_code == 200
    assert "Cambridge Withdrawal Management" in page.content.decode()
    assert "Boston Outpatient Recovery" not in page.content.decode()
