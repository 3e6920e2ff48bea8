"""Evaluation pages: the report form, and the report as a page, a PDF and a CSV.

Thin: who may see which teams, and whether the figures are suppressed, comes from
accounts.access.evaluation_scope_for; the cohort (consented episodes only, its read audited)
from evaluation.cohorts; every figure from evaluation.reports. Reports are computed while
the request waits: cohorts here are a few thousand episodes at most.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from recoverybridge.accounts import access
from recoverybridge.accounts.access import EvaluationScope
from recoverybridge.care.models import EpisodeKind, Team
from recoverybridge.care.views import staff_page
from recoverybridge.evaluation import cohorts, frame, reports
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.forms import ReportForm
from recoverybridge.evaluation.suppression import SuppressionRule

# Below this many consented episodes a comparison says nothing useful: a message, not a report.
MIN_EPISODES = 10


def _scope(request: HttpRequest) -> EvaluationScope:
    scope = access.evaluation_scope_for(request.user)
    if not scope.allowed:
        raise PermissionDenied(
            _("Evaluation reports are for team and service managers, commissioners and administrators.")
        )
    return scope


def _form(scope: EvaluationScope, data: Any = None) -> ReportForm:
    teams = Team.objects.filter(pk__in=scope.team_ids).select_related("organisation")
    return ReportForm(data, teams=teams)


def _form_context(form: ReportForm, scope: EvaluationScope) -> dict[str, Any]:
    return {
        "form": form,
        "outside": scope.audience == access.OUTSIDE,
        "rule": SuppressionRule.from_settings(),
    }


def _form_page(
    request: HttpRequest, form: ReportForm, scope: EvaluationScope, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "evaluation/start.html",
        _form_context(form, scope),
        status=status,
    )


@staff_page
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    return _form_page(request, _form(scope), scope)


def _cohort_description(form: ReportForm) -> str:
    data = form.cleaned_data
    kinds = dict(EpisodeKind.choices)
    parts = [", ".join(str(kinds[k]) for k in data["episode_kinds"]) or _("All kinds of episode")]
    if data["started_from"] and data["started_to"]:
        parts.append(
            _("started %(start)s to %(end)s") % {"start": data["started_from"], "end": data["started_to"]}
        )
    elif data["started_from"]:
        parts.append(_("started on or after %(start)s") % {"start": data["started_from"]})
    elif data["started_to"]:
        parts.append(_("started on or before %(end)s") % {"end": data["started_to"]})
    chosen = [form.team_labels[pk] for pk in data["teams"]]
    parts.append("; ".join(chosen) if chosen else _("every team you may see"))
    return "; ".join(parts)


def _build(request: HttpRequest) -> tuple[dict[str, Any], int]:
    """The report's template context and status: the form with its errors (400), a message
    when the cohort is too small to analyse, or the report."""
    scope = _scope(request)
    form = _form(scope, request.GET)
    if not form.is_valid():
        return _form_context(form, scope), 400
    data = form.cleaned_data
    spec = cohorts.CohortSpec(
        episode_kinds=tuple(data["episode_kinds"]),
        started_from=data["started_from"],
        started_to=data["started_to"],
        team_ids=form.team_ids(scope.team_ids),
    )
    cohort = cohorts.build_cohort(spec, actor=request.user)
    context: dict[str, Any] = {
        **_form_context(form, scope),
        "query": request.GET.urlencode(),
        "cohort": cohort,
        "treatment_label": frame.label(data["treatment"]),
    }
    if cohort.n_episodes == 0:
        context["too_small"] = _("No episodes with consent to evaluation match this cohort.")
        return context, 200
    if cohort.n_episodes < MIN_EPISODES:
        context["too_small"] = _(
            "Fewer than %(n)s episodes with consent to evaluation match this cohort: too few to compare "
            "fairly. Choose a longer period, more kinds of episode or more teams."
        ) % {"n": MIN_EPISODES}
        return context, 200
    report_spec = reports.ReportSpec(
        treatment=data["treatment"],
        outcomes=tuple(data["outcomes"]),
        # A covariate the same for everyone in the cohort adjusts for nothing (and cannot be fitted).
        covariates=tuple(c.name for c in frame.COVARIATES if cohort.frame[c.name].nunique(dropna=True) > 1),
        estimand=data["estimand"],
        trim=form.trim_value(),
    )
    try:
        report = reports.build_report(
            cohort.frame,
            report_spec,
            audience=scope.audience,
            title=_("Evaluation: %(treatment)s") % {"treatment": context["treatment_label"]},
            cohort_description=_cohort_description(form),
            n_without_consent=cohort.n_without_consent,
        )
    except EvaluationError as error:
        context["too_small"] = _("This cohort is too small or too uniform to analyse: %(reason)s") % {
            "reason": error
        }
        return context, 200
    summary = report.section("cohort").part("cohort").table("summary")
    context["report"] = report
    context["left_out"] = next(row.cells[0].text for row in summary.rows if row.key == "without_consent")
    return context, 200


def _page(request: HttpRequest, context: dict[str, Any], status: int) -> HttpResponse:
    """The report page, or the form again with its errors (400)."""
    template = "evaluation/start.html" if status == 400 else "evaluation/report.html"
    return render(request, template, context, status=status)


@staff_page
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    context, status = _build(request)
    return _page(request, context, status)


@staff_page
@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    context, status = _build(request)
    if "report" not in context:
        return _page(request, context, status)
    html = render_to_string(
        "evaluation/report_pdf.html",
        {**context, "language": translation.get_language(), "printed_at": timezone.localtime()},
    )
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="evaluation-report.pdf"'
    return response


@staff_page
@require_GET
def report_csv(request: HttpRequest) -> HttpResponse:
    context, status = _build(request)
    if "report" not in context:
        return _page(request, context, status)
    response = HttpResponse(reports.report_csv(context["report"]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="evaluation-report.csv"'
    return response
