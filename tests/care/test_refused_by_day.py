"""Managers see refused look-ups on a person's audit page, counted per day: Dave (Community team)
asks for Pat's record twice and is refused (404, a DENIED event each time); Alice, who manages
Pat's team, sees 2 for today. Days are the days of the team's time zone; only the team's
managers read them, in one query."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.care import queries

NOW = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC)  # 02:00 in Los Angeles


def refused_at(world, person, at, action=AuditAction.DENIED):
    audit.record(world.dave, action, None, object_type="care:person", object_id="x", person=person, at=at)


def test_a_refusal_shows_on_the_managers_audit_page_as_todays_count(client, world):
    client.force_login(world.dave)
    assert client.get(f"/staff/people/{world.pat.pk}/").status_code == 404
    assert client.get(f"/staff/people/{world.pat.pk}/audit/").status_code == 404

    client.force_login(world.alice)
    page = client.get(f"/staff/people/{world.pat.pk}/audit/")

    assert page.status_code == 200
    today = page.context["refused"][0]
    assert today.day == datetime.datetime.now(datetime.UTC).date() and today.refused == 2
    text = page.content.decode()
    assert "Refused look-ups per day" in text
    assert '<td class="count">2</td>' in text


def test_days_are_the_teams_days_and_only_denied_events_about_the_person_count(world):
    world.detox.time_zone = "America/Los_Angeles"
    world.detox.save()
    refused_at(world, world.pat, NOW - datetime.timedelta(hours=1))  # 01:00 on 3 December there
    refused_at(world, world.pat, NOW - datetime.timedelta(hours=3))  # 23:00 on 2 December there
    refused_at(world, world.pat, NOW - datetime.timedelta(days=13))  # the 14th day shown
    refused_at(world, world.pat, NOW - datetime.timedelta(days=14))  # before the days shown
    refused_at(world, world.pat, NOW, action=AuditAction.VIEW)  # not a refusal
    refused_at(world, world.quinn, NOW)  # another person

    days = queries.refused_by_day(world.alice, world.pat, NOW)

    assert len(days) == 14
    assert days[0].day == datetime.date(2026, 12, 3) and days[-1].day == datetime.date(2026, 11, 20)
    assert {day.day: day.refused for day in days if day.refused} == {
        datetime.date(2026, 12, 3): 1,
        datetime.date(2026, 12, 2): 1,
        datetime.date(2026, 11, 20): 1,
    }


def test_only_the_teams_managers_read_the_counts(world):
    for user in (world.bob, world.dave, world.nina):
        with pytest.raises(PermissionDenied):
            queries.refused_by_day(user, world.pat, NOW)


def test_the_counts_take_one_query(world, django_assert_num_queries):
    for hours in range(0, 14 * 24, 7):
        refused_at(world, world.pat, NOW - datetime.timedelta(hours=hours))
    world.pat.team.organisation  # noqa: B018 -- loaded with the person on the page
    with django_assert_num_queries(1 + 1):  # the counts; the access rule's look-up
        queries.refused_by_day(world.alice, world.pat, NOW)
