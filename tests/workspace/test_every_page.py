"""Every URL pattern of the site, opened with GET by every role (and by a user with no role yet):
a signed-in user is never sent to a sign-in form, and no page answers 500. Where
workspace.landing says a page needs a capability the user lacks, the answer is our 403 (or a
404 for a record out of scope, or 405 for a form-only address); where the user has it, never
403. So the copy of the rules that decides `next=` after sign-in agrees with the views."""

import datetime
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, EpisodeKind, ReferralTargetKind
from recoverybridge.directory.actions import changes
from recoverybridge.directory.models import Fellowship
from recoverybridge.outcomes import actions as outcomes
from recoverybridge.rights import actions as rights
from recoverybridge.rights.models import RequestKind
from recoverybridge.workspace import landing
from tests.care_world import World, make_user
from tests.factories import make_meeting

ROLES = ("alice", "bob", "carol", "dave", "sam", "nina", "cora", "eddie", "ada", "nobody")
SIGN_IN_PATHS = ("/accounts/login/", "/admin/login/")


def patterns(resolvers: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, list[str]]]:
    """(route, view name, argument names) of every pattern, with includes flattened."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            arguments = list(getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex)
            yield prefix + str(entry.pattern), name, arguments


@pytest.fixture
def records(world: World) -> dict[str, object]:
    """One of each record a URL can name, all about Pat (Detox) or the directory."""
    meeting = make_meeting("aa", name="Harbour Hall AA")
    referral = care.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="aa"),
        presented=[meeting],
        chosen=[meeting],
        now=timezone.now() - datetime.timedelta(days=10),
    )
    related = care.add_related_person(world.bob, world.pat, name="Jo Example", relationship="sister")
    consent = care.give_consent(world.bob, world.pat, purpose=ConsentPurpose.EVALUATION)
    episode = care.start_episode(
        world.bob, world.pat, kind=EpisodeKind.DETOX, started_on=timezone.localdate()
    )
    invitation, _token = outcomes.create_invitation(world.bob, world.pat, instrument_id="barc-10")
    draft = care.start_referral_draft(world.bob, world.pat)
    request = rights.record_request(
        world.bob, world.pat, kind=RequestKind.CORRECTION, received_on=timezone.localdate(), details="Name"
    )
    hold = rights.place_hold(world.alice, world.pat, reason="An inquiry")
    change = changes.report_change(meeting, proposed={"start_time": "18:30"}, message="Later now.")
    return {
        "person_id": world.pat.pk,
        "related_id": related.pk,
        "consent_id": consent.pk,
        "episode_id": episode.pk,
        "referral_id": referral.pk,
        "draft_id": draft.pk,
        "step": "options",
        "request_id": request.pk,
        "hold_id": hold.pk,
        "form": "pdf",
        "follow_up_id": referral.follow_ups.first().pk,
        "invitation_id": invitation.pk,
        "instrument_id": "barc-10",
        "change_id": change.pk,
        "meeting_id": meeting.pk,
        "token": "not-a-real-token",
        "app_label": "organisations",
        "object_id": str(world.harbour.pk),
        "content_type_id": "1",
        "url": "nowhere/",
    }


def urls(records: dict[str, object]) -> list[tuple[str, str]]:
    """(view name, concrete URL) for every pattern whose arguments we can fill."""
    found = []
    for _route, name, arguments in patterns(get_resolver().url_patterns):
        if not set(arguments) <= set(records) or "password_reset_confirm" in name:
            continue
        try:
            found.append((name, reverse(name, kwargs={a: records[a] for a in arguments})))
        except NoReverseMatch:  # a pattern these values do not fit (the coverage test checks)
            continue
    return found


def test_the_walk_covers_the_staff_pages(world, records):
    walked = {name for name, _url in urls(records)}
    staff = {
        name
        for _r, name, _a in patterns(get_resolver().url_patterns)
        if name.split(":")[0] in {"workspace", "care", "outcomes", "evaluation", "accounts", "rights"}
    }
    assert staff <= walked
    assert {
        "directory:editor_queue",
        "directory:editor_review",
        "directory:editor_moud",
        "admin:index",
    } <= walked


def user_for(world: World, username: str) -> User:
    if username == "nobody":
        return make_user("nobody")  # signed in, no role yet
    return world.user(username)


@pytest.mark.parametrize("username", ROLES)
def test_no_signed_in_user_is_ever_shown_the_sign_in_form(world, records, username):
    user = user_for(world, username)
    client = Client()
    client.force_login(user)
    problems = []
    for name, url in urls(records):
        response = client.get(url)  # an exception in a view fails the test here (never a 500)
        status = response.status_code
        location = response.get("Location", "")
        body = response.content.decode(errors="replace") if "html" in response.get("Content-Type", "") else ""
        if status == 500:
            problems.append(f"{url}: 500")
        if status in (301, 302) and any(location.startswith(p) for p in SIGN_IN_PATHS):
            problems.append(f"{url}: sent to sign in ({location})")
        if 'name="password"' in body:
            problems.append(f"{url}: the sign-in form")
        capability = landing.needs(name)
        if capability is not None and not access.may(user, capability):
            if status not in (403, 404, 405):
                problems.append(f"{url}: {status}, but {username} lacks {capability}")
        elif status == 403 and not name.startswith("admin:"):  # the admin has per-model permissions too
            problems.append(f"{url}: 403, but {username} may open {name}")
        if status == 403 and body:
            assert "You cannot open this page" in body and reverse("workspace:home") in body, url
    assert problems == [], "\n".join(problems)
