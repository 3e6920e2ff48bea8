"""Where each role lands after signing in through the form, what `next=` may do, and the menus
each role is offered. The landing page of every role is a 200 of a page that role can use."""

import datetime
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.care import actions
from recoverybridge.directory.models import Fellowship
from tests.care_world import World, make_user

PASSWORD = "a long staff passphrase"
# Where each role starts: the view it lands on, and a heading of that page.
STARTS = {
    "alice": ("workspace:team", "Team dashboard"),  # team manager
    "sam": ("workspace:team", "Team dashboard"),  # service manager
    "bob": ("workspace:dashboard", "My dashboard"),  # peer worker
    "carol": ("workspace:dashboard", "My dashboard"),  # clinician
    "dave": ("workspace:dashboard", "My dashboard"),
    "nina": ("workspace:dashboard", "My dashboard"),
    "cora": ("evaluation:start", "Evaluation reports"),  # commissioner
    "eddie": ("directory:editor_queue", "Change requests"),  # directory editor
    "ada": ("admin:index", "Site administration"),  # administrator
}


def with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str, next_path: str = ""):
    """Through the sign-in form, following every redirect to the page the user arrives on."""
    url = reverse("login") + (f"?next={next_path}" if next_path else "")
    data = {"username": username, "password": PASSWORD}
    if next_path:
        data["next"] = next_path
    return client.post(url, data, follow=True)


@pytest.mark.parametrize("username", sorted(STARTS))
def test_each_role_lands_on_its_own_start_page(world: World, client, username):
    with_password(world.user(username))
    response = sign_in(client, username)
    view, heading = STARTS[username]
    assert response.status_code == 200
    assert response.resolver_match.view_name == view
    assert heading in response.content.decode()
    assert 'name="password"' not in response.content.decode()
    # The header's "Staff" link goes to the same place.
    again = client.get(reverse("workspace:home"))
    assert again.status_code == 302 and again["Location"] == reverse(view)


def test_a_user_with_no_role_is_told_so_kindly(world, client):
    with_password(make_user("newcomer"))
    response = sign_in(client, "newcomer")
    assert response.status_code == 200 and response.resolver_match.view_name == "workspace:home"
    page = response.content.decode()
    assert "you have no role yet" in page and "newcomer" in page
    assert "Ask your team manager" in page
    assert 'name="password"' not in page


def test_a_commissioner_without_an_area_has_nothing_yet_and_is_told_why(world, client):
    world.county.area = ""
    world.county.save()
    with_password(world.cora)
    page = sign_in(client, "cora").content.decode()
    assert "Commissioner, Commissioning (County Commissioning)" in page
    assert "once their organisation's area is set" in page
    assert reverse("evaluation:start") not in page  # not offered a page that would refuse her


def test_the_page_asked_for_is_honoured_when_the_user_may_open_it(world, client):
    with_password(world.bob)
    person = reverse("care:person", args=[world.pat.pk])
    response = sign_in(client, "bob", person)
    assert response.resolver_match.view_name == "care:person"
    assert response.redirect_chain == [(person, 302)]  # straight there


@pytest.mark.parametrize(
    ("username", "asked_for", "lands_on"),
    [
        ("cora", "/staff/people/{pat}/", "evaluation:start"),  # no caseload: her start page instead
        ("bob", "/staff/evaluation/", "workspace:dashboard"),  # not a manager
        ("bob", "/editor/", "workspace:dashboard"),  # not a directory editor
        ("eddie", "/admin/", "directory:editor_queue"),  # not an administrator
        ("bob", "https://evil.example/staff/", "workspace:dashboard"),  # not this site
        ("bob", "//evil.example/", "workspace:dashboard"),
        ("bob", "/accounts/logout/", "workspace:dashboard"),  # never back out again
        ("bob", "/no/such/page/", "workspace:dashboard"),
        ("alice", "/staff/queue/", "workspace:queue"),  # a manager may open the work queue
        ("eddie", "/editor/", "directory:editor_queue"),
    ],
)
def test_a_page_the_user_may_not_open_sends_them_home_instead(world, client, username, asked_for, lands_on):
    with_password(world.user(username))
    response = sign_in(client, username, asked_for.format(pat=world.pat.pk))
    assert response.status_code == 200
    assert response.resolver_match.view_name == lands_on


def test_a_signed_in_user_who_opens_the_sign_in_page_is_sent_on(world, client):
    client.force_login(world.bob)
    response = client.get(reverse("login"), {"next": "/editor/"})
    assert response.status_code == 302 and response["Location"] == reverse("workspace:dashboard")
    response = client.get(reverse("login"))
    assert response["Location"] == reverse("workspace:dashboard")


def test_several_roles_get_the_most_useful_start_and_every_menu(world, client):
    """Bob also edits the directory: he starts on his caseload, with the review queue in his menus."""
    Membership.objects.create(user=world.bob, team=world.navigators, role=Role.DIRECTORY_EDITOR)
    Membership.objects.create(user=world.bob, team=world.commissioning, role=Role.COMMISSIONER)
    world.county.area = "East Sussex"
    world.county.save()
    with_password(world.bob)
    response = sign_in(client, "bob")
    assert response.resolver_match.view_name == "workspace:dashboard"
    nav = staff_nav(response.content.decode())
    for link in ("workspace:dashboard", "workspace:queue", "care:add_person", "evaluation:start"):
        assert f'href="{reverse(link)}"' in nav, link
    assert f'href="{reverse("directory:editor_queue")}"' in nav
    assert f'href="{reverse("workspace:team")}"' not in nav


def staff_nav(page: str) -> str:
    start = page.index('<nav class="staff-nav"')
    return page[start : page.index("</nav>", start)]


# What each role's menu offers (the staff nav), and what it never does.
MENUS = {
    "alice": {
        "workspace:team",
        "workspace:dashboard",
        "workspace:queue",
        "care:add_person",
        "evaluation:start",
    },
    "sam": {
        "workspace:team",
        "workspace:dashboard",
        "workspace:queue",
        "care:add_person",
        "evaluation:start",
    },
    "bob": {"workspace:dashboard", "workspace:queue", "care:add_person"},
    "nina": {"workspace:dashboard", "workspace:queue", "care:add_person"},
    "cora": {"evaluation:start"},
    "eddie": {"directory:editor_queue"},
}
EVERY_LINK = set().union(*MENUS.values()) | {"admin:index"}


@pytest.mark.parametrize("username", sorted(MENUS))
def test_menus_show_only_what_the_role_may_do(world, client, username):
    client.force_login(world.user(username))
    view, _heading = STARTS[username]
    page = client.get(reverse(view)).content.decode()
    nav = staff_nav(page)
    offered = {link for link in EVERY_LINK if f'href="{reverse(link)}"' in nav}
    assert offered == MENUS[username]
    # The site header: the editor link for directory editors only; "Staff" for everyone signed in.
    header = page[page.index('<header class="site-header">') : page.index("</header>")]
    assert (f'href="{reverse("directory:editor_queue")}"' in header) is (username == "eddie")
    assert f'href="{reverse("workspace:home")}"' in header


def test_a_commissioner_never_sees_add_a_person_and_is_refused_with_our_page(world, client):
    client.force_login(world.cora)
    evaluation = client.get(reverse("evaluation:start")).content.decode()
    assert "Add a person" not in evaluation
    refused = client.get(reverse("care:add_person"))
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Only members of a care team may add people." in page
    assert f'href="{reverse("workspace:home")}"' in page and "What you can do instead" in page
    assert 'name="password"' not in page


def test_the_team_dashboard_shows_the_queue_who_is_overdue_and_completion(world, client):
    smart = Fellowship.objects.get(slug="smart")
    three_weeks_ago = timezone.now() - datetime.timedelta(days=21)
    actions.create_referral(
        world.bob, world.pat, target_kind="fellowship", fellowship=smart, now=three_weeks_ago
    )
    client.force_login(world.alice)
    response = client.get(reverse("workspace:team"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 overdue" in page
    overdue = page[page.index('id="overdue-heading"') :]
    assert re.search(r'<th scope="row">bob</th>\s*<td>1</td>', overdue)
    assert f'href="{reverse("care:person", args=[world.pat.pk])}"' in page
    assert f'href="{reverse("outcomes:teams")}"' in page
    assert "Detox" in page and "Community" not in page  # Alice manages Detox only
