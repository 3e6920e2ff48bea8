"""People's rights in a real browser (Debian's Chromium, Playwright, axe-core), signed in through
the sign-in form, at phone and desktop widths (screenshots in test-artifacts/screenshots/rights-*):

- Pat asks Bob, her peer worker, for a copy of her record, in Spanish. Bob records it; Alice, who
  manages the team, finds it in her work queue, leaves out a note a doctor judged harmful, makes
  the PDF and the FHIR file, and marks the copy given.
- Bob refers Pat to Bridge Peer Network through the wizard, exports the referral as FHIR and
  records a request she wants answered by e-mail; Alice's accounting of disclosures lists the
  referral, the export and the e-mail, on the page and in the PDF.
"""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from recoverybridge.care import actions
from recoverybridge.care.models import ConsentPurpose, EpisodeKind, Referral, TaskStatus
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.rights.models import RequestOutcome, RightsRequest
from tests.care_world import build_world
from tests.factories import make_location, make_meeting
from tests.web.test_browser import chromium, page, screenshots  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a long staff passphrase"


@pytest.fixture
def world(transactional_db):
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    for user, first, last in ((world.bob, "Bob", "Baker"), (world.alice, "Alice", "Adams")):
        user.first_name, user.last_name = first, last
        user.set_password(PASSWORD)
        user.save()
    pat = world.pat
    world.pat.preferred_language = "es"
    world.pat.save()
    actions.add_related_person(
        world.bob, pat, name="Morgan Example", relationship="hermana", contact="+44 7700 900132"
    )
    actions.start_episode(
        world.bob, pat, kind=EpisodeKind.DETOX, started_on=timezone.localdate() - datetime.timedelta(days=30)
    )
    actions.log_contact(
        world.bob,
        pat,
        kind="phone",
        at=timezone.now() - datetime.timedelta(days=20),
        note="Quiere probar SMART.",
    )
    actions.log_contact(
        world.carol,
        pat,
        kind="in_person",
        at=timezone.now() - datetime.timedelta(days=10),
        note="Risk note XYZZY",
        confidential=True,
    )
    town = make_location(
        name="Lewes Town Hall", city="Lewes", latitude=50.873, longitude=0.009, timezone="Europe/London"
    )
    for slug, name in [("smart", "Lewes SMART Recovery"), ("aa", "Lewes AA"), ("mara", "Lewes MARA")]:
        make_meeting(slug, location=town, name=name)
    return world


def sign_in(page, live_server, username: str, next_path: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def sign_out(page) -> None:  # noqa: F811
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def download(page, button: str) -> bytes:  # noqa: F811
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_bytes()


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())


def test_an_access_request_from_intake_to_the_copy_given(live_server, page, world):  # noqa: F811
    pat = world.pat
    sign_in(page, live_server, "bob", f"/staff/people/{pat.pk}/")
    page.get_by_role("link", name="Requests about their record").click()
    page.get_by_role("heading", name="Requests about their record", level=1).wait_for()
    screenshots(page, "rights-person")
    page.get_by_role("link", name="Record a request").click()
    page.get_by_label("A copy of the record").check()
    page.get_by_label("What they asked, in their words").fill("Quiero una copia de todo.")
    page.get_by_label("By e-mail, to the address on their record").check()
    assert page.get_by_label("Language of the answer").input_value() == "es"  # hers, from her record
    screenshots(page, "rights-request-new")
    page.get_by_role("button", name="Record request").click()
    page.get_by_text(re.compile("Request recorded. It is due on")).wait_for()
    assert page.get_by_text("A manager of the team answers this request.").is_visible()
    screenshots(page, "rights-request-worker")
    request = RightsRequest.objects.get()
    (notice,) = mail.outbox
    assert notice.to == ["pat@example.net"] and "Pat" not in notice.body
    sign_out(page)

    sign_in(page, live_server, "alice", "/staff/queue/")
    panel = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("^Requests about records"))
    )
    assert panel.get_by_text("Pat Example").is_visible()
    screenshots(page, "rights-queue")
    panel.get_by_role("link", name=re.compile("Open the request")).click()
    page.get_by_role("heading", name=re.compile("Request: a copy of the record")).wait_for()
    screenshots(page, "rights-request-manager")

    # A reason is needed to leave a note out; what was ticked is kept.
    page.get_by_label(re.compile("Risk note XYZZY")).check()
    page.get_by_role("button", name="Save what is left out").click()
    page.get_by_role("alert").filter(has_text="Give the health professional's opinion").wait_for()
    assert page.get_by_label(re.compile("Risk note XYZZY")).is_checked()
    screenshots(page, "rights-request-withhold-error")
    page.get_by_label("The health professional's opinion").fill("Dr Lee: likely to cause serious harm")
    page.get_by_role("button", name="Save what is left out").click()
    page.get_by_text("Saved: the copy withholds the notes you chose").wait_for()

    pdf = download(page, "Make the PDF")
    text = pdf_text(pdf)
    assert pdf[:5] == b"%PDF-" and "Su expediente" in text and "Pat Example" in text
    assert "Quiere probar SMART." in text and "XYZZY" not in text and "Morgan" not in text
    bundle = Bundle.model_validate_json(download(page, "Make the FHIR file"))
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "RelatedPerson", "EpisodeOfCare", "Encounter"} <= kinds
    assert "XYZZY" not in bundle.model_dump_json() and "Morgan" not in bundle.model_dump_json()

    page.reload()
    assert page.get_by_role("heading", name="Copies given").is_visible()
    page.get_by_label("How the copy was given").fill("In person, on her own USB stick")
    screenshots(page, "rights-request-copies")
    page.get_by_role("button", name="The copy was given").click()
    page.get_by_text("Request answered: the copy was given.").wait_for()
    screenshots(page, "rights-request-answered")
    request.refresh_from_db()
    assert request.outcome == RequestOutcome.GRANTED and request.answered_by == world.alice
    assert len(mail.outbox) == 2 and "Hemos respondido" in mail.outbox[1].body


def test_the_accounting_of_disclosures_after_a_referral_an_export_and_a_message(live_server, page, world):  # noqa: F811
    pat = world.pat
    actions.give_consent(world.bob, pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
    sign_in(page, live_server, "bob", f"/staff/people/{pat.pk}/")
    page.get_by_role("link", name="Refer", exact=True).click()
    page.get_by_role("button", name="Next: options to try").click()
    page.get_by_label("Lewes SMART Recovery").check()
    page.get_by_role("button", name="Next: what to refer to").click()
    page.get_by_label("Another organisation").check()
    page.get_by_label("Organisation", exact=True).select_option(label="Bridge Peer Network")
    page.get_by_role("button", name="Next: contact with a member").click()
    page.get_by_role("button", name="Next: follow-up").click()
    page.get_by_role("button", name="Next: check and send").click()
    page.get_by_role("button", name="Send referral").click()
    page.get_by_text("Referral sent.").wait_for()
    referral = Referral.objects.get()
    assert referral.status == TaskStatus.REQUESTED

    exported = page.request.get(f"{live_server.url}/api/v1/fhir/referrals/{referral.pk}/bundle")
    assert exported.ok and exported.json()["resourceType"] == "Bundle"

    page.goto(f"{live_server.url}/staff/people/{pat.pk}/rights/new/")
    page.get_by_label("A correction to the record").check()
    page.get_by_label("What they asked, in their words").fill("Mi apellido está mal escrito.")
    page.get_by_label("By e-mail, to the address on their record").check()
    page.get_by_role("button", name="Record request").click()
    page.get_by_text(re.compile("Request recorded")).wait_for()
    sign_out(page)

    sign_in(page, live_server, "alice", f"/staff/people/{pat.pk}/rights/")
    page.get_by_role("link", name="Disclosures of their record").click()
    page.get_by_role("heading", name="Disclosures of their record", level=1).wait_for()
    rows = page.locator("table.data-table tbody tr")
    assert rows.count() == 3
    assert "Referral sent" in rows.nth(0).inner_text() and "Bridge Peer Network" in rows.nth(0).inner_text()
    assert "FHIR export" in rows.nth(1).inner_text() and "Bob Baker" in rows.nth(1).inner_text()
    assert "E-mail" in rows.nth(2).inner_text() and "The person themselves" in rows.nth(2).inner_text()
    screenshots(page, "rights-disclosures")

    today = timezone.localdate().isoformat()
    page.get_by_label("From").fill(today)
    page.get_by_label("Up to and including").fill(today)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile("since="))
    assert page.locator("table.data-table tbody tr").count() == 3
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as PDF for them").click()
    text = pdf_text(Path(info.value.path()).read_bytes())
    assert "Bridge Peer Network" in text and "PAT00001" in text

    page.get_by_label("Up to and including").fill("2000-01-01")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("alert").filter(has_text="before its start").wait_for()
    screenshots(page, "rights-disclosures-error")
