"""Printed booklets in a real browser (Debian's Chromium, Playwright, axe-core).

Eve, a directory editor, signs in through the sign-in form, defines a booklet of East Sussex
(first mistyping the region), waits for the task worker to build it and downloads it. Then a GP
receptionist in Lewes, not signed in, finds the printed list from the finder, in English and in
Spanish. Screenshots of the pages at phone and desktop widths, and of the booklet's first pages
(pdftoppm), go to test-artifacts/screenshots/booklet-*.png.
"""

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from pypdf import PdfReader

from recoverybridge.directory.models import Attribute, AttributeMapping, Booklet, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    chromium,
    page,
    screenshots,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]
PASSWORD = "a long editor passphrase"
REGION = "England > East Sussex"


@pytest.fixture
def east_sussex(transactional_db):
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    eve = User.objects.create_user("eve", password=PASSWORD)
    eve.groups.add(editors)
    lewes = uk_place("Lewes Town Hall", "High Street", "Lewes", "BN7 2QS", 50.8733, 0.0091)
    ringmer = uk_place("Ringmer Village Hall", "Lewes Road", "Ringmer", "BN8 5QH", 50.8925, 0.0551)
    # An online group's home: the town, no street.
    home = uk_place("", "", "Lewes", "", 50.8733, 0.0091, formatted_address="", approximate=True)
    make_meeting("aa", name="Lewes Tuesday Step", location=lewes, weekday=2, moud_stance="welcoming")
    make_meeting("na", name="Lewes Just for Today", location=lewes, weekday=4, attributes=("open",))
    make_meeting("smart", name="Ringmer SMART", location=ringmer, weekday=3, moud_stance="welcoming")
    make_meeting("mara", name="Ringmer MARA", location=ringmer, weekday=5, moud_stance="welcoming")
    make_meeting("al-anon", name="Lewes Al-Anon Hope", location=lewes, weekday=1)
    make_meeting(
        "na",
        name="Sussex Phone Meeting",
        location=home,
        attendance_mode="online",
        weekday=0,
        conference_phone="+44 20 3481 5240",
        conference_phone_notes="Meeting ID 555 123 4567, passcode 2024",
    )
    return eve


def uk_place(name: str, street: str, town: str, postcode: str, lat: float, lon: float, **fields):
    place = {
        "name": name,
        "address": street,
        "city": town,
        "postal_code": postcode,
        "formatted_address": f"{name}, {street}, {town} {postcode}, UK",
        "latitude": lat,
        "longitude": lon,
        "region_path": f"{REGION} > {town}" if street else REGION,
        "country": "GB",
        "state": "East Sussex",
        "timezone": "Europe/London",
    }
    return make_location(**{**place, **fields})


def sign_in(page, live_server, next_path: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def run_worker() -> None:
    """The real task worker, for one batch: it builds what the editor's definition queued."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def download(page, link) -> bytes:  # noqa: F811
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-")
    return data


def picture_pages(pdf: bytes, name: str, pages: int = 3) -> None:
    """The booklet's first pages as PNG, for a person to look at (pdftoppm, from poppler-utils)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    source = SCREENSHOTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603 -- a fixed program on our own file
        [pdftoppm, "-png", "-r", "80", "-l", str(pages), str(source), str(SCREENSHOTS / name)], check=True
    )
    source.unlink()


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(sheet.extract_text() for sheet in PdfReader(BytesIO(pdf)).pages).split())


def test_an_editor_defines_a_booklet_and_anyone_downloads_it_from_the_finder(
    live_server,
    page,  # noqa: F811
    chromium,  # noqa: F811
    east_sussex,
):
    sign_in(page, live_server, "/editor/booklets/")
    page.get_by_role("heading", name="Printed booklets", level=1).wait_for()
    screenshots(page, "booklet-editor-list-empty")
    page.get_by_role("link", name="Define a booklet").click()
    page.get_by_label("Area name as printed").fill("East Sussex")
    page.get_by_label("A region").check()
    page.get_by_label("Region", exact=True).fill("East Susex")  # a typo
    page.get_by_role("button", name="Define the booklet").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "There are no meetings in this area in the directory." in alert.inner_text()
    screenshots(page, "booklet-editor-error")
    page.get_by_label("Region", exact=True).fill("East Sussex")
    page.get_by_label("How readers without internet can report a change").fill(
        "Write to the Recovery Hub, 1 High Street, Lewes BN7 1AA, quoting the meeting number."
    )
    page.get_by_role("button", name="Define the booklet").click()
    page.get_by_role("heading", name="East Sussex", level=1).wait_for()
    assert "Being built" in page.inner_text("main")
    assert "6 meetings" in page.inner_text("main")
    screenshots(page, "booklet-editor-defined")

    run_worker()
    page.reload()
    assert "Ready" in page.inner_text("main")
    screenshots(page, "booklet-editor-ready")
    pdf = download(page, page.get_by_role("link", name="east-sussex.pdf"))
    text = text_of(pdf)
    for name in (
        "Lewes Tuesday Step",
        "Ringmer SMART",
        "Ringmer MARA",
        "Lewes Al-Anon Hope",
        "Sussex Phone Meeting",
    ):
        assert name in text
    assert "By phone: +44 20 3481 5240" in text and "Write to the Recovery Hub" in text
    picture_pages(pdf, "booklet-east-sussex")

    # A large-print Spanish copy of the same area.
    page.goto(f"{live_server.url}/editor/booklets/new/")
    page.get_by_label("Area name as printed").fill("East Sussex")
    page.get_by_label("Region", exact=True).fill("East Sussex")
    page.get_by_label("Language of the booklet").select_option("es")
    page.get_by_label("Large print (16 point and larger)").check()
    page.get_by_role("button", name="Define the booklet").click()
    page.get_by_role("heading", name=re.compile("East Sussex"), level=1).wait_for()
    run_worker()
    page.goto(f"{live_server.url}/editor/booklets/")
    screenshots(page, "booklet-editor-list")
    spanish = download(page, page.get_by_role("link", name="Download east-sussex-es-large-print.pdf"))
    assert "Reuniones de recuperación en East Sussex" in text_of(spanish)
    picture_pages(spanish, "booklet-east-sussex-es-large-print", pages=2)

    # A GP receptionist in Lewes, not signed in, on the finder.
    for locale, heading, own, other in (
        (
            "en-GB",
            "A printed list of this area",
            "East Sussex: English (PDF)",
            "East Sussex: español, large print (PDF)",
        ),
        (
            "es-ES",
            "Una lista impresa de esta zona",
            "East Sussex: español, letra grande (PDF)",
            "East Sussex: English (PDF)",
        ),
    ):
        context = chromium.new_context(viewport=PHONE, locale=locale, timezone_id="Europe/London")
        visitor = context.new_page()
        visitor.goto(f"{live_server.url}/?where=Lewes")
        aside = visitor.get_by_role("complementary", name=heading)
        aside.wait_for()
        screenshots(visitor, f"booklet-finder-{locale[:2]}")
        # Both copies are offered, the reader's own language first.
        links = aside.get_by_role("link")
        assert [links.nth(0).inner_text(), links.nth(1).inner_text()] == [own, other]
        expected = "Recovery meetings in East Sussex" if locale == "en-GB" else "Reuniones de recuperación"
        assert expected in text_of(download(visitor, links.nth(0)))
        visitor.goto(f"{live_server.url}/booklets/")
        screenshots(visitor, f"booklet-list-{locale[:2]}")
        context.close()
    assert Booklet.objects.count() == 2
    page.set_viewport_size(DESKTOP)
