"""Booklets: the editors' pages that define them, the public list and the PDFs themselves.

Thin, like views.py: what a booklet prints and whether the stored one is current is
directory/booklets.py; every change goes through actions/booklets.py.
"""

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from recoverybridge.directory import booklets
from recoverybridge.directory.actions import booklets as actions
from recoverybridge.directory.booklet_forms import BookletForm
from recoverybridge.directory.models import Booklet
from recoverybridge.directory.views import content_security_policy, editor_required

logger = logging.getLogger(__name__)
# A current booklet may be kept by browsers and proxies for a few minutes; a stale one never.
FRESH_SECONDS = 300


def _booklet_or_404(booklet_id: int) -> Booklet:
    booklet = booklets.booklet_by_id(booklet_id)
    if booklet is None:
        raise Http404(_("There is no booklet with this number."))
    return booklet


def _suggestions() -> dict[str, list[str]]:
    return {"known_regions": booklets.known_regions(), "known_cities": booklets.known_cities()}


# ---------------------------------------------------------------- editors


@content_security_policy
@editor_required
def editor_booklets(request: HttpRequest) -> HttpResponse:
    return render(request, "directory/editor/booklets.html", {"booklets": booklets.all_booklets()})


@content_security_policy
@editor_required
@require_http_methods(["GET", "POST"])
def editor_booklet_new(request: HttpRequest) -> HttpResponse:
    form = BookletForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            booklet = actions.define_booklet(request.user, form.cleaned_data)
        except booklets.AreaProblem as problem:
            form.add_error(None, str(problem))
        else:
            messages.success(
                request, _("Booklet defined. It is being built: this page says when it is ready.")
            )
            return HttpResponseRedirect(reverse("directory:editor_booklet", args=[booklet.pk]))
    status = 400 if form.errors else 200
    return render(
        request, "directory/editor/booklet_form.html", {"form": form, **_suggestions()}, status=status
    )


@content_security_policy
@editor_required
@require_http_methods(["GET", "POST"])
def editor_booklet(request: HttpRequest, booklet_id: int) -> HttpResponse:
    booklet = _booklet_or_404(booklet_id)
    action = request.POST.get("action", "save")
    saving = request.method == "POST" and action == "save"
    form = BookletForm(request.POST if saving else None, instance=booklet)
    if request.method == "POST":
        if action == "remove":
            actions.remove_booklet(request.user, booklet.pk)
            messages.success(request, _("Booklet removed."))
            return HttpResponseRedirect(reverse("directory:editor_booklets"))
        if action == "rebuild":
            actions.request_rebuild(request.user, booklet.pk)
            messages.success(request, _("A new build is on its way."))
            return HttpResponseRedirect(reverse("directory:editor_booklet", args=[booklet.pk]))
        if form.is_valid():
            try:
                actions.change_booklet(request.user, booklet.pk, form.cleaned_data)
            except booklets.AreaProblem as problem:
                form.add_error(None, str(problem))
            else:
                messages.success(request, _("Booklet saved. It will be rebuilt."))
                return HttpResponseRedirect(reverse("directory:editor_booklet", args=[booklet.pk]))
    context = {
        "booklet": booklet,
        "form": form,
        "area": booklets.Area.of(booklet),
        "summary": booklets.area_summary(booklets.Area.of(booklet)),
        **_suggestions(),
    }
    status = 400 if form.errors else 200
    return render(request, "directory/editor/booklet_form.html", context, status=status)


# ---------------------------------------------------------------- everyone


@content_security_policy
def booklet_list(request: HttpRequest) -> HttpResponse:
    found = booklets.reader_first(booklets.all_booklets(), get_language() or "")
    return render(request, "directory/booklets.html", {"booklets": found})


def _pending(request: HttpRequest, booklet: Booklet, *, failed: bool = False) -> HttpResponse:
    """Nothing to send yet: say so, and when to come back."""
    context = {"booklet": booklet, "failed": failed}
    response = render(request, "directory/booklet_pending.html", context, status=503)
    response["Retry-After"] = "60"
    patch_cache_control(response, no_store=True)
    return response


@content_security_policy
@require_http_methods(["GET", "HEAD"])
def booklet_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    """The booklet's PDF: the stored one while the directory is unchanged (a 304 for a reader who
    has it), the last good one while a rebuild is queued, a build now for a small new booklet."""
    booklet = booklets.booklet_by_slug(slug)
    if booklet is None:
        raise Http404(_("There is no booklet at this address."))
    check = booklets.freshness(booklet)
    current = check.current
    if check.confirm_token:
        actions.confirm_current(booklet.pk, check.token)
    if not booklet.built_fingerprint:
        if check.meetings > booklets.BUILD_WHILE_WAITING_MAX:
            actions.queue_rebuild(booklet, check.fingerprint)
            return _pending(request, booklet)
        try:
            built = actions.rebuild(booklet.pk)
        except Exception:
            logger.exception("booklet %s could not be built", booklet.pk)
            return _pending(request, booklet, failed=True)
        if built is None:
            raise Http404(_("There is no booklet at this address."))
        booklet, current = built, True
    elif not current:
        actions.queue_rebuild(booklet, check.fingerprint)
    etag = booklets.etag(booklet)
    last_modified = int(booklet.built_at.timestamp()) if booklet.built_at else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified
    pdf = booklets.stored_pdf(booklet)
    if pdf is None:  # removed between the two reads
        raise Http404(_("There is no booklet at this address."))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{booklet.slug}.pdf"'
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    if current:
        patch_cache_control(response, public=True, max_age=FRESH_SECONDS)
    else:
        patch_cache_control(response, public=True, no_cache=True)
    return response


def meeting_short(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The short address printed under each meeting's code (/m/123): short to type, small to scan."""
    return redirect("directory:meeting", meeting_id=meeting_id)
