"""Printed booklets of an area.

Sussex County has a twelve-step meeting, a SMART meeting, a medication-assisted group, an Al-Anon
group for relatives and two online groups based there; a faith-based meeting is across the county
line in Kent. The booklet of Sussex must give each kind present its own section and none to a kind
that is not, say in words whether each meeting welcomes people on opioid medication, give the
dial-in number of the online meetings, and be a tagged PDF whose text reads in order.
"""

import io
import re
from datetime import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader
from pypdf.generic import ContentStream

from recoverybridge.audit.models import AuditEvent
from recoverybridge.directory import booklets, version
from recoverybridge.directory.actions import booklets as actions
from recoverybridge.directory.models import Booklet
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db

SUSSEX = "Delaware > Sussex County"


@pytest.fixture
def sussex():
    lewes = make_location(name="Lewes Library", city="Lewes", region_path=f"{SUSSEX} > Lewes")
    rehoboth = make_location(
        name="All Saints Church",
        city="Rehoboth Beach",
        latitude=38.7186,
        longitude=-75.0780,
        formatted_address="18 Olive Ave, Rehoboth Beach, DE 19971, USA",
        region_path=f"{SUSSEX} > Rehoboth",
    )
    dover = make_location(
        name="Dover Chapel",
        city="Dover",
        latitude=39.158,
        longitude=-75.524,
        region_path="Delaware > Kent County",
    )
    home = make_location(name="", address="", formatted_address="", city="Georgetown", region_path=SUSSEX)
    return {
        "aa": make_meeting(
            "aa", name="Lewes Serenity", location=lewes, moud_stance="welcoming", attributes=("open", "women")
        ),
        "smart": make_meeting("smart", name="Lewes SMART", location=lewes, weekday=3, start_time=time(18, 0)),
        "mara": make_meeting(
            "mara", name="Beach MARA", location=rehoboth, weekday=5, moud_stance="welcoming"
        ),
        "na": make_meeting(
            "na", name="Rehoboth Not Welcoming", location=rehoboth, moud_stance="not_welcoming"
        ),
        "alanon": make_meeting("al-anon", name="Sunday Family Hope", location=rehoboth, weekday=0),
        "phone": make_meeting(
            "na",
            name="Phone Lifeline",
            location=home,
            attendance_mode="online",
            conference_phone="+1 302-555-0100",
            conference_phone_notes="Meeting ID 812 3456, PIN 1234#",
            conference_url="https://zoom.example.org/j/8123456",
        ),
        "video": make_meeting(
            "smart",
            name="Video Only Tools",
            location=home,
            attendance_mode="online",
            conference_url="https://meet.example.org/smart-tools",
        ),
        "kent": make_meeting("celebrate-recovery", name="Dover Faith Night", location=dover),
    }


def define(user=None, **fields) -> Booklet:
    values = {
        "title": "Sussex County, Delaware",
        "area_kind": "region",
        "region": "Sussex County",
        "language": "en",
        "large_print": False,
        "paper": "letter",
        "report_contact": "Phone the intergroup office on 302-555-0199.",
        **fields,
    }
    return actions.define_booklet(user or editor(), values)


def editor(name: str = "eve") -> User:
    user, _ = User.objects.get_or_create(username=name)
    user.groups.add(Group.objects.get(name="Directory editors"))
    return user


def built(booklet: Booklet) -> bytes:
    actions.rebuild(booklet.pk)
    pdf = booklets.stored_pdf(booklet)
    assert pdf is not None and pdf.startswith(b"%PDF-")
    return pdf


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def entry_text(text: str, meeting) -> str:
    """The printed entry of a meeting: from its name to its number."""
    start = text.index(meeting.name)
    return flat(text[start : text.index(f"No. {meeting.pk}", start)])


def test_every_kind_present_has_its_section_in_order_and_absent_kinds_have_none(sussex):
    text = flat(text_of(built(define())))
    body = text[text.index("so this does not apply to them.") :]  # after the front matter
    sections = [
        "Twelve-step groups",
        "Secular groups",
        "Medication-assisted recovery groups",
        "Groups for family and friends",
        "By phone or online",
        "Report a change",
    ]
    positions = [body.index(title) for title in sections]
    assert positions == sorted(positions)
    for absent in ("Faith-based groups", "Indigenous groups", "Other groups"):
        assert absent not in text
    assert "Dover Faith Night" not in text
    # Every meeting of the area is there, in its kind's section.
    for key, section in [
        ("aa", 0),
        ("na", 0),
        ("smart", 1),
        ("mara", 2),
        ("alanon", 3),
        ("phone", 4),
        ("video", 4),
    ]:
        where = body.index(sussex[key].name)
        assert positions[section] < where < positions[section + 1], key
    # Al-Anon is twelve-step by approach, but its readers are relatives: it is not in the twelve-step section.
    assert body.index("Sunday Family Hope") > positions[2]


def test_each_meeting_says_whether_it_welcomes_people_on_opioid_medication_in_words(sussex):
    text = text_of(built(define()))
    assert "Welcomes people on opioid medication." in entry_text(text, sussex["aa"])
    assert "Does not welcome people on opioid medication." in entry_text(text, sussex["na"])
    assert "Not known if people on opioid medication are welcome: ask the group." in entry_text(
        text, sussex["smart"]
    )
    # Groups for relatives: the stance is not about them.
    assert "opioid medication" not in entry_text(text, sussex["alanon"])
    # The acronym is explained once, at the front, and never left bare in an entry.
    assert flat(text).count("MOUD") == 1
    assert "Medication for opioid use disorder (MOUD)" in flat(text)


def test_online_meetings_give_the_dial_in_number_for_people_without_data(sussex):
    text = text_of(built(define()))
    phone = entry_text(text, sussex["phone"])
    assert "By phone: +1 302-555-0100" in phone
    assert "Meeting ID 812 3456, PIN 1234#" in phone
    video = entry_text(text, sussex["video"])
    assert "By phone" not in video and "Online: https://meet.example.org/smart-tools" in video
    assert "1 meeting here can be joined by phone: no internet or data needed" in flat(text)


def test_each_meeting_has_its_schedule_address_number_and_code(sussex):
    pdf = built(define())
    text = text_of(pdf)
    aa = entry_text(text, sussex["aa"])
    assert "Lewes Library, 1 Main St, Lewes, DE 19958, USA" in aa and "Open" in aa and "Women" in aa
    row = flat(text[text.rindex("Monday", 0, text.index(sussex["aa"].name)) : text.index(sussex["aa"].name)])
    assert "7 p.m. to 8 p.m." in row and "Lewes" in row
    assert f"No. {sussex['aa'].pk} · localhost:8000/m/{sussex['aa'].pk}" in flat(text)
    figures = [alt for tag, alt in structure(pdf) if tag == "/Figure"]
    assert len(figures) == 7
    assert f"Code for the web page of meeting No. {sussex['aa'].pk}" in figures


def test_a_meeting_kept_in_another_zone_is_printed_in_the_areas_time_with_its_own(sussex):
    make_meeting(
        "aa",
        name="Chicago Visitors",
        location=make_location(city="Milton", region_path=f"{SUSSEX} > Milton", timezone="America/Chicago"),
        timezone="America/Chicago",
        weekday=2,
        start_time=time(19, 0),
        end_time=time(20, 0),
    )
    text = flat(text_of(built(define())))
    assert "8 p.m. to 9 p.m. (Tuesday 7 p.m. Chicago time)" in text
    assert "Times are local time (New York)" in text


def structure(pdf: bytes) -> list[tuple[str, str]]:
    """(tag, alternate text) of every element of the PDF's structure tree, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    found: list[tuple[str, str]] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
            return
        if not hasattr(node, "get"):
            return
        if node.get("/Type") == "/StructElem" or "/S" in node:
            found.append((str(node["/S"]), str(node.get("/Alt", ""))))
        kids = node.get("/K")
        if kids is not None and not isinstance(kids, int):
            walk(kids)

    walk(root["/StructTreeRoot"])
    return found


def test_the_pdf_is_tagged_with_headings_in_reading_order(sussex):
    pdf = built(define())
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]) == "en"
    # Declared PDF/UA-1 in its XMP metadata.
    assert b'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data()
    tags = [tag for tag, _alt in structure(pdf)]
    assert tags.count("/H1") == 1
    # How to use, MOUD, contents, four kinds, online, report a change.
    assert tags.count("/H2") == 9
    assert "/H3" in tags and "/Table" in tags and "/TH" in tags and "/Link" in tags
    assert tags.index("/H1") < tags.index("/H2") < tags.index("/Table")
    # The text comes out in reading order: title, front matter, contents, sections.
    text = flat(text_of(pdf))
    order = [
        "Recovery meetings in Sussex County, Delaware",
        "Contents",
        "How to use this list",
        "Medication for opioid use disorder (MOUD)",
        "Lewes Serenity",
        "Phone Lifeline",
    ]
    assert [text.index(item) for item in order] == sorted(text.index(item) for item in order)
    assert "Phone the intergroup office on 302-555-0199." in text


def font_sizes(pdf: bytes) -> list[float]:
    """The size in points of every run of text in the PDF: the Tf size scaled by the text matrix
    and the transformation matrix (WeasyPrint draws in CSS pixels, scaled by 0.75 to points)."""
    sizes = []
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        scales, scale, text_scale = [], 1.0, 1.0
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                scales.append(scale)
            elif operator == b"Q":
                scale = scales.pop()
            elif operator == b"cm":
                scale *= abs(float(operands[3]))
            elif operator == b"Tm":
                text_scale = abs(float(operands[3]))
            elif operator == b"Tf":
                sizes.append(round(float(operands[1]) * text_scale * scale, 1))
    return sizes


def test_large_print_is_larger(sussex):
    regular = font_sizes(built(define()))
    large = font_sizes(built(define(large_print=True)))
    body = max(set(regular), key=regular.count)
    large_body = max(set(large), key=large.count)
    assert body < 11 and large_body >= 16
    assert min(large) >= 14  # even the smallest print: page numbers (16 points and more for the rest)


def test_a_spanish_booklet(sussex):
    booklet = define(language="es")
    assert booklet.slug == "sussex-county-delaware-es"
    text = flat(text_of(built(booklet)))
    assert "Reuniones de recuperación en Sussex County, Delaware" in text
    assert "Grupos de doce pasos" in text and "Grupos para familiares y amistades" in text
    assert "lunes" in text.lower() and "19:00 a 20:00" in text
    assert "Acoge a personas que toman medicación para los opioides." in text
    assert "Por teléfono: +1 302-555-0100" in text
    assert str(PdfReader(io.BytesIO(booklets.stored_pdf(booklet) or b"")).trailer["/Root"]["/Lang"]) == "es"


def test_a_uk_booklet_in_english_dates_its_build_the_british_way(sussex):
    make_meeting(
        "aa",
        name="Brighton Step",
        location=make_location(
            city="Brighton",
            country="GB",
            region_path="England > East Sussex > Brighton",
            timezone="Europe/London",
        ),
        timezone="Europe/London",
    )
    booklet = define(title="East Sussex", region="East Sussex", paper="A4")
    text = flat(text_of(built(booklet)))
    assert re.search(r"This list was made on \d{1,2} [A-Z][a-z]{2} \d{4}", text)
    assert "Times are local time (London)" in text


def test_only_editors_define_booklets_and_refusals_are_recorded(client: Client, sussex):
    assert client.get("/editor/booklets/")["Location"].startswith("/accounts/login/")
    mallory = User.objects.create_user("mallory", password="x")
    with pytest.raises(PermissionDenied):
        define(user=mallory)
    assert AuditEvent.objects.filter(actor=mallory, action="denied", detail="define a booklet").exists()
    client.force_login(mallory)
    response = client.post("/editor/booklets/new/", {"title": "X", "area_kind": "city", "city": "Lewes"})
    assert response.status_code == 403  # signed in without the role: our refusal, not the sign-in form
    assert Booklet.objects.count() == 0


def test_editors_define_change_and_remove_booklets_with_an_audit_trail(client: Client, sussex):
    eve = editor()
    client.force_login(eve)
    form = client.get("/editor/booklets/new/").content.decode()
    assert '<option value="Delaware &gt; Sussex County &gt; Lewes">' in form
    response = client.post(
        "/editor/booklets/new/",
        {"title": "Lewes", "area_kind": "city", "city": "lewes", "language": "en", "paper": "A4"},
    )
    booklet = Booklet.objects.get()
    assert response["Location"] == f"/editor/booklets/{booklet.pk}/"
    assert (booklet.slug, booklet.city, booklet.region, booklet.created_by) == ("lewes", "lewes", "", eve)
    page = client.get(response["Location"]).content.decode()
    assert "2 meetings; Twelve-step groups: 1; Secular groups: 1" in page and "Being built" in page
    client.post(
        f"/editor/booklets/{booklet.pk}/",
        {
            "action": "save",
            "title": "Lewes",
            "area_kind": "city",
            "city": "Lewes",
            "language": "es",
            "paper": "A4",
        },
    )
    booklet.refresh_from_db()
    assert booklet.language == "es" and booklet.slug == "lewes"  # the address printed copies carry stays
    client.post(f"/editor/booklets/{booklet.pk}/", {"action": "remove"})
    assert Booklet.objects.count() == 0
    assert list(
        AuditEvent.objects.filter(object_type="directory.booklet")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"area_kind": "region", "region": ""}, "Name the region."),
        ({"area_kind": "city", "city": " "}, "Name the town or city."),
        (
            {"area_kind": "region", "region": "Atlantis"},
            "There are no meetings in this area in the directory.",
        ),
        ({"area_kind": "box", "south": "38", "north": "39"}, "Give all four edges of the rectangle."),
        (
            {"area_kind": "box", "south": "39", "north": "38", "west": "-76", "east": "-75"},
            "north of (greater",
        ),
        (
            {"area_kind": "box", "south": "38", "north": "39", "west": "-75", "east": "-76"},
            "east of (greater",
        ),
        (
            {"area_kind": "box", "south": "38", "north": "95", "west": "-76", "east": "-75"},
            "Between -90 and 90",
        ),
        (
            {"area_kind": "box", "south": "north", "north": "39", "west": "-76", "east": "-75"},
            "Enter a number.",
        ),
        ({"area_kind": "region", "region": "Sussex County", "language": "xx"}, "Select a valid choice."),
        ({"area_kind": "moon"}, "Select a valid choice."),
        ({"area_kind": "region", "region": "Sussex County", "title": ""}, "This field is required."),
    ],
)
def test_bad_input_is_a_clear_error_and_saves_nothing(client: Client, sussex, fields, message):
    client.force_login(editor())
    data = {"title": "Sussex", "language": "en", "paper": "A4", **fields}
    response = client.post("/editor/booklets/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Booklet.objects.count() == 0


def test_an_area_too_big_to_print_is_refused(client: Client, sussex, monkeypatch):
    monkeypatch.setattr(booklets, "MAX_MEETINGS", 3)
    client.force_login(editor())
    data = {
        "title": "Sussex",
        "area_kind": "region",
        "region": "Sussex County",
        "language": "en",
        "paper": "A4",
    }
    response = client.post("/editor/booklets/new/", data)
    assert response.status_code == 400
    assert (
        "This area has 7 meetings: too many for a printed booklet (at most 3)." in response.content.decode()
    )


def test_a_rectangle_area_prints_what_is_inside_it(sussex):
    booklet = define(
        title="Rehoboth", area_kind="box", region="", south=38.7, north=38.75, west=-75.1, east=-75.0
    )
    text = flat(text_of(built(booklet)))
    assert "Beach MARA" in text and "Lewes Serenity" not in text
    booklet.refresh_from_db()
    assert (booklet.extent_south, booklet.extent_north) == (38.7, 38.75)


def test_anyone_downloads_a_booklet_with_validators(client: Client, sussex):
    booklet = define()
    built(booklet)
    response = client.get(f"/booklets/{booklet.slug}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["ETag"] and response["Last-Modified"]
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    again = client.get(f"/booklets/{booklet.slug}.pdf", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client.get("/booklets/nowhere.pdf").status_code == 404
    listing = client.get("/booklets/").content.decode()
    assert f'href="/booklets/{booklet.slug}.pdf"' in listing


def test_a_small_booklet_never_built_is_built_for_its_first_reader(client: Client, sussex):
    booklet = define()  # the queued build never runs here: nothing commits
    response = client.get(f"/booklets/{booklet.slug}.pdf")
    assert response.status_code == 200 and "Lewes Serenity" in text_of(response.content)


def test_a_large_booklet_never_built_asks_the_reader_to_come_back(client: Client, sussex, monkeypatch):
    monkeypatch.setattr(booklets, "BUILD_WHILE_WAITING_MAX", 3)
    booklet = define()
    response = client.get(f"/booklets/{booklet.slug}.pdf")
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "This booklet is being made. Please try again in a minute or two." in response.content.decode()
    booklet.refresh_from_db()
    assert booklet.rebuild_queued_for


def test_the_finder_links_the_booklets_of_the_place_searched(client: Client, sussex):
    cache.clear()  # places found by earlier tests' directories are kept in the cache
    booklet = define()
    built(booklet)
    page = client.get("/", {"where": "Lewes"}).content.decode()
    assert "A printed list of this area" in page and f'href="/booklets/{booklet.slug}.pdf"' in page
    elsewhere = client.get("/", {"where": "Dover"}).content.decode()
    assert "A printed list of this area" not in elsewhere


def test_the_short_address_under_each_code_opens_the_meeting(client: Client, sussex):
    meeting = sussex["aa"]
    response = client.get(f"/m/{meeting.pk}")
    assert response.status_code == 302 and response["Location"] == f"/meetings/{meeting.pk}/"


def test_a_failed_build_keeps_the_last_good_booklet(client: Client, sussex, monkeypatch):
    booklet = define()
    good = built(booklet)
    sussex["aa"].name = "Lewes Serenity Renamed"
    sussex["aa"].save()

    def broken(html: str):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(booklets, "render_pdf", broken)
    with pytest.raises(RuntimeError):
        actions.rebuild(booklet.pk)
    booklet.refresh_from_db()
    assert booklet.build_error == "RuntimeError: no fonts"
    assert client.get(f"/booklets/{booklet.slug}.pdf").content == good


# The worker commits and locks rows itself, so these tests really commit; serialized_rollback
# puts back what migrations loaded (fellowships, the editors' group).
worker_test = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def queued_builds() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="build_booklet", status="READY").count()


@worker_test
def test_a_booklet_is_rebuilt_by_the_worker_when_its_area_changes_and_served_meanwhile(
    client: Client, sussex
):
    booklet = define()
    assert queued_builds() == 1  # queued when the definition committed
    run_worker()
    url = f"/booklets/{booklet.slug}.pdf"
    first = client.get(url)
    assert first.status_code == 200 and "Lewes Serenity" in text_of(first.content)

    # A change elsewhere moves the directory's token, not this area: nothing to rebuild.
    sussex["kent"].name = "Dover Faith Night (moved)"
    sussex["kent"].save()
    elsewhere = client.get(url)
    assert elsewhere["ETag"] == first["ETag"] and "max-age=300" in elsewhere["Cache-Control"]
    assert queued_builds() == 0
    booklet.refresh_from_db()
    assert booklet.built_token == version.current_token()

    # A change in the area: the last good booklet is served, marked for revalidation, while one
    # rebuild (not one per reader) waits for the worker.
    sussex["aa"].name = "Lewes Serenity at Six"
    sussex["aa"].save()
    stale = client.get(url)
    assert stale.content == first.content and stale["ETag"] == first["ETag"]
    assert "no-cache" in stale["Cache-Control"]
    client.get(url)
    assert queued_builds() == 1
    run_worker()
    fresh = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert fresh.status_code == 200 and fresh["ETag"] != first["ETag"]
    assert "Lewes Serenity at Six" in text_of(fresh.content)


@worker_test
def test_refresh_booklets_rebuilds_only_those_whose_area_changed(sussex):
    sussex_booklet = define()
    kent = define(title="Kent County", region="Kent County")
    run_worker()
    built_at = dict(Booklet.objects.values_list("id", "built_at"))
    sussex["kent"].name = "Dover Faith Night (moved)"
    sussex["kent"].save()
    out = io.StringIO()
    call_command("refresh_booklets", stdout=out)
    assert "Queued the booklets' refresh" in out.getvalue()
    run_worker()
    result = DBTaskResult.objects.get(task_path__endswith="refresh_booklets")
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    now_built = dict(Booklet.objects.values_list("id", "built_at"))
    assert now_built[sussex_booklet.pk] == built_at[sussex_booklet.pk]
    assert now_built[kent.pk] > built_at[kent.pk]
    assert "Dover Faith Night (moved)" in text_of(booklets.stored_pdf(kent) or b"")


def test_a_hybrid_meeting_is_listed_with_its_kind_in_person_and_says_how_to_join_online(sussex):
    hybrid = make_meeting(
        "aa",
        name="Lewes Both Ways",
        location=sussex["aa"].location,
        attendance_mode="hybrid",
        conference_url="https://zoom.example.org/j/42",
        conference_phone="+1 302-555-0142",
    )
    text = text_of(built(define()))
    entry = entry_text(text, hybrid)
    assert "Lewes Library" in entry and "Also online: https://zoom.example.org/j/42" in entry
    assert "By phone: +1 302-555-0142" in entry
    assert flat(text).index("Lewes Both Ways") < flat(text).index(
        "Secular groups", flat(text).index("does not apply")
    )


def test_unknown_booklets_are_not_found(client: Client, sussex):
    client.force_login(editor())
    assert client.get("/editor/booklets/999/").status_code == 404
    assert client.post("/editor/booklets/999/", {"action": "remove"}).status_code == 404
    assert client.get("/booklets/no-such-area.pdf").status_code == 404
    assert client.get("/booklets/../etc/passwd.pdf").status_code == 404


def test_a_meeting_by_appointment_is_listed_after_the_week_of_its_kind(sussex):
    make_meeting(
        "smart", name="SMART One to One", location=sussex["smart"].location, weekday=None, start_time=None
    )
    text = flat(text_of(built(define())))
    secular = text.index("Secular groups", text.index("does not apply"))
    by_appointment = text.index("By appointment", secular)
    assert secular < text.index("Lewes SMART") < by_appointment < text.index("SMART One to One")
    assert (
        "By appointment When and where Meeting Code Ask the group for times. Lewes SMART One to One" in text
    )
