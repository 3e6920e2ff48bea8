"""Evaluation pages: the report form, and the report as a page, a PDF and a CSV.

Thin: who may see which teams, and whether the figures are suppressed, comes from
accounts.access.evaluation_scope_for; the cohort (consented episodes only, its read audited)
from evaluation.cohorts; every figure from evaluation.reports; building and keeping reports from
evaluation.builds. A small cohort's report is built while the request waits; a large one's
(builds.BACKGROUND_EPISODES episodes or more) by the task queue, while the page shows its progress
and polls (htmx) until it is there. Every page is still an audited read, built or from the cache.
"""

import dataclasses
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from recoverybridge.accounts import access
from recoverybridge.accounts.access import EvaluationScope
from recoverybridge.accounts.shortcuts import Refused, staff_page
from recoverybridge.evaluation import builds, cohorts, frame, tasks
from recoverybridge.evaluation.forms import ReportForm
from recoverybridge.evaluation.suppression import SuppressionRule


def _scope(request: HttpRequest) -> EvaluationScope:
    scope = access.evaluation_scope_for(request.user)
    if not scope.allowed:
        raise Refused(
            _("Evaluation reports are for team and service managers, commissioners and administrators.")
        )
    return scope


def _form_context(form: ReportForm, scope: EvaluationScope) -> dict[str, Any]:
    return {
        "form": form,
        "outside": scope.audience == access.OUTSIDE,
        "rule": SuppressionRule.from_settings(),
    }


@staff_page
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form = builds.report_form(scope)
    return render(request, "evaluation/start.html", _form_context(form, scope))


@dataclasses.dataclass(frozen=True)
class Pending:
    """A report being built in the background: its cache key and progress."""

    key: str
    progress: builds.Progress


def _built(
    form: ReportForm, scope: EvaluationScope, request: HttpRequest, queue: bool
) -> builds.Built | Pending:
    """From the cache when this report was built a few minutes ago (an audited read again); else
    built now for a small cohort, or queued for a large one (when `queue`) and reported as pending."""
    key = builds.cache_key(form, scope)
    built = builds.cached(key)
    if built is not None:
        # The same read again: audited as it happens, with the counts it shows.
        cohorts.record_cohort_read(request.user, dataclasses.replace(built.cohort, built_at=timezone.now()))
        return built
    progress = builds.progress_of(key)
    if progress is not None and not progress.failed:
        return Pending(key, progress)
    if queue and cohorts.cohort_size(builds.cohort_spec(form, scope)) >= builds.BACKGROUND_EPISODES:
        if progress is not None:  # a failed build: try again
            builds.release_claim(key)
        if builds.claim(key):
            assert request.user.pk is not None
            tasks.build_report.enqueue(
                user_id=int(request.user.pk),
                query=request.GET.urlencode(),
                language=translation.get_language() or "en",
                key=key,
            )
        return Pending(key, builds.progress_of(key) or builds.Progress())
    built = builds.compute(form, scope, request.user)
    builds.store(key, built)
    return built


def _build(request: HttpRequest, queue: bool = True) -> tuple[dict[str, Any], int]:
    """The report's template context and status: the form with its errors (400), a message when
    the cohort is too small to analyse, the progress of a background build, or the report."""
    scope = _scope(request)
    form = builds.report_form(scope, request.GET)
    if not form.is_valid():
        return _form_context(form, scope), 400
    built = _built(form, scope, request, queue)
    context: dict[str, Any] = {
        **_form_context(form, scope),
        "query": request.GET.urlencode(),
        "treatment_label": frame.label(form.cleaned_data["treatment"]),
    }
    if isinstance(built, Pending):
        context["pending"] = built.progress
        return context, 202
    context["cohort"] = built.cohort
    if built.report is None:
        context["too_small"] = built.too_small
        return context, 200
    summary = built.report.section("cohort").part("cohort").table("summary")
    context["report"] = built.report
    context["left_out"] = next(row.cells[0].text for row in summary.rows if row.key == "without_consent")
    return context, 200


def _page(request: HttpRequest, context: dict[str, Any], status: int) -> HttpResponse:
    """The report page, the form again with its errors (400), or the progress page (202)."""
    template = "evaluation/start.html" if status == 400 else "evaluation/report.html"
    return render(request, template, context, status=status)


@staff_page
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    context, status = _build(request)
    return _page(request, context, status)


@staff_page
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """The progress of a background build, polled by the page (htmx); once the report is there,
    htmx is told to load the page again, which then shows it."""
    scope = _scope(request)
    form = builds.report_form(scope, request.GET)
    if not form.is_valid():
        return HttpResponse(status=400)
    key = builds.cache_key(form, scope)
    if builds.cached(key) is not None:
        response = HttpResponse(_("The report is ready."))
        response["HX-Refresh"] = "true"
        return response
    state = builds.progress_of(key) or builds.Progress(failed=_("The report is no longer being built."))
    return render(request, "evaluation/_progress.html", {"pending": state, "query": request.GET.urlencode()})


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
    from recoverybridge.evaluation import reports

    return _download(
        request,
        lambda context: reports.report_csv(context["report"]),
        "text/csv; charset=utf-8",
        "evaluation-report.csv",
    )
