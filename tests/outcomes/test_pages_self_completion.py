"""Self-completion links. Bob sends Pat a BARC-10 link from the outcomes page and sees it once;
Pat answers on the public page without signing in, one question a screen, in Spanish if the
link says so (or switches). Answers are saved as Pat goes, so the link resumes where Pat left
off. Once completed, expired or revoked, the link answers 410 with a kind message. Too many
requests answer 429. The page never shows Pat's name."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from recoverybridge.outcomes import actions
from recoverybridge.outcomes.models import Invitation, InvitationKind, Response, ResponseStatus
from tests.outcomes.pages_world import client_for


def link(world, language="en", **kwargs) -> str:
    _invitation, token = actions.create_invitation(
        world.bob, world.pat, instrument_id="barc-10", language=language, **kwargs
    )
    return f"/q/{token}/"


def answer_all(client: Client, path: str, value: str = "5") -> None:
    for n in range(1, 11):
        response = client.post(f"{path}?step={n}", {f"a_barc-{n}": value, "next": ""})
        assert response.status_code == 302, (n, response.content.decode()[:2000])
    assert client.post(f"{path}?step=11", {"finish": ""}).status_code == 302


def test_bob_sends_a_link_and_sees_it_once(world):
    bob = client_for(world.bob)
    page = bob.get(f"/staff/people/{world.pat.pk}/outcomes/links/new/")
    assert page.status_code == 200
    response = bob.post(
        f"/staff/people/{world.pat.pk}/outcomes/links/new/",
        {"what": "questionnaire:barc-10", "language": "es", "valid_days": "7"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'value="(http://localhost:8000/q/([^/"]+)/)"', html)
    assert found, html
    token = found.group(2)
    invitation = Invitation.objects.get()
    assert invitation.token_hash == actions.hash_token(token) and token not in invitation.token_hash
    assert invitation.language == "es"
    assert (
        datetime.timedelta(days=6)
        < invitation.expires_at - invitation.created_at
        <= datetime.timedelta(days=7)
    )
    # The outcomes page lists the open link, never the token.
    outcomes = bob.get(f"/staff/people/{world.pat.pk}/outcomes/").content.decode()
    assert "works until" in outcomes and token not in outcomes


def test_sending_needs_an_instrument_and_scope(world):
    bob = client_for(world.bob)
    response = bob.post(
        f"/staff/people/{world.pat.pk}/outcomes/links/new/",
        {"language": "en", "valid_days": "7"},
    )
    assert response.status_code == 400 and not Invitation.objects.exists()
    assert "Choose the questionnaire to send, or the check-in." in response.content.decode()
    response = bob.post(
        f"/staff/people/{world.pat.pk}/outcomes/links/new/",
        {"what": "questionnaire:nonsense", "language": "xx", "valid_days": "999"},
    )
    assert response.status_code == 400
    for user in ("dave", "nina"):
        response = client_for(world.user(user)).post(
            f"/staff/people/{world.pat.pk}/outcomes/links/new/",
            {"what": "questionnaire:barc-10", "language": "en", "valid_days": "7"},
        )
        assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_completing_barc_through_the_link(world):
    path = link(world)
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your questionnaire" in html and "Question 1 of 10" in html
    assert "Pat" not in html and "Example" not in html and "RB-PAT" not in html
    assert page["Referrer-Policy"] == "strict-origin"
    answer_all(client, path)
    response = Response.objects.get()
    assert response.status == ResponseStatus.COMPLETED and response.scores["total"] == 50
    assert response.mode == "self" and response.collected_by is None
    thanks = client.get("/q/thanks/?lang=en")
    assert thanks.status_code == 200 and "Thank you" in thanks.content.decode()


def test_single_use(world):
    path = link(world)
    client = Client()
    answer_all(client, path)
    again = client.get(path)
    assert again.status_code == 410
    assert "This link no longer works" in again.content.decode()
    assert client.post(f"{path}?step=1", {"a_barc-1": "1"}).status_code == 410
    assert Response.objects.get().answers["barc-1"] == "5"


def test_expired(world):
    path = link(world, now=timezone.now() - datetime.timedelta(days=15))
    response = Client().get(path)
    assert response.status_code == 410 and "no longer works" in response.content.decode()


def test_revoked_by_bob(world):
    path = link(world)
    invitation = Invitation.objects.get()
    # Dave (another team) cannot revoke it.
    assert (
        client_for(world.dave)
        .post(f"/staff/people/{world.pat.pk}/outcomes/links/{invitation.pk}/revoke/")
        .status_code
        == 404
    )
    assert Client().get(path).status_code == 200
    response = client_for(world.bob).post(
        f"/staff/people/{world.pat.pk}/outcomes/links/{invitation.pk}/revoke/"
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Client().get(path).status_code == 410


def test_unknown_token_looks_the_same(world):
    response = Client().get("/q/not-a-real-token/")
    assert response.status_code == 410 and "no longer works" in response.content.decode()


def test_partial_save_then_resume(world):
    path = link(world)
    first = Client()
    for n in (1, 2, 3):
        assert first.post(f"{path}?step={n}", {f"a_barc-{n}": "4", "next": ""}).status_code == 302
    saved = Response.objects.get()
    assert saved.status == ResponseStatus.IN_PROGRESS and saved.answers == {
        "barc-1": "4",
        "barc-2": "4",
        "barc-3": "4",
    }
    # Later, on another device: the link opens at the first unanswered question.
    later = Client().get(path)
    assert later.status_code == 200 and "Question 4 of 10" in later.content.decode()
    # Going back shows the saved answer.
    back = Client().get(f"{path}?step=2").content.decode()
    assert re.search(r'value="4"[^>]*checked', back)
    # Changing an answer replaces it; skipping (posting nothing) clears only that one.
    Client().post(f"{path}?step=2", {"a_barc-2": "6"})
    Client().post(f"{path}?step=3", {})
    saved.refresh_from_db()
    assert saved.answers == {"barc-1": "4", "barc-2": "6"}


def test_finish_screen_lists_unanswered_and_completes_with_proration(world):
    path = link(world)
    client = Client()
    for n in range(1, 10):  # nine of ten
        client.post(f"{path}?step={n}", {f"a_barc-{n}": "5"})
    finish = client.get(f"{path}?step=11").content.decode()
    assert "You answered 9 of 10 questions." in finish and "Question 10" in finish
    assert client.post(f"{path}?step=11", {"finish": ""}).status_code == 302
    response = Response.objects.get()
    assert response.status == ResponseStatus.COMPLETED and response.scores["total"] == 50  # prorated 45*10/9


def test_a_bad_answer_is_explained_not_saved(world):
    path = link(world)
    response = Client().post(f"{path}?step=1", {"a_barc-1": "17"})
    assert response.status_code == 400
    assert "Please check these answers" in response.content.decode()
    assert not Response.objects.exists()
    assert Client().get(f"{path}?step=999").status_code == 200  # out of range step: resumes


def test_in_the_invitations_language_with_a_switcher(world):
    path = link(world, language="es")
    html = Client().get(path).content.decode()
    assert '<html lang="es">' in html
    assert "Hay cosas más importantes para mí en la vida" in html
    assert 'hreflang="en"' in html and "lang=en" in html
    english = Client().get(f"{path}?lang=en").content.decode()
    assert '<html lang="en">' in english and "There are more important things" in english


def test_rate_limit_per_token(world, settings):
    settings.OUTCOME_LINK_REQUESTS_PER_TOKEN_HOUR = 5
    path = link(world)
    statuses = [Client(REMOTE_ADDR=f"10.0.0.{n}").get(path).status_code for n in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = Client().get(path)
    assert limited["Retry-After"] == "3600"
    assert Client().get(link(world)).status_code == 200  # another link is not held back


def test_rate_limit_per_client(world, settings):
    settings.OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR = 3
    client = Client(REMOTE_ADDR="192.0.2.7")
    statuses = [client.get(f"/q/guess-{n}/").status_code for n in range(4)]
    assert statuses == [410, 410, 410, 429]
    assert Client(REMOTE_ADDR="192.0.2.8").get(link(world)).status_code == 200


@pytest.mark.django_db
def test_check_in_link(world):
    from recoverybridge.directory.models import Fellowship
    from tests.factories import make_location, make_meeting

    if not Fellowship.objects.filter(slug="aa").exists():
        pytest.skip("vocabulary not loaded")
    town = make_location(
        name="Lewes Town Hall", city="Lewes", latitude=50.873, longitude=0.009, timezone="Europe/London"
    )
    meeting = make_meeting("aa", location=town, name="Lewes Daily AA")
    _invitation, token = actions.create_invitation(world.bob, world.pat, kind=InvitationKind.CHECK_IN)
    client = Client()
    page = client.get(f"/q/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Lewes Daily AA" in html and "Pat" not in html
    response = client.post(
        f"/q/{token}/", {"meetings": [str(meeting.pk)], "other_meetings": "1", "mood": "4", "cravings": "2"}
    )
    assert response.status_code == 302
    check_in = world.pat.check_ins.get()
    assert (check_in.meetings_count, check_in.mood, check_in.cravings) == (2, 4, 2)
    assert client.get(f"/q/{token}/").status_code == 410


def test_errors_in_spanish_name_the_question_in_spanish(world):
    _invitation, token = actions.create_invitation(
        world.bob, world.pat, instrument_id="social-network", language="es"
    )
    response = Client().post(f"/q/{token}/?step=1", {"a_network-size": "99"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Revise estas respuestas" in html
    # The scoring engine's message, with the question in Spanish.
    assert "está fuera del rango" in html and "«¿Cuántas personas" in html
    assert 'value="99"' in html  # kept
    assert not Response.objects.exists()


def test_gone_page_in_the_links_language(world):
    path = link(world, language="es")
    Invitation.objects.update(revoked_at=timezone.now())
    html = Client().get(path).content.decode()
    assert '<html lang="es">' in html and "Este enlace ya no funciona" in html
