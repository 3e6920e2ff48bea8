"""Keep and share, in a real browser (Debian's Chromium, Playwright, axe-core).

Sam finds the Lewes meetings on a phone, shares one (this Chromium has no Web Share API, so the
link is copied, and the page says so), saves another on the phone (no account), and later opens
the last search and the saved meeting with no signal: the copies say when they were saved. The
service worker never keeps a staff page, a private /q/ link or an API answer. Each journey runs at
375 and 1280 px, in English and Spanish; screenshots go to test-artifacts/screenshots/keep-*.png.
"""

import re
import shutil
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DESKTOP,
    PHONE,
    chromium,
    screenshots,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]

LOCALES = {"en": "en-GB", "es": "es-ES"}
TEXT = {
    "en": {
        "share": "Share",
        "copied": "Link copied. You can paste it into a message.",
        "save": "Save on this device",
        "remove": "Remove from saved meetings",
        "saved": "Saved meetings",
        "saved_on": "Saved on ",
        "offline": "You are offline. Saved on ",
        "offline_page": "You are offline",
        "empty": "You have not saved a meeting on this device yet.",
        "search": "Search",
        "place": "Town, city or postcode",
    },
    "es": {
        "share": "Compartir",
        "copied": "Enlace copiado. Puede pegarlo en un mensaje.",
        "save": "Guardar en este dispositivo",
        "remove": "Quitar de las reuniones guardadas",
        "saved": "Reuniones guardadas",
        "saved_on": "Guardada el ",
        "offline": "Está sin conexión. Guardada el ",
        "offline_page": "Está sin conexión",
        "empty": "Todavía no ha guardado ninguna reunión en este dispositivo.",
        "search": "Buscar",
        "place": "Localidad, ciudad o código postal",
    },
}


@pytest.fixture
def directory(transactional_db):
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    library = make_location(name="Lewes Library", city="Lewes", postal_code="19958")
    return {
        "serenity": make_meeting("aa", name="Lewes Serenity", location=library),
        "smart": make_meeting("smart", name="Lewes SMART", location=library, start_time=time(18, 0)),
        "mara": make_meeting("mara", name="Lewes MARA", location=library, moud_stance="welcoming"),
    }


@pytest.fixture(params=[("en", PHONE), ("es", DESKTOP)], ids=["en-375", "es-1280"])
def visitor(request, chromium, live_server):  # noqa: F811  (the fixture)
    language, viewport = request.param
    context = chromium.new_context(viewport=viewport, locale=LOCALES[language], timezone_id="Europe/London")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.language = language  # type: ignore[attr-defined]
    page.words = TEXT[language]  # type: ignore[attr-defined]
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(str(error)))  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.problems.append(m.text),  # type: ignore[attr-defined]
    )
    yield page
    assert page.problems == []  # type: ignore[attr-defined]
    context.close()


def eventually(page, script: str) -> None:
    """Wait until a promise-returning expression is true (Playwright's own wait treats a promise
    as true at once)."""
    for _ in range(100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def kept(page) -> list[str]:
    """Every address the service worker keeps, in all its caches."""
    return page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )


def test_share_falls_back_to_copying_the_link(live_server, visitor, directory):
    page, words = visitor, visitor.words
    meeting = directory["smart"]
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/?tz=Europe/London")
    assert page.evaluate("() => typeof navigator.share") == "undefined"  # no Web Share in this browser
    page.get_by_role("button", name=words["share"]).click()
    page.locator("#keep-status").filter(has_text=words["copied"]).wait_for()
    # The address shared is the meeting's own, without the visitor's time zone.
    assert (
        page.evaluate("() => navigator.clipboard.readText()") == f"{live_server.url}/meetings/{meeting.pk}/"
    )
    screenshots(page, f"keep-shared-{page.language}")


def test_a_saved_meeting_is_still_saved_after_a_reload(live_server, visitor, directory):
    page, words = visitor, visitor.words
    meeting = directory["mara"]
    page.goto(f"{live_server.url}/saved/")
    page.locator("#saved-meetings .empty").filter(has_text=words["empty"]).wait_for()
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    page.get_by_role("button", name=words["save"]).click()
    page.get_by_role("button", name=words["remove"]).wait_for()
    assert page.locator("#keep-status").inner_text() != ""
    page.reload()
    page.get_by_role("button", name=words["remove"]).wait_for()  # kept on the device
    page.get_by_role("navigation").get_by_role("link", name=words["saved"]).click()
    saved = page.locator("#saved-meetings li.saved-meeting")
    saved.first.wait_for()
    assert saved.count() == 1
    assert saved.get_by_role("link").inner_text() == "Lewes MARA"
    assert words["saved_on"] in saved.inner_text()
    screenshots(page, f"keep-saved-{page.language}")
    saved.get_by_role("button").click()
    page.locator("#saved-meetings .empty").wait_for()
    page.reload()
    page.locator("#saved-meetings .empty").wait_for()


def test_the_last_search_and_a_saved_meeting_open_offline(live_server, visitor, directory):
    page, words = visitor, visitor.words
    page.goto(live_server.url + "/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.get_by_label(words["place"]).fill("Lewes")
    page.get_by_role("button", name=words["search"], exact=True).click()
    page.wait_for_url(re.compile(r"where=Lewes"))
    search = page.url
    eventually(page, f"caches.open('rb-pages').then(c => c.match({search!r})).then(Boolean)")
    page.get_by_role("link", name="Lewes SMART").click()
    page.get_by_role("button", name=words["save"]).click()
    meeting = page.url
    eventually(page, "caches.open('rb-saved').then(c => c.keys()).then(k => k.length === 1)")

    # Pages the worker must never keep, visited while online.
    for private in ("/api/v1/meetings?mode=online", "/q/not-a-real-token/", "/staff/", "/accounts/login/"):
        page.goto(live_server.url + private)
    page.goto(live_server.url + "/")
    addresses = {urlsplit(url)._replace(query="").geturl() for url in kept(page)}
    assert not [url for url in addresses if re.search(r"/(api|q|staff|accounts|editor|admin)/", url)]

    page.context.set_offline(True)
    page.goto(search)
    note = page.locator(".offline-note")
    assert note.inner_text().startswith(words["offline"])
    assert re.search(r"\d{1,2}:\d{2}", note.inner_text())  # the time it was fetched
    assert {"Lewes SMART", "Lewes Serenity", "Lewes MARA"} <= set(
        page.locator("#results ol.results .result-name a").all_inner_texts()
    )
    screenshots(page, f"keep-offline-search-{page.language}")
    page.goto(meeting)
    assert page.get_by_role("heading", level=1).inner_text() == "Lewes SMART"
    assert page.locator(".offline-note").inner_text().startswith(words["offline"])
    # A meeting that was not saved: the offline page, with the way to what was.
    page.goto(f"{live_server.url}/meetings/{directory['serenity'].pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == words["offline_page"]
    page.locator("#last-search a").wait_for()
    screenshots(page, f"keep-offline-page-{page.language}")
    # A page the worker does not answer for is simply unreachable offline.
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto(live_server.url + "/staff/")
    page.context.set_offline(False)
