"""Evaluation pages: the report form, and the report as a page, a PDF and a CSV.

Thin: who may see which teams, and whether the figures are suppressed, comes from
accounts.access.evaluation_scope_for; the cohort (consented episodes only, its read audited)
from evaluation.cohorts; every figure from evaluation.reports. Reports are computed while
the request waits (a few seconds for tens of thousands of episodes), then kept for a few minutes
in the "evaluation" cache, so the PDF and CSV opened from a report page, or the page reloaded,
do not compute it again. An entry is keyed by everything that changes the report: the teams in
the user's scope and its audience (a care team's exact figures never reach an outside reader),
the normalised form, the language and the date. Every page is still an audited read, cached or not.
"""

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.cache import caches
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from recoverybridge.accounts import access
from recoverybridge.accounts.access import EvaluationScope
from recoverybridge.accounts.shortcuts import Refused, staff_page
from recoverybridge.care.models import Consent, ConsentPurpose, EpisodeKind
from recoverybridge.evaluation import cohorts, frame, reports
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.forms import ReportForm
from recoverybridge.evaluation.suppression import SuppressionRule
from recoverybridge.organisations.models import Team

# Below this many consented episodes a comparison says nothing useful: a message, not a report.
MIN_EPISODES = 10
REPORT_CACHE = "evaluation"


def _scope(request: HttpRequest) -> EvaluationScope:
    scope = access.evaluation_scope_for(request.user)
    if not scope.allowed:
        raise Refused(
            _("Evaluation reports are for team and service managers, commissioners and administrators.")
        )
    return scope


def report_form(scope: EvaluationScope, data: Any = None) -> ReportForm:
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
    return _form_page(request, report_form(scope), scope)


def _cohort_description(form: ReportForm) -> str:
    data = form.cleaned_data
    parts = [
        ", ".join(str(label) for kind, label in EpisodeKind.choices if kind in data["episode_kinds"])
        or _("All kinds of episode")
    ]
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


@dataclasses.dataclass(frozen=True)
class Built:
    """What the report pages show for one valid form, as kept in the cache: the cohort's counts
    (its frame is not kept), and the report or why there is none."""

    cohort: cohorts.Cohort
    report: reports.Report | None = None
    too_small: str = ""


# The code that builds a report: a deploy that changes it starts new entries, so no old entry
# is unpickled by new code.
CODE_VERSION = hashlib.sha256(
    b"".join(Path(module.__file__ or "").read_bytes() for module in (cohorts, reports, frame))
).hexdigest()[:16]


def _consent_state() -> list[str]:
    """The state of evaluation consents: one given or revoked starts a new entry at once, so a
    revocation is never answered from a report built before it."""
    state = Consent.objects.filter(purpose=ConsentPurpose.EVALUATION).aggregate(
        count=Count("id"), given=Max("given_at"), revoked=Max("revoked_at"), expires=Max("expires_at")
    )
    return [str(state[name]) for name in ("count", "given", "revoked", "expires")]


def _cache_key(form: ReportForm, scope: EvaluationScope) -> str:
    """Everything the built report depends on, hashed: no health data in the key."""
    rule = SuppressionRule.from_settings()
    parts = {
        "teams": sorted(scope.team_ids),
        "audience": scope.audience,
        "form": form.cleaned_data,
        "language": translation.get_language(),
        "today": timezone.localdate(),
        "rule": [rule.threshold, rule.rounding],
        "consents": _consent_state(),
        "code": CODE_VERSION,
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return "evaluation-report:" + hashlib.sha256(text.encode()).hexdigest()


def cohort_spec(form: ReportForm, scope: EvaluationScope) -> cohorts.CohortSpec:
    data = form.cleaned_data
    return cohorts.CohortSpec(
        episode_kinds=tuple(data["episode_kinds"]),
        started_from=data["started_from"],
        started_to=data["started_to"],
        team_ids=form.team_ids(scope.team_ids),
    )


def report_spec(form: ReportForm, cohort: cohorts.Cohort) -> reports.ReportSpec:
    data = form.cleaned_data
    return reports.ReportSpec(
        treatment=data["treatment"],
        outcomes=tuple(data["outcomes"]),
        # A covariate the same for everyone in the cohort adjusts for nothing (and cannot be fitted).
        covariates=tuple(name for name in data["covariates"] if cohort.frame[name].nunique(dropna=True) > 1),
        estimand=data["estimand"],
        trim=form.trim_value(),
    )


def _compute(form: ReportForm, scope: EvaluationScope, request: HttpRequest) -> Built:
    """The cohort (its read audited by build_cohort) and the report, or why there is none."""
    data = form.cleaned_data
    cohort = cohorts.build_cohort(cohort_spec(form, scope), actor=request.user)
    # The frame (one row per episode) is what the report is built from; only the counts are kept.
    counts = dataclasses.replace(cohort, frame=cohort.frame.iloc[:0])
    if cohort.n_episodes == 0:
        return Built(counts, too_small=_("No episodes with consent to evaluation match this cohort."))
    if cohort.n_episodes < MIN_EPISODES:
        return Built(
            counts,
            too_small=_(
                "Fewer than %(n)s episodes with consent to evaluation match this cohort: too few to "
                "compare fairly. Choose a longer period, more kinds of episode or more teams."
            )
            % {"n": MIN_EPISODES},
        )
    try:
        report = reports.build_report(
            cohort.frame,
            report_spec(form, cohort),
            audience=scope.audience,
            title=_("Evaluation: %(treatment)s") % {"treatment": frame.label(data["treatment"])},
            cohort_description=_cohort_description(form),
            n_without_consent=cohort.n_without_consent,
        )
    except EvaluationError as error:
        # The analysis's own words may quote counts: only the care team reads them.
        reason = str(error) if scope.audience != access.OUTSIDE else _("too few people in some group")
        return Built(
            counts,
            too_small=_("This cohort is too small or too uniform to analyse: %(reason)s")
            % {"reason": reason},
        )
    return Built(counts, report=report)


def _built(form: ReportForm, scope: EvaluationScope, request: HttpRequest) -> Built:
    """From the cache when this report was built a few minutes ago; either way one audit event."""
    cache = caches[REPORT_CACHE]
    key = _cache_key(form, scope)
    built = cache.get(key)
    if built is None:
        built = _compute(form, scope, request)
        cache.set(key, built)
    else:
        # The same read again: audited as it happens, with the counts it shows.
        cohorts.record_cohort_read(request.user, dataclasses.replace(built.cohort, built_at=timezone.now()))
    return built


def _build(request: HttpRequest) -> tuple[dict[str, Any], int]:
    """The report's template context and status: the form with its errors (400), a message
    when the cohort is too small to analyse, or the report."""
    scope = _scope(request)
    form = report_form(scope, request.GET)
    if not form.is_valid():
        return _form_context(form, scope), 400
    built = _built(form, scope, request)
    context: dict[str, Any] = {
        **_form_context(form, scope),
        "query": request.GET.urlencode(),
        "cohort": built.cohort,
        "treatment_label": frame.label(form.cleaned_data["treatment"]),
    }
    if built.report is None:
        context["too_small"] = built.too_small
        return context, 200
    summary = built.report.section("cohort").part("cohort").table("summary")
    context["report"] = built.report
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


def _download(request: HttpRequest, content: Any, content_type: str, filename: str) -> HttpResponse:
    """The report as a file made by `content(context)`; without a report, the page saying why."""
    context, status = _build(request)
    if "report" not in context:
        return _page(request, context, status)
    response = HttpResponse(content(context), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pdf(context: dict[str, Any]) -> bytes:
    html = render_to_string(
        "evaluation/report_pdf.html",
        {**context, "language": translation.get_language(), "printed_at": timezone.localtime()},
    )
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


@staff_page
@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    return _download(request, _pdf, "application/pdf", "evaluation-report.pdf")


@staff_page
@require_GET
def report_csv(request: HttpRequest) -> HttpResponse:
    return _download(
        request,
        lambda context: reports.report_csv(context["report"]),
        "text/csv; charset=utf-8",
        "evaluation-report.csv",
    )
