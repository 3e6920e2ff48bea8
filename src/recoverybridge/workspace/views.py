"""A worker's day: the dashboard (caseload, what is due, recent referrals) and the work queue.

They sit above the domain apps because they bring several together: care's follow-ups and
referrals, the outcome assessments that are due, and people's requests about their records. Thin: every read comes from the apps'
read sides, scoped to the user there.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from recoverybridge.accounts.shortcuts import staff_page
from recoverybridge.care import queries as care
from recoverybridge.outcomes import queries as outcomes
from recoverybridge.rights import queries as rights


@staff_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    data = care.dashboard(
        request.user,
        mine_only=request.GET.get("show") != "team",
        search=request.GET.get("q", ""),
        page=request.GET.get("page"),
        today=today,
    )
    due = outcomes.due_assessments_panel(request.user, today, limit=care.DASHBOARD_QUEUE_ROWS)
    return render(request, "workspace/dashboard.html", {"data": data, "today": today, "due_assessments": due})


@staff_page
@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = care.work_queue_page(request.user, today)
    context["due_assessments"] = outcomes.due_assessments_panel(request.user, today, limit=200)
    context["rights_requests"] = list(rights.open_requests(request.user)[: rights.QUEUE_ROWS])
    return render(request, "workspace/queue.html", {**context, "today": today})
