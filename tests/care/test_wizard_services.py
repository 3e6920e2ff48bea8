"""Beside mutual aid in the referral wizard's options: the nearest services of a kind the worker
picks (treatment, recovery housing...), read-only, from what HSDS feeds published."""

from datetime import UTC, datetime

import pytest

from recoverybridge.directory.models import Service
from tests.care.wizard_steps import start, step_url

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def make_service(name: str, category: str, latitude: float, longitude: float, **fields) -> Service:
    return Service.objects.create(
        hsds_id=f"id-{name}", name=name, category=category, latitude=latitude, longitude=longitude,
        city="Lewes", fingerprint="x", first_seen=NOW, last_seen=NOW, **fields,
    )  # fmt: skip


@pytest.fixture
def services(db):
    # Pat lives in Lewes (50.873, 0.009).
    make_service("Lewes Detox Unit", "detox", 50.874, 0.010, phones="+44 1273 000001")
    make_service("Brighton Detox", "detox", 50.8225, -0.1372)  # about 11 km
    make_service("London Detox", "detox", 51.5072, -0.1276)  # about 70 km: too far
    make_service("Lewes Sober House", "recovery-housing", 50.873, 0.008)
    make_service("Closed Detox", "detox", 50.873, 0.009, listed=False)


def test_nearby_services_of_the_chosen_kind_beside_the_meetings(world, client, services):
    client.force_login(world.bob)
    draft, page = start(client, world.pat)
    options = step_url(draft, "options")
    body = page.content.decode()
    assert "Other services nearby" in body
    assert "Lewes Detox Unit" not in body  # nothing until a kind is chosen
    shown = client.get(options, {"service_category": "detox"}).content.decode()
    assert shown.index("Lewes Detox Unit") < shown.index("Brighton Detox")
    assert "+44 1273 000001" in shown
    assert "London Detox" not in shown
    assert "Closed Detox" not in shown
    assert "Lewes Sober House" not in shown
    housing = client.get(options, {"service_category": "recovery-housing"}).content.decode()
    assert "Lewes Sober House" in housing
    # Anything else is no choice at all, not an error.
    assert client.get(options, {"service_category": "<script>"}).status_code == 200


def test_without_a_place_the_worker_is_told_why(world, client, services):
    world.pat.latitude = world.pat.longitude = None
    world.pat.save()
    client.force_login(world.bob)
    _draft, page = start(client, world.pat)
    assert "Add where they live to their record to see services near them." in page.content.decode()
