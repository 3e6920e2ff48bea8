"""Services beyond meetings out again as Open Referral HSDS 3.0 (/api/v1/feeds/hsds/recovery-services),
valid against the published schemas, and a round trip: import -> export -> import keeps every
service as it was."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import Client

from recoverybridge.directory.models import Service
from tests.directory.test_export_hsds import assert_valid, validators  # noqa: F401  (fixture)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hsds"
PAGE = "/api/v1/feeds/hsds/recovery-services"
# What the import decides about a row rather than what the feed says.
BOOKKEEPING = {"id", "feed_source", "fingerprint", "first_seen", "last_seen", "listed"}


def run_import(path: Path, source: str) -> None:
    call_command(
        "import_feed", str(path), format="hsds", source=source, fellowship="smart",
        timezone="America/New_York", no_progress=True, stdout=io.StringIO(),
    )  # fmt: skip


def exported(query: str = "") -> dict:
    response = Client().get(f"{PAGE}?per_page=100{query}")
    assert response.status_code == 200, response.content
    return response.json()


def kept() -> dict[str, dict]:
    return {
        service.hsds_id: {k: v for k, v in model_to_dict(service).items() if k not in BOOKKEEPING}
        for service in Service.objects.all()
    }


@pytest.fixture
def imported(db) -> None:
    run_import(FIXTURES / "recovery_services.json", "boston-services")
    run_import(FIXTURES / "service_full.json", "spec")
    assert Service.objects.count() == 8


def test_the_export_is_valid_hsds(imported, validators):  # noqa: F811
    page = exported()
    assert_valid(validators["page"], page)
    assert page["total_items"] == page["size"] == 8
    for item in page["contents"]:
        assert_valid(validators["service"], item)
        assert_valid(validators["compiled"], item)
    detox = next(item for item in page["contents"] if item["name"] == "Cambridge Withdrawal Management")
    terms = {a["taxonomy_term"]["taxonomy"]: a["taxonomy_term"]["code"] for a in detox["attributes"]}
    assert terms == {"recoverybridge-service-category": "detox", "source": "Detoxification"}
    assert detox["organization"]["name"] == "Charles River Health"
    assert detox["service_at_locations"][0]["location"]["latitude"] == 42.3656
    # The schema does check: a service needs a status from its list.
    broken = dict(detox, status="open all hours")
    assert list(validators["service"].iter_errors(broken))


def test_filter_by_category_and_bad_input(imported):
    housing = exported("&category=recovery-housing")
    assert sorted(item["name"] for item in housing["contents"]) == [
        "Jamaica Plain Sober House",
        "Quincy Recovery Residence",
    ]
    assert Client().get(f"{PAGE}?category=surgery").status_code == 400
    assert Client().get(f"{PAGE}?per_page=5000").status_code == 400


def test_round_trip_import_export_import_keeps_every_service(imported, tmp_path):
    before = kept()
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(exported()), encoding="utf-8")
    Service.objects.all().delete()  # a fresh directory
    run_import(path, "ours")
    assert kept() == before
    # And again: nothing to change, nothing to add.
    run_import(path, "ours")
    assert kept() == before
    assert exported()["contents"] == json.loads(path.read_text(encoding="utf-8"))["contents"]
