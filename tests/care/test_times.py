"""Times and dates as the person reads them (care.times): in their own zone, with the meeting's
zone alongside when the clocks differ, and dates as their region writes them."""

from datetime import UTC, date, datetime, time

import pytest
from django.utils import translation

from recoverybridge.care.times import format_locale, long_date, meeting_time
from recoverybridge.directory.models import Meeting
from recoverybridge.organisations.models import Organisation, Team


def weekly(zone: str, weekday: int, start: time, end: time | None = None) -> Meeting:
    return Meeting(weekday=weekday, start_time=start, end_time=end, timezone=zone)


TORONTO_THURSDAY_2PM = weekly("America/Toronto", 4, time(14, 0), time(15, 0))


@pytest.mark.parametrize(
    ("now", "local"),
    [
        # Both on standard time: five hours apart.
        (datetime(2026, 3, 2, 12, tzinfo=UTC), "Every Thursday, 7 p.m. to 8 p.m."),
        # Toronto has moved its clocks on (8 March), London not yet (29 March): four hours apart.
        (datetime(2026, 3, 10, 12, tzinfo=UTC), "Every Thursday, 6 p.m. to 7 p.m."),
        # Both on summer time: five again.
        (datetime(2026, 4, 1, 12, tzinfo=UTC), "Every Thursday, 7 p.m. to 8 p.m."),
        # London has gone back (25 October), Toronto not yet (1 November): four.
        (datetime(2026, 10, 27, 12, tzinfo=UTC), "Every Thursday, 6 p.m. to 7 p.m."),
    ],
)
def test_a_toronto_meeting_for_someone_in_london_across_the_clock_changes(now, local):
    shown = meeting_time(TORONTO_THURSDAY_2PM, "Europe/London", now, "en-gb")
    assert shown.local == local
    assert shown.elsewhere == "2 p.m. in Toronto"


def test_an_online_meeting_in_tokyo_falls_on_another_day_in_london():
    early = weekly("Asia/Tokyo", 4, time(7, 0), time(8, 0))  # Thursday 7 a.m. in Tokyo
    winter = meeting_time(early, "Europe/London", datetime(2026, 1, 12, tzinfo=UTC), "en-gb")
    assert winter.local == "Every Wednesday, 10 p.m. to 11 p.m."
    assert winter.elsewhere == "Thursday 7 a.m. in Tokyo"
    summer = meeting_time(early, "Europe/London", datetime(2026, 7, 6, tzinfo=UTC), "en-gb")
    assert summer.local == "Every Wednesday, 11 p.m. to midnight"


def test_in_the_same_zone_there_is_nothing_to_add():
    here = weekly("Europe/London", 1, time(19, 30))
    shown = meeting_time(here, "Europe/London", datetime(2026, 3, 2, tzinfo=UTC), "en-gb")
    assert shown.local == "Every Monday, 7:30 p.m." and shown.elsewhere == ""
    # Another zone with the same clock (Dublin and London) is not worth a second time either.
    assert meeting_time(here, "Europe/Dublin", datetime(2026, 3, 2, tzinfo=UTC), "en-gb").elsewhere == ""


def test_a_meeting_past_midnight_and_one_by_appointment():
    late = weekly("Europe/London", 5, time(23, 0), time(0, 30))
    assert meeting_time(late, "Europe/London", datetime(2026, 3, 2, tzinfo=UTC), "en-gb").local == (
        "Every Friday, 11 p.m. to 12:30 a.m."
    )
    anytime = Meeting(weekday=None, start_time=None, timezone="Europe/London")
    assert (
        "By appointment"
        in meeting_time(anytime, "Europe/London", datetime(2026, 3, 2, tzinfo=UTC), "en").local
    )


def test_in_spanish_with_spanish_times():
    with translation.override("es"):
        shown = meeting_time(
            TORONTO_THURSDAY_2PM, "Europe/Madrid", datetime(2026, 3, 2, 12, tzinfo=UTC), "es"
        )
    assert shown.local == "Cada jueves, de 20:00 a 21:00"
    assert shown.elsewhere == "14:00 en Toronto"


@pytest.mark.parametrize(
    ("zone", "language", "locale", "written"),
    [
        ("Europe/London", "en", "en-gb", "Saturday, 14 Mar 2026"),
        ("America/New_York", "en", "en", "Saturday, March 14, 2026"),
        ("America/Toronto", "en", "en-ca", "Saturday, 14 Mar 2026"),
        ("Europe/Madrid", "es", "es", "sábado, 14 de marzo de 2026"),
        ("America/Mexico_City", "es", "es-mx", "sábado, 14 de marzo de 2026"),
        ("UTC", "en", "en", "Saturday, March 14, 2026"),
    ],
)
def test_dates_as_each_region_writes_them(zone, language, locale, written):
    with translation.override(language):
        assert format_locale(zone) == locale
        assert long_date(date(2026, 3, 14), locale) == written


def test_a_persons_zone_comes_from_their_team_or_organisation_or_the_site(world, settings):
    settings.TIME_ZONE = "UTC"
    pat = world.pat
    assert pat.zone_name == "UTC"
    Organisation.objects.filter(pk=world.harbour.pk).update(time_zone="Europe/London")
    pat.team = Team.objects.select_related("organisation").get(pk=world.detox.pk)
    assert pat.zone_name == "Europe/London"
    pat.team.time_zone = "Europe/Dublin"
    assert pat.zone_name == "Europe/Dublin"
    pat.time_zone = "America/Toronto"
    assert pat.zone_name == "America/Toronto"


def test_a_new_persons_zone_and_navigator_default_to_the_worker_and_their_team(world, client):
    Organisation.objects.filter(pk=world.harbour.pk).update(time_zone="Europe/London")
    client.force_login(world.bob)
    body = client.get("/staff/people/new/").content.decode()
    assert '<option value="Europe/London" selected>London</option>' in body
    assert f'<option value="{world.bob.pk}" selected>' in body
    assert '<option value="" selected>' not in body  # not "Nobody yet"


def test_an_unknown_zone_is_refused_clearly(world, client):
    client.force_login(world.bob)
    response = client.post(
        "/staff/people/new/",
        {
            "team": world.detox.pk,
            "given_name": "Jo",
            "preferred_language": "en",
            "spiritual_preference": "none",
            "attendance_preference": "either",
            "group_gender_preference": "any",
            "time_zone": "Mars/Olympus_Mons",
        },
    )
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
