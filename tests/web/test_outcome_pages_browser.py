"""The outcome pages in a real browser (Debian's Chromium, Playwright, axe-core), with
screenshots at phone and desktop widths in test-artifacts/screenshots/outcomes-*.png.

Pat gets a Spanish BARC-10 link from Bob and completes it on a phone-sized screen, one
question a screen; then Bob looks at Pat's trajectories."""

import datetime
import re

import pytest
from django.utils import timezone

from recoverybridge.outcomes import actions
from recoverybridge.outcomes.models import Response, ResponseStatus
from tests.care_world import build_world
from tests.web.test_browser import PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)
from tests.web.test_staff_browser import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(transactional_db):
    world = build_world()
    world.bob.set_password(PASSWORD)
    world.bob.save()
    return world


def test_pat_completes_barc_10_in_spanish_on_a_phone(live_server, page, world):  # noqa: F811
    _invitation, token = actions.create_invitation(
        world.bob, world.pat, instrument_id="barc-10", language="es"
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/q/{token}/")
    page.get_by_role("heading", name="Su cuestionario", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Pat" not in page.content()
    assert page.get_by_text("Pregunta 1 de 10").is_visible()
    screenshots(page, "outcomes-self-question")

    page.get_by_label("Totalmente de acuerdo").check()
    page.get_by_role("button", name="Guardar y continuar").click()
    page.get_by_text("Pregunta 2 de 10").wait_for()
    # Nothing is lost on the way: back to question 1, the answer is still chosen.
    page.get_by_role("button", name="Atrás").click()
    page.get_by_text("Pregunta 1 de 10").wait_for()
    assert page.get_by_label("Totalmente de acuerdo").is_checked()
    page.get_by_role("button", name="Guardar y continuar").click()
    for n in range(2, 11):
        page.get_by_text(f"Pregunta {n} de 10").wait_for()
        page.get_by_label("De acuerdo", exact=True).check()
        page.get_by_role("button", name=re.compile("Guardar y (continuar|terminar)")).click()
    page.get_by_role("heading", name="Envíe sus respuestas").wait_for()
    assert page.get_by_text("Ha respondido 10 de 10 preguntas.").is_visible()
    screenshots(page, "outcomes-self-finish")
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.get_by_role("heading", name="Gracias").wait_for()
    screenshots(page, "outcomes-self-thanks")

    response = Response.objects.get()
    assert response.status == ResponseStatus.COMPLETED and response.language == "es"
    assert response.scores["total"] == 6 + 9 * 5

    page.goto(f"{live_server.url}/q/{token}/")
    page.get_by_role("heading", name="Este enlace ya no funciona").wait_for()
    screenshots(page, "outcomes-self-gone")


def record_pats_trajectories(world) -> None:
    """Five monthly responses to each of the four instruments: four charts on Pat's outcomes page."""
    now = timezone.now()
    for months, (barc, days, supportive, meetings) in enumerate(
        [(5, 20, 2, 0), (3, 12, 4, 6), (4, 6, 6, 20), (5, 2, 8, 36), (6, 0, 9, 40)][::-1]
    ):
        at = now - datetime.timedelta(days=30 * months + 1)
        actions.record_response(
            world.bob, world.pat, "barc-10", {f"barc-{n}": str(barc) for n in range(1, 11)}, now=at
        )
        actions.record_response(world.bob, world.pat, "substance-use-28", {"days-alcohol": days}, now=at)
        actions.record_response(
            world.bob,
            world.pat,
            "social-network",
            {"network-size": 10, "in-recovery": 3, "supportive": supportive},
            now=at,
        )
        actions.record_response(
            world.bob,
            world.pat,
            "mutual-help",
            {"meetings": [{"meetings.fellowship": "other", "meetings.count": meetings}]},
            now=at,
        )


def test_bob_sees_pats_trajectories(live_server, page, world):  # noqa: F811
    record_pats_trajectories(world)
    actions.create_invitation(world.bob, world.pat, instrument_id="social-network")
    sign_in(page, live_server, f"/staff/people/{world.pat.pk}/outcomes/")
    page.get_by_role("heading", name="Outcomes", level=1).wait_for()
    assert page.get_by_role("img", name="Recovery capital (BARC-10 total)").is_visible()
    assert page.locator("svg.chart").count() == 4
    page.get_by_text(re.compile("^The numbers: 5 responses")).first.click()
    screenshots(page, "outcomes-person")

    # A half-filled form with a wrong answer comes back with the answers kept and the item named.
    page.get_by_role("link", name="Enter Your social network").click()
    page.get_by_role("heading", level=1, name="Your social network").wait_for()
    page.locator("#id_a_network-size").fill("4")
    page.locator("#id_a_in-recovery").fill("2")
    page.locator("#id_a_supportive").fill("6")
    page.get_by_role("button", name="Save response").click()
    page.get_by_role("alert").wait_for()
    assert page.locator("#id_a_network-size").input_value() == "4"
    assert page.locator("#id_a_supportive").get_attribute("aria-invalid") == "true"
    screenshots(page, "outcomes-enter-errors")
