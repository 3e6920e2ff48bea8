"""Staff entry: Bob enters Pat's BARC-10 (and any other instrument) from its Questionnaire
file, in English or Spanish. A half-filled form keeps its answers; an out-of-range answer comes
back with the scoring engine's message on that item; never a 500. Dave and Nina get a 404."""

import datetime

import pytest

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import EpisodeKind
from recoverybridge.outcomes import actions
from recoverybridge.outcomes.models import Response, ResponseStatus, ScheduledAssessment
from tests.outcomes.pages_world import ALL_FIVES, barc_post, client_for


def url(person, instrument="barc-10") -> str:
    return f"/staff/people/{person.pk}/outcomes/enter/{instrument}/"


@pytest.mark.parametrize(
    ("user", "person", "status"),
    [
        ("bob", "pat", 200),
        ("alice", "pat", 200),
        ("dave", "pat", 404),
        ("nina", "pat", 404),
        ("cora", "pat", 404),
    ],
)
def test_who_may_enter(world, user, person, status):
    client = client_for(world.user(user))
    assert client.get(url(world.person(person))).status_code == status
    response = client.post(url(world.person(person)), barc_post(ALL_FIVES, time_point="baseline"))
    assert response.status_code == (302 if status == 200 else 404)
    assert Response.objects.count() == (1 if status == 200 else 0)


def test_every_instrument_renders(world):
    client = client_for(world.bob)
    for instrument in ("barc-10", "substance-use-28", "social-network", "mutual-help"):
        response = client.get(url(world.pat, instrument))
        assert response.status_code == 200, instrument
    assert client.get(url(world.pat, "no-such-thing")).status_code == 404


def test_options_in_the_viewers_language(world, settings):
    client = client_for(world.bob)
    html = client.get(url(world.pat)).content.decode()
    assert "Strongly disagree" in html and "There are more important things to me in life" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    html = client.get(url(world.pat)).content.decode()
    assert "Hay cosas más importantes para mí en la vida" in html
    assert "Strongly disagree" not in html


def test_good_answers_are_recorded_through_the_action(world):
    response = client_for(world.bob).post(url(world.pat), barc_post(ALL_FIVES, time_point="baseline"))
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{world.pat.pk}/outcomes/"
    saved = Response.objects.get()
    assert saved.status == ResponseStatus.COMPLETED and saved.scores["total"] == 50
    assert saved.time_point == "baseline" and saved.collected_by == world.bob
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="outcomes.response").count() == 1


def test_out_of_range_keeps_answers_and_names_the_item(world):
    answers = {"network-size": "5", "in-recovery": "2", "supportive": "40"}
    response = client_for(world.bob).post(
        url(world.pat, "social-network"),
        {**{f"a_{k}": v for k, v in answers.items()}, "time_point": "ad-hoc"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "out of range" in html or "cannot be more than" in html
    assert 'value="5"' in html and 'value="2"' in html and 'value="40"' in html  # kept
    assert 'aria-invalid="true"' in html
    assert not Response.objects.exists()


def test_not_a_number_and_unknown_option_are_errors_not_500s(world):
    client = client_for(world.bob)
    response = client.post(
        url(world.pat, "social-network"), {"a_network-size": "lots", "time_point": "ad-hoc"}
    )
    assert response.status_code == 400 and "whole number" in response.content.decode()
    response = client.post(url(world.pat), {"a_barc-1": "9", "time_point": "ad-hoc"})
    assert response.status_code == 400
    response = client.post(url(world.pat), {"a_barc-1": "5", "time_point": "someday"})
    assert response.status_code == 400
    response = client.post(
        url(world.pat, "mutual-help"), {"a_meetings__rows": "x" * 20, "time_point": "ad-hoc"}
    )
    assert response.status_code in (302, 400)
    assert not Response.objects.filter(status=ResponseStatus.COMPLETED, instrument="barc-10").exists()


def test_save_for_later_then_carry_on(world):
    client = client_for(world.bob)
    response = client.post(
        url(world.pat), barc_post({"barc-1": "4", "barc-2": "3"}, time_point="3m", save_for_later="")
    )
    assert response.status_code == 302
    started = Response.objects.get()
    assert started.status == ResponseStatus.IN_PROGRESS and started.answers == {"barc-1": "4", "barc-2": "3"}
    page = client.get(f"/staff/people/{world.pat.pk}/outcomes/").content.decode()
    assert f"?response={started.pk}" in page
    html = client.get(url(world.pat) + f"?response={started.pk}").content.decode()
    assert 'value="4" checked' in html.replace(" required", "") or "checked" in html
    response = client.post(url(world.pat) + f"?response={started.pk}", barc_post(ALL_FIVES))
    assert response.status_code == 302
    started.refresh_from_db()
    assert started.status == ResponseStatus.COMPLETED and started.scores["total"] == 50
    # A completed response cannot be carried on.
    assert client.get(url(world.pat) + f"?response={started.pk}").status_code == 404


def test_another_teams_in_progress_response_is_404(world):
    quinn = actions.record_response(world.dave, world.quinn, "barc-10", {"barc-1": "4"}, complete=False)
    assert client_for(world.bob).get(url(world.pat) + f"?response={quinn.pk}").status_code == 404
    assert client_for(world.bob).get(url(world.pat) + "?response=abc").status_code == 404


def test_repeating_group_rows(world):
    data = {
        "time_point": "ad-hoc",
        "a_meetings__0__a_meetings__fellowship": "other",
        "a_meetings__0__a_meetings__count": "12",
        "a_meetings__1__a_meetings__fellowship": "other",
        "a_meetings__1__a_meetings__count": "3",
        "a_sponsor-or-mentor": "yes",
        "a_service-role": "no",
    }
    response = client_for(world.bob).post(url(world.pat, "mutual-help"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Response.objects.get()
    assert saved.scores["meetings-total"] == 15
    assert saved.answers["sponsor-or-mentor"] is True and saved.answers["service-role"] is False


def test_scheduled_assessment_is_fulfilled(world):
    from recoverybridge.care import actions as care

    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.COMMUNITY_TREATMENT, started_on=datetime.date.today()
    )
    actions.generate_schedule(world.bob, episode)
    due = ScheduledAssessment.objects.get(instrument="barc-10", time_point="baseline")
    client = client_for(world.bob)
    html = client.get(url(world.pat) + f"?scheduled={due.pk}").content.decode()
    assert "Baseline" in html
    response = client.post(
        url(world.pat) + f"?scheduled={due.pk}", barc_post(ALL_FIVES, time_point="baseline")
    )
    assert response.status_code == 302
    due.refresh_from_db()
    assert due.response is not None
