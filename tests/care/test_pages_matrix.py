"""Every staff page for every role, against a person on the user's own team, on another team
of the same organisation, and at another organisation. The expectations are written out in
full: a change of rule shows up as a changed cell, and any person page a user may not see
answers 404 (never 403), so it does not even say whether the person exists.

Pat is on Harbour's Detox team, Quinn on Harbour's Community team, Rowan at Bridge.
"""

import re

import pytest
from django.test import Client

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.models import Referral, ReferralTargetKind
from recoverybridge.directory.models import Fellowship
from tests.factories import make_meeting

USERS = ("alice", "bob", "carol", "dave", "sam", "nina", "cora", "eddie", "ada")
PEOPLE = ("pat", "quinn", "rowan")

# Whose records each user may open: the same table as test_access_matrix's SEES.
SEES = {
    "alice": {"pat"},  # team manager, Detox
    "bob": {"pat"},  # peer worker, Detox
    "carol": {"pat"},  # clinician, Detox
    "dave": {"quinn"},  # peer worker, Community
    "sam": {"pat", "quinn"},  # service manager, Harbour
    "nina": {"rowan"},  # peer worker, Bridge
    "cora": set(),  # commissioner: aggregates only
    "eddie": set(),  # directory editor
    "ada": set(),  # administrator (and superuser): no care records
}
# Whose audit trail each user may read and export: managers of the person's team.
AUDITS = {"alice": {"pat"}, "sam": {"pat", "quinn"}}
# Pages that do not name a person (the dashboard, the work queue, adding a person) are for
# members of care teams and service managers, showing only their own scope; anyone else gets 403.
MAY_ADD_PEOPLE = {"alice", "bob", "carol", "dave", "sam", "nina"}

PERSON_PAGES = (
    "timeline",
    "edit",
    "related",
    "refer",
    "consent",
    "episode",
    "contact",
    "referral",
    "takeaway",
    "related_edit",
    "related_remove",
    "follow_up",
)
AUDIT_PAGES = ("audit", "audit_export")


def expected(page: str, user: str, person: str) -> int:
    sees = person in SEES[user]
    if page in AUDIT_PAGES:
        if person in AUDITS.get(user, set()):
            return 200
        return 403 if sees else 404
    return 200 if sees else 404


@pytest.fixture
def referrals(world):
    """A referral of each person, made by their own team, with one meeting presented."""
    aa = Fellowship.objects.get(slug="aa")
    meeting = make_meeting("aa", name="Harbour Hall AA")
    by = {"pat": world.bob, "quinn": world.dave, "rowan": world.nina}
    return {
        name: actions.create_referral(
            by[name],
            world.person(name),
            target_kind=ReferralTargetKind.FELLOWSHIP,
            fellowship=aa,
            presented=[meeting],
            chosen=[meeting],
        )
        for name in PEOPLE
    }


@pytest.fixture
def related_people(world):
    """A family member of each person, added by their own team."""
    by = {"pat": world.bob, "quinn": world.dave, "rowan": world.nina}
    return {
        name: actions.add_related_person(
            by[name], world.person(name), name="Jo Example", relationship="sister"
        )
        for name in PEOPLE
    }


def request(client: Client, page: str, person, referral):
    base = f"/staff/people/{person.pk}/"
    if page == "audit_export":
        return client.post(base + "audit/export/")
    url = {
        "timeline": base,
        "edit": base + "edit/",
        "related": base + "related/new/",
        "refer": base + "refer/",
        "consent": base + "consent/",
        "episode": base + "episodes/new/",
        "contact": base + "contacts/new/",
        "audit": base + "audit/",
        "referral": f"/staff/referrals/{referral.pk}/",
        "takeaway": f"/staff/referrals/{referral.pk}/take-away.pdf",
        "related_edit": base + f"related/{person.related_people.get().pk}/edit/",
        "related_remove": base + f"related/{person.related_people.get().pk}/remove/",
        "follow_up": f"/staff/follow-ups/{referral.follow_ups.order_by('due_on').first().pk}/",
    }[page]
    return client.get(url)


CELLS = [(p, u, n) for p in (*PERSON_PAGES, *AUDIT_PAGES) for u in USERS for n in PEOPLE]


@pytest.mark.parametrize(("page", "username", "person_name"), CELLS)
def test_person_pages(world, referrals, related_people, client, page, username, person_name):
    user, person = world.user(username), world.person(person_name)
    client.force_login(user)
    before = AuditEvent.objects.filter(actor=user, person_id=person.pk).exclude(action=AuditAction.DENIED)
    count = before.count()
    response = request(client, page, person, referrals[person_name])
    want = expected(page, username, person_name)
    assert response.status_code == want
    body = response.content
    if want != 200:
        # Nothing about the person leaks into a refusal, and no view is recorded as made.
        assert person.given_name.encode() not in body and person.reference.encode() not in body
        assert before.count() == count


@pytest.mark.parametrize("page", [*PERSON_PAGES, *AUDIT_PAGES])
def test_person_pages_need_signing_in(world, referrals, related_people, client, page):
    response = request(client, page, world.pat, referrals["pat"])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("username", USERS)
def test_dashboard_queue_and_add_person(world, client, username):
    client.force_login(world.user(username))
    want = 200 if username in MAY_ADD_PEOPLE else 403
    assert client.get("/staff/").status_code == want
    assert client.get("/staff/queue/").status_code == want
    assert client.get("/staff/people/new/").status_code == want


@pytest.mark.parametrize("username", USERS)
def test_dashboard_lists_exactly_the_people_in_scope(world, client, username):
    client.force_login(world.user(username))
    response = client.get("/staff/?show=team")
    assert response.status_code == (200 if username in MAY_ADD_PEOPLE else 403)
    body = response.content.decode()
    for name in PEOPLE:
        assert (world.person(name).reference in body) is (name in SEES[username])


@pytest.mark.parametrize("url", ["/staff/", "/staff/queue/", "/staff/people/new/"])
def test_pages_without_a_person_need_signing_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_missing_person_looks_like_one_out_of_scope(world, client):
    client.force_login(world.bob)
    missing = client.get("/staff/people/999999/")
    hidden = client.get(f"/staff/people/{world.quinn.pk}/")
    assert missing.status_code == hidden.status_code == 404
    assert same_page(missing.content.decode()) == same_page(hidden.content.decode())


def same_page(html: str) -> str:
    """The page without what differs on every page by design: the forms' security tokens (masked
    afresh each time) and the language form's return address."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'name="next" type="hidden" value="[^"]*"', "", html)


@pytest.mark.parametrize("username", USERS)
def test_dashboard_referrals_are_the_users_to_see(world, referrals, username):
    """Recent referrals: exactly those of people in the user's scope, all within what restrict lets them see."""
    from django.utils import timezone

    from recoverybridge.care import queries

    user = world.user(username)
    shown = queries.dashboard(
        user, mine_only=False, search="", page=1, today=timezone.localdate()
    ).recent_referrals
    assert set(shown) <= set(Referral.objects.restrict(user))
    assert {r.person.given_name.lower() for r in shown} == SEES[username]


# ---------------------------------------------------------------- the referral wizard's drafts

DRAFT_STEPS = ("matters", "options", "target", "contact", "follow-up", "review")


@pytest.fixture
def drafts(world):
    """Each person's referral, started by their own team's worker and not sent yet."""
    by = {"pat": world.bob, "quinn": world.dave, "rowan": world.nina}
    return {name: actions.start_referral_draft(by[name], world.person(name)) for name in PEOPLE}


DRAFT_OWNER = {"pat": "bob", "quinn": "dave", "rowan": "nina"}


@pytest.mark.parametrize("step", [*DRAFT_STEPS, "resume"])
@pytest.mark.parametrize("username", USERS)
def test_a_draft_is_its_workers_alone(world, drafts, client, username, step):
    """Only the worker who started a draft opens it: a colleague on the same team, a manager or
    anyone else gets a 404, as for a record out of scope, and nothing of the person leaks."""
    client.force_login(world.user(username))
    for name in PEOPLE:
        draft = drafts[name]
        url = f"/staff/referral-drafts/{draft.pk}/" + ("" if step == "resume" else f"{step}/")
        response = client.get(url)
        mine = DRAFT_OWNER[name] == username
        assert response.status_code == (302 if mine and step == "resume" else 200 if mine else 404), (
            name,
            url,
        )
        if not mine:
            assert world.person(name).reference.encode() not in response.content
            if step != "resume":
                assert client.post(url, {"go": "next"}).status_code == 404
            assert client.post(f"/staff/referral-drafts/{draft.pk}/discard/").status_code == 404


def test_a_colleague_starts_a_draft_of_their_own(world, drafts, client):
    """Carol works with Pat too: "Refer" starts her own draft, never Bob's."""
    client.force_login(world.carol)
    assert client.get(f"/staff/people/{world.pat.pk}/refer/").status_code == 200  # the first step, afresh
    client.force_login(world.bob)
    response = client.get(f"/staff/people/{world.pat.pk}/refer/")
    assert (
        response.status_code == 302
        and response["Location"] == f"/staff/referral-drafts/{drafts['pat'].pk}/matters/"
    )


def test_a_person_who_moves_team_takes_their_draft_out_of_reach(world, drafts, client):
    world.pat.team = world.community
    world.pat.save()
    client.force_login(world.bob)
    assert client.get(f"/staff/referral-drafts/{drafts['pat'].pk}/matters/").status_code == 404


@pytest.mark.parametrize("username", USERS)
def test_starting_a_referral(world, client, username):
    """Going on from the first step makes a draft for people in scope; anyone else gets a 404 and
    no draft, as for any record out of scope."""
    from recoverybridge.care.models import ReferralDraft
    from tests.care.wizard_steps import matters_of

    client.force_login(world.user(username))
    for name in PEOPLE:
        person = world.person(name)
        response = client.post(f"/staff/people/{person.pk}/refer/", matters_of(person))
        made = ReferralDraft.objects.filter(person=person, owner=world.user(username)).exists()
        if name in SEES[username]:
            assert response.status_code == 302 and made
        else:
            assert response.status_code == 404 and not made
            assert person.reference.encode() not in response.content
