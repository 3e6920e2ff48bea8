"""The staff's way in: signing in, each role's start page, a worker's day (the dashboard and the
work queue) and a manager's team dashboard.

They sit above the domain apps because they bring several together: care's follow-ups and
referrals, the outcome assessments that are due, and people's requests about their records. Thin: every read comes from the apps'
read sides, scoped to the user there; where each role starts is workspace.landing's answer.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import Refused, staff_page
from recoverybridge.care import actions as care_actions
from recoverybridge.care import queries as care
from recoverybridge.outcomes import queries as outcomes
from recoverybridge.rights import queries as rights
from recoverybridge.workspace import landing


class SignInView(LoginView):
    """Django's sign-in form, arriving where landing says: the page asked for (`next=`) when the
    user may open it, else their start page. A user already signed in is sent on, never shown
    the form again."""

    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        return landing.after_sign_in(self.request, self.get_redirect_url())


@staff_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page; a kind word for a user who has no role yet."""
    start = landing.start_of(request.user)
    if start is not None:
        return HttpResponseRedirect(start)
    return render(request, "workspace/no_role.html", {"memberships": landing.roles_held(request.user)})


def _person_of(row: Any) -> int | None:
    """The person a listed row names: a person, or a record of theirs (a referral, a follow-up,
    an assessment due, a request, a draft, an introduction)."""
    if isinstance(row, tuple):  # (assessment, title)
        row = row[0]
    if hasattr(row, "person_id"):
        return row.person_id
    referral = getattr(row, "referral", None)
    if referral is not None:
        return referral.person_id
    return row.pk if row._meta.label_lower == "care.person" else None


def _audit_listed(request: HttpRequest, page: str, *lists: Iterable[Any] | None) -> None:
    """A list page names people: one VIEW event for each person on it."""
    care_actions.record_list_view(
        request.user, (_person_of(row) for rows in lists if rows for row in rows), detail=page
    )


def _caseload(request: HttpRequest) -> None:
    if not access.may(request.user, "caseload.view"):
        raise Refused(_("Caseloads and work queues are for members of care teams."))


@staff_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _caseload(request)
    today = timezone.localdate()
    data = care.dashboard(
        request.user,
        mine_only=request.GET.get("show") != "team",
        search=request.GET.get("q", ""),
        page=request.GET.get("page"),
        today=today,
    )
    due = outcomes.due_assessments_panel(request.user, today, limit=care.DASHBOARD_QUEUE_ROWS)
    _audit_listed(
        request,
        "dashboard",
        data.caseload,
        data.overdue,
        data.due_today,
        data.upcoming,
        data.team_queue,
        data.recent_referrals,
        due.rows,
    )
    return render(request, "workspace/dashboard.html", {"data": data, "today": today, "due_assessments": due})


@staff_page
@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    _caseload(request)
    today = timezone.localdate()
    context = care.work_queue_page(request.user, today)
    context["due_assessments"] = outcomes.due_assessments_panel(request.user, today, limit=200)
    context["rights_requests"] = list(rights.open_requests(request.user)[: rights.QUEUE_ROWS])
    _audit_listed(
        request,
        "work queue",
        *(context[key] for key in ("overdue", "due_today", "upcoming", "later", "introductions", "drafts")),
        context["team_queue"],
        context["due_assessments"].rows,
        context["rights_requests"],
    )
    return render(request, "workspace/queue.html", {**context, "today": today})


@staff_page
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """A manager's start page: the teams' work queue, who is overdue, and completion rates."""
    if not access.may(request.user, "teams.manage"):
        raise Refused(_("The team dashboard is for team and service managers."))
    today = timezone.localdate()
    completion = outcomes.team_completion(request.user, today)
    queue = care.team_queue(request.user, today)
    due = outcomes.due_assessments_panel(request.user, today, limit=care.DASHBOARD_QUEUE_ROWS)
    context = {
        "today": today,
        "queue": queue,
        "due_assessments": due,
        # Per team: scheduled assessments completed, and treatment measures (completion among them).
        "teams": [(row, care.team_measures(request.user, row.team, today)) for row in completion],
    }
    _audit_listed(request, "team dashboard", queue.follow_ups, due.rows)
    return render(request, "workspace/team.html", context)
