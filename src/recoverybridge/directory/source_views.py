"""Feed sources for directory editors: their health, ordered by trouble, and held imports to
apply or discard. Thin, like views.py: reads are queries.source_health and friends, every change
goes through actions/sources.py."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from recoverybridge.directory import queries, review
from recoverybridge.directory.actions import sources
from recoverybridge.directory.forms import HeldImportForm
from recoverybridge.directory.models import HeldStatus, Location, Meeting
from recoverybridge.directory.timing import WEEKDAYS
from recoverybridge.directory.views import content_security_policy, editor_required

WEEKDAY_NAMES = [name for _number, name in WEEKDAYS]
# How many entries of each kind the review page lists (the counts above them are whole).
SHOWN = 200


@content_security_policy
@editor_required
def source_list(request: HttpRequest) -> HttpResponse:
    healths = queries.source_health(timezone.now())
    return render(
        request,
        "directory/editor/sources.html",
        {"healths": healths, "troubled": sum(health.in_trouble for health in healths)},
    )


@content_security_policy
@editor_required
def source_page(request: HttpRequest, source_id: int) -> HttpResponse:
    detail = queries.source_detail(source_id, timezone.now())
    if detail is None:
        raise Http404(_("There is no feed source with this number."))
    return render(request, "directory/editor/source.html", {"detail": detail, "health": detail.health})


@content_security_policy
@editor_required
@require_http_methods(["GET", "POST"])
def held_review(request: HttpRequest, held_id: int) -> HttpResponse:
    held = queries.held_import(held_id)
    if held is None:
        raise Http404(_("There is no held import with this number."))
    form = HeldImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "apply":
                sources.apply_held(held.pk, editor=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("The held import was applied."))
            else:
                sources.discard_held(held.pk, editor=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("The held import was discarded; the directory is unchanged."))
            return HttpResponseRedirect(reverse("directory:editor_source", args=[held.feed_source_id]))
        except sources.HeldImportError as error:
            form.add_error(None, _("It could not be done: %(reason)s") % {"reason": error})
    diff = held.diff or {}
    context = {
        "held": held,
        "form": form,
        "pending": held.status == HeldStatus.PENDING,
        "added": [entry_row(entry) for entry in diff.get("added", [])[:SHOWN]],
        "dropped": [entry_row(entry) for entry in diff.get("dropped", [])[:SHOWN]],
        "changed": [
            {**entry_row(entry), "fields": [field_row(change) for change in entry["fields"]]}
            for entry in diff.get("changed", [])[:SHOWN]
        ],
        "shown": SHOWN,
    }
    return render(request, "directory/editor/held.html", context, status=400 if form.errors else 200)


def entry_row(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": entry["key"],
        "name": entry["name"],
        "when": when(entry.get("weekday"), entry.get("start_time")),
    }


def when(weekday: Any, start: Any) -> str:
    if weekday is None or not start:
        return _("by appointment")
    return f"{WEEKDAY_NAMES[weekday]} {start}" if 0 <= weekday <= 6 else str(start)


LOCATION_LABELS = {
    "location.name": ("name", _("Place name")),
    "location.formatted_address": ("formatted_address", None),
    "location.latitude": ("latitude", None),
    "location.longitude": ("longitude", None),
}


def field_row(change: dict[str, Any]) -> dict[str, Any]:
    name = change["field"]
    before, after = change["before"], change["after"]
    if name == "attributes":
        label = _("Kinds of meeting")
    elif name == "status":
        label = _("Listing status")
    elif name in LOCATION_LABELS:
        field_name, own = LOCATION_LABELS[name]
        label = str(own or getattr(Location._meta.get_field(field_name), "verbose_name", field_name))
    elif name in review.MEETING_FIELDS:
        label = str(getattr(Meeting._meta.get_field(name), "verbose_name", name))
    else:
        label = name
    if name == "weekday":
        before, after = (
            str(WEEKDAY_NAMES[v]) if isinstance(v, int) and 0 <= v <= 6 else v for v in (before, after)
        )
    return {"label": label[:1].upper() + label[1:], "before": before, "after": after}
