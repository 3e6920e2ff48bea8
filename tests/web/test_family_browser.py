"""A relative looking for help, and the finder's pages by keyboard, in a real browser.

At 320, 375 and 1280 px, in English and Spanish: "Family and friends" as a kind of group finds
Al-Anon, whose page has no MOUD card, and "Which group is for me?" keeps the place searched.
By keyboard alone: the language select does not switch the page on an arrow key (WCAG 3.2.2),
and a report of a change with errors puts focus on the error summary. English meeting names on
Spanish pages carry lang="en" (3.1.2); the MOUD filter's label stays on screen at 320 px with
200% text. axe runs on every page; screenshots go to test-artifacts/screenshots/family-*.
"""

import re
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    SCREENSHOTS,
    check_accessibility,
    chromium,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]

WIDTHS = {
    "320": {"width": 320, "height": 700},
    "375": {"width": 375, "height": 812},
    "1280": {"width": 1280, "height": 900},
}
LOCALES = {"en": "en-US", "es": "es-ES"}
WORDS = {
    "en": {
        "approach": "Approach",
        "family": "Family and friends",
        "more": "More choices",
        "which": "Which group is for me?",
        "find_family": "Find groups for family and friends",
        "for_family": "For family and friends",
        "send": "Send report",
        "report": "Something wrong? Report a change",
    },
    "es": {
        "approach": "Enfoque",
        "family": "Familiares y amistades",
        "more": "Más opciones",
        "which": "¿Qué grupo es para mí?",
        "find_family": "Buscar grupos para familiares y amistades",
        "for_family": "Para familiares y amistades",
        "send": "Enviar aviso",
        "report": "¿Algo está mal? Comunique un cambio",
    },
}


@pytest.fixture
def directory(transactional_db):
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    lewes = make_location(name="Lewes Library", city="Lewes", postal_code="19958")
    return {
        "al-anon": make_meeting(
            "al-anon", name="Lewes Serenity Al-Anon", location=lewes, attributes=("language-en", "open")
        ),
        "aa": make_meeting(
            "aa", name="Lewes Big Book", location=lewes, attributes=("language-en",), moud_stance="welcoming"
        ),
        "spanish": make_meeting("na", name="Grupo Renacer", location=lewes, attributes=("language-es",)),
    }


@pytest.fixture
def browse(chromium):  # noqa: F811  (the fixture imported above)
    """A new page in a language and at a width: browse("es", "320")."""
    contexts = []

    def open_page(language: str = "en", width: str = "1280"):
        context = chromium.new_context(
            viewport=WIDTHS[width], locale=LOCALES[language], timezone_id="America/New_York"
        )
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.csp_violations.append(message.text)
            ),  # type: ignore[attr-defined]
        )
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            assert page.csp_violations == []  # type: ignore[attr-defined]
        context.close()


def shot(page, name: str) -> None:
    """axe on the page as it is, then a full-page picture for a person to look at."""
    check_accessibility(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"family-{name}.png"), full_page=True)


def fits(page) -> bool:
    """Nothing runs off the side of the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def result_names(page) -> list[str]:
    return page.locator("#results ol.results").first.locator(".result-name a").all_inner_texts()


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", list(LOCALES))
def test_a_relative_finds_al_anon_near_them(live_server, browse, directory, language, width):
    words = WORDS[language]
    page = browse(language, width)
    page.goto(f"{live_server.url}/?where=Lewes")
    page.locator("#results-heading").filter(has_text="Lewes").wait_for()
    page.locator("#filters > summary").click()  # results first: the filters are folded above them
    page.get_by_text(words["more"]).click()
    page.get_by_label(words["approach"], exact=True).select_option("family")
    page.wait_for_url(re.compile(r"approach=family"))
    page.wait_for_function("document.querySelectorAll('#results ol.results li.result').length === 1")
    assert result_names(page) == ["Lewes Serenity Al-Anon"]
    card = page.locator("li.result").first
    assert card.locator(".badge-family").inner_text() == words["for_family"]
    assert card.locator(".badge-moud").count() == 0
    assert fits(page)
    shot(page, f"search-{language}-{width}")

    # "Which group is for me?" keeps the place (and the rest of the search) the visitor had.
    which = page.get_by_role("link", name=words["which"]).first
    if not which.is_visible():  # on a phone the header may wrap, but the link is always there
        which.scroll_into_view_if_needed()
    which.click()
    page.get_by_role("heading", name=words["which"], level=1).wait_for()
    assert "where=Lewes" in page.url
    assert fits(page)
    shot(page, f"which-group-{language}-{width}")
    page.get_by_role("link", name=words["find_family"]).click()
    page.wait_for_url(re.compile(r"where=Lewes.*approach=family|approach=family.*where=Lewes"))
    assert result_names(page) == ["Lewes Serenity Al-Anon"]

    # Al-Anon's page: no MOUD card (it is for relatives), and what the group is for.
    page.get_by_role("link", name="Lewes Serenity Al-Anon").click()
    page.get_by_role("heading", name="Lewes Serenity Al-Anon", level=1).wait_for()
    assert page.locator("#moud-heading").count() == 0
    assert page.get_by_role("heading", name=words["for_family"], level=2).is_visible()
    assert fits(page)
    shot(page, f"al-anon-{language}-{width}")


def test_family_typed_as_a_place_is_answered_with_family_groups(live_server, browse, directory):
    page = browse("es", "375")
    page.goto(f"{live_server.url}/")
    page.get_by_label("Localidad, ciudad o código postal").fill("familia")
    page.get_by_role("button", name="Buscar", exact=True).click()
    page.wait_for_url(re.compile(r"where=familia"))
    page.get_by_text("«familia» no es un lugar").wait_for()
    assert result_names(page) == ["Lewes Serenity Al-Anon"]
    shot(page, "typed-familia-es-375")


def test_english_names_on_spanish_pages_say_they_are_english(live_server, browse, directory):
    page = browse("es", "375")
    page.goto(f"{live_server.url}/?where=Lewes")
    page.locator("#results-heading").wait_for()
    assert page.locator("a[lang=en]", has_text="Lewes Big Book").count() == 1
    # A Spanish name on a Spanish page needs nothing.
    renacer = page.get_by_role("link", name="Grupo Renacer")
    assert renacer.get_attribute("lang") is None
    page.get_by_role("link", name="Lewes Big Book").click()
    heading = page.get_by_role("heading", name="Lewes Big Book", level=1)
    assert heading.get_attribute("lang") == "en"
    # The zone as people say it, and MOUD in words.
    assert page.get_by_text("(hora de New York)").is_visible()
    assert "America/New_York" not in page.locator("main").inner_text()
    assert "metadona" in page.locator("main").inner_text()
    shot(page, "meeting-es-375")

    english = browse("en", "375")
    english.goto(f"{live_server.url}/?where=Lewes")
    english.locator("#results-heading").wait_for()
    assert english.get_by_role("link", name="Grupo Renacer").get_attribute("lang") == "es"
    assert english.get_by_role("link", name="Lewes Big Book").get_attribute("lang") is None


def test_morning_and_tomorrow_are_different_words_in_spanish(live_server, browse, directory):
    page = browse("es", "375")
    page.goto(f"{live_server.url}/?where=Lewes")
    page.locator("#filters > summary").click()  # results first: the filters are folded above them
    options = page.get_by_label("Hora del día").locator("option").all_inner_texts()
    assert "Por la mañana (de 5:00 a 12:00)" in options
    assert not any(option.startswith("Mañana") for option in options)


@pytest.mark.parametrize("language", list(LOCALES))
def test_the_moud_filter_stays_on_screen_at_320_px_with_200_percent_text(
    live_server, browse, directory, language
):
    page = browse(language, "320")
    page.goto(f"{live_server.url}/")
    # Text at 200% of the browser's default, as a reader who enlarges text has it.
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    box = page.locator(".check-moud")
    label = box.locator("label")
    right = page.evaluate("window.innerWidth")
    assert label.bounding_box()["x"] + label.bounding_box()["width"] <= right
    # ...and has the width of the box to itself: words are not broken letter by letter.
    assert label.bounding_box()["width"] >= 0.5 * box.bounding_box()["width"]
    assert (
        page.locator("#moud-help").bounding_box()["y"]
        >= label.bounding_box()["y"] + label.bounding_box()["height"]
    )
    assert box.bounding_box()["x"] + box.bounding_box()["width"] <= right
    assert (
        page.locator("#moud-help").bounding_box()["x"] + page.locator("#moud-help").bounding_box()["width"]
        <= right
    )
    over = page.evaluate(
        """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15)"""
    )
    assert fits(page), over
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(SCREENSHOTS / f"family-moud-filter-200pc-{language}-320.png"))


def test_the_language_select_waits_for_its_button(live_server, browse, directory):
    page = browse("en", "375")
    page.goto(f"{live_server.url}/which-group/?where=Lewes")
    page.evaluate("window.stillTheSamePage = true")
    # By keyboard: Tab to the select, then an arrow key changes the choice and nothing else.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "language-select":
            break
    assert page.evaluate("document.activeElement.id") == "language-select"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "es"
    page.keyboard.press("Tab")  # on to the button: a navigation on change would have lost this page
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.evaluate("document.activeElement.textContent.trim()") == "Change"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="¿Qué grupo es para mí?").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "where=Lewes" in page.url  # the language changes, the page and its search stay
    shot(page, "language-changed-es-375")


@pytest.mark.parametrize("language", list(LOCALES))
def test_a_report_with_errors_puts_focus_on_the_error_summary(live_server, browse, directory, language):
    words = WORDS[language]
    page = browse(language, "375")
    page.goto(f"{live_server.url}/meetings/{directory['aa'].pk}/")
    page.get_by_role("link", name=words["report"]).focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=words["send"]).wait_for()
    # To the button by keyboard, and sent empty.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == words["send"]:
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == words["send"]
    page.keyboard.press("Enter")
    page.locator("#form-errors").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'form-errors'")
    # The first link in the summary takes the reader to the field to correct.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_message"
    shot(page, f"report-errors-{language}-375")


@pytest.mark.parametrize("width", ["375", "1280"])
def test_the_header_does_not_move_after_the_first_paint(live_server, browse, directory, width):
    """The header's "Change" button used to be hidden by a script after the first paint: a layout
    shift of 0.10 on every page. Layout shifts the browser reports while the page loads: none."""
    page = browse("en", width)
    for path in ("/which-group/", f"/meetings/{directory['aa'].pk}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        shifts = page.evaluate(
            """() => new Promise(resolve => {
                 const entries = [];
                 new PerformanceObserver(list => entries.push(...list.getEntries()))
                   .observe({type: "layout-shift", buffered: true});
                 requestAnimationFrame(() => requestAnimationFrame(() => resolve(
                   entries.map(e => ({value: e.value, nodes: e.sources.map(s => s.node && s.node.nodeName)}))
                 )));
               })"""
        )
        assert shifts == [], (path, shifts)
