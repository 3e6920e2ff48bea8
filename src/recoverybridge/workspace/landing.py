"""Where each role starts, and whether a page asked for at sign-in (`next=`) is one the user may
open. One place decides: the sign-in form, the start page (/staff/home/) and the error pages'
"your start page" link all come here; what a user may do is `accounts.access.may`'s answer.
"""

from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from recoverybridge.accounts import access
from recoverybridge.accounts.models import Membership, Role

# Each part of the system's start page, most useful first: a user holding several roles starts
# at the first one they may use (a team manager on the team dashboard, not their own caseload).
STARTS = [
    ("teams.manage", "workspace:team"),
    ("caseload.view", "workspace:dashboard"),
    ("admin.site", "admin:index"),
    ("evaluation.view", "evaluation:start"),
    ("directory.review", "directory:editor_queue"),
    ("volunteers.coordinate", "volunteers:coordinate"),
    ("volunteering.own", "volunteers:mine"),
]

# What each page needs, by URL name (first match wins; None: anyone). The views refuse on their
# own; this copy lets a `next=` that the user could not open send them home instead of to a 403.
# tests/workspace/test_every_page.py holds it to the views' answers for every role.
PAGES = [
    ("workspace:home", None),
    ("workspace:team", "teams.manage"),
    ("workspace:*", "caseload.view"),
    ("outcomes:teams", "teams.manage"),
    ("outcomes:take", None),
    ("outcomes:thanks", None),
    ("outcomes:*", "caseload.view"),
    ("care:person_audit*", "teams.manage"),
    ("care:*", "caseload.view"),
    ("rights:disclosures*", "teams.manage"),  # read from the audit trail, which managers read
    ("rights:*", "caseload.view"),
    ("evaluation:*", "evaluation.view"),
    ("volunteers:answer", None),  # the person's own private link
    ("volunteers:introduction", None),  # a volunteer's, a worker's or a coordinator's (else 404)
    ("volunteers:arrange", "caseload.view"),
    ("volunteers:mine*", "volunteering.own"),
    ("volunteers:*", "volunteers.coordinate"),
    ("directory:editor_*", "directory.review"),
    ("admin:*", "admin.site"),
]
# Never somewhere to arrive after signing in.
NOT_A_DESTINATION = {"login", "logout", "accounts:verify"}


def start_of(user: access.User) -> str | None:
    """The URL of the user's own start page; None for a user with nothing to open yet."""
    for capability, name in STARTS:
        if access.may(user, capability):
            return reverse(name)
    return None


def roles_held(user: access.User) -> list[Membership]:
    """The user's roles, for the page of someone whose roles open nothing yet."""
    return list(access.memberships(user, Role.values).select_related("team__organisation"))


def needs(view_name: str) -> str | None:
    """The capability a page asks for (None: any signed-in user may open it)."""
    for pattern, capability in PAGES:
        if fnmatchcase(view_name, pattern):
            return capability
    return None


def may_open(user: access.User, path: str) -> bool:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    if match.view_name in NOT_A_DESTINATION:
        return False
    capability = needs(match.view_name)
    return capability is None or access.may(user, capability)


def after_sign_in(request: HttpRequest, asked_for: str) -> str:
    """Where to go now: the page asked for when it is on this site and the user may open it;
    otherwise their start page."""
    safe = url_has_allowed_host_and_scheme(
        asked_for, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if asked_for and safe and may_open(request.user, asked_for):
        return asked_for
    return start_of(request.user) or reverse("workspace:home")
