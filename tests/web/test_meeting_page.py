"""The meeting page: Ana opens a meeting from her results to decide whether to go."""

from datetime import date, time

import pytest
from django.test import Client
from icalendar import Calendar

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_person():
    return make_meeting(
        "aa",
        name="Lewes Serenity",
        attributes=("open", "wheelchair-access", "language-es"),
        moud_stance="welcoming",
        moud_source="Group secretary, by phone",
        moud_verified_on=date(2026, 3, 2),
        notes="Side door, upstairs.",
    )


def test_schedule_address_directions_and_moud_verification(client: Client, in_person):
    html = client.get(f"/meetings/{in_person.pk}/").content.decode()
    assert "Every Monday, 7 p.m. to 8 p.m." in html
    assert "1 Main St, Lewes, DE 19958, USA" in html
    assert "https://www.openstreetmap.org/directions?to=38.7746%2C-75.1393" in html
    assert "Welcomes people on MOUD" in html
    assert "Verified on March 2, 2026. Source: Group secretary, by phone." in html
    assert "Wheelchair Access" in html and "Side door, upstairs." in html
    assert f'href="/api/v1/meetings/{in_person.pk}.ics"' in html
    assert f'href="/meetings/{in_person.pk}/report/"' in html


def test_attributes_and_schedule_in_spanish(client: Client, in_person):
    html = client.get(f"/meetings/{in_person.pk}/", headers={"accept-language": "es"}).content.decode()
    assert '<html lang="es">' in html
    assert "Cada lunes, de 19:00 a 20:00" in html
    assert "Acceso en silla de ruedas" in html and "Accesibilidad" in html  # the vocabulary's Spanish
    assert "Verificado el 2 de marzo de 2026" in html


def test_online_meeting_has_join_link_and_phone_and_no_directions(client: Client):
    meeting = make_meeting(
        "smart",
        location=None,
        attendance_mode="online",
        conference_url="https://meet.example.org/smart",
        conference_phone="+1 555 0100",
        conference_phone_notes="Code 1234",
    )
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'href="https://meet.example.org/smart"' in html and "Join online" in html
    assert 'href="tel:+1 555 0100"' in html and "Code 1234" in html
    assert "directions" not in html
    assert "Nobody has told us yet" in html  # MOUD stance unknown


def test_by_appointment_meeting_has_no_calendar_link(client: Client):
    meeting = make_meeting("na", weekday=None, start_time=None, end_time=None)
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "By appointment: contact the group for times." in html
    assert ".ics" not in html


def test_the_calendar_file_linked_from_the_page(client: Client, in_person):
    response = client.get(f"/api/v1/meetings/{in_person.pk}.ics")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Lewes Serenity"
    assert event["DTSTART"].dt.time() == time(19, 0)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["BYDAY"] == ["MO"]


def test_viewers_zone_is_shown_beside_the_meetings_own(client: Client, in_person):
    html = client.get(f"/meetings/{in_person.pk}/", {"tz": "Asia/Tokyo"}).content.decode()
    assert "in New York" in html and "(New York time)" in html
    assert "America/New_York" not in html.split("<main", 1)[1]  # read as a city, not the database name
    assert "a.m." in html  # 7 p.m. in New York is the next morning in Tokyo


def test_unknown_meeting_is_a_404_page(client: Client):
    response = client.get("/meetings/999999/")
    assert response.status_code == 404
