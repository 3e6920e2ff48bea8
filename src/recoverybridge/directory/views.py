"""Public pages of the meeting finder, and the directory editors' review pages. Thin:
the search is queries.search_meetings (as for the API), places come from
places.py, every state change goes through actions.changes."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from csp.utils import build_policy
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from recoverybridge import limits
from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import Refused
from recoverybridge.directory import queries
from recoverybridge.directory.actions import changes
from recoverybridge.directory.errors import InvalidParameter
from recoverybridge.directory.forms import (
    DEFAULT_RADIUS_KM,
    SORT_CHOICES,
    MoudStanceForm,
    ReportChangeForm,
    ReviewForm,
    SearchForm,
)
from recoverybridge.directory.models import (
    AttendanceMode,
    ChangeRequest,
    Fellowship,
    Meeting,
    MoudStance,
)
from recoverybridge.directory.places import find_place
from recoverybridge.directory.queries import (
    Hit,
    MeetingSearch,
    SearchApproach,
    SearchResult,
    is_for_family,
    listing_provenance,
    meetings_by_id,
    search_meetings,
)
from recoverybridge.directory.timing import (
    clock,
    next_occurrence,
    reader_locale,
    schedule_text,
    when_text,
    zone,
    zone_label,
)


def _csp_header() -> str:
    """The site's one policy (settings.CONTENT_SECURITY_POLICY): the map tile server, when set, is
    its only other host."""
    return build_policy()


def content_security_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages carry no inline script or style, so a strict policy costs nothing."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.setdefault("Content-Security-Policy", _csp_header())
        return response

    return wrapped


# ---------------------------------------------------------------- time display


def viewer_zone(request: HttpRequest) -> ZoneInfo | None:
    """The visitor's zone from `tz` (set by our script from the browser), if it names a real zone."""
    name = request.GET.get("tz", "")
    if not name:
        return None
    resolved = zone(name)
    return resolved if resolved.key == name else None


def page_locale(request: HttpRequest, viewer: ZoneInfo | None) -> str:
    """The locale the page's dates and times are written in (en-gb, en, es-mx...): see reader_locale."""
    return reader_locale(
        get_language() or "en", request.META.get("HTTP_ACCEPT_LANGUAGE", ""), viewer.key if viewer else ""
    )


@dataclass
class Row:
    """A result as the page shows it.

    `when` is in the visitor's zone when the page knows it; `when_local` is then the meeting's own
    time when the two clocks differ. Without the visitor's zone, `when` is the meeting's own time
    and `zone_named` says so for meetings joined from elsewhere (online, hybrid): "4 p.m. Tokyo
    time" is not read as a local 4 p.m."""

    meeting: Meeting
    distance_km: float | None
    when: str
    when_local: str
    zone_differs: bool
    starts_soon: bool
    attributes: list[str]
    languages: list[str] = field(default_factory=list)
    zone: str = ""
    zone_named: bool = False
    in_other_language: bool = False
    # Groups for relatives: no MOUD stance is shown (it is about the people who take medication).
    for_family: bool = False
    # The language of the meeting's name when the meeting is held in one other than the page's
    # (an English name on a Spanish page is read out in English: WCAG 3.1.2); else "".
    name_lang: str = ""

    @property
    def is_online(self) -> bool:
        return self.meeting.attendance_mode == AttendanceMode.ONLINE

    @property
    def on_map(self) -> bool:
        """A marker on the results map: a place with coordinates, and people go there."""
        location = self.meeting.location
        return location is not None and location.latitude is not None and not self.is_online


def _row(hit: Hit, viewer: ZoneInfo | None, now: datetime, language: str) -> Row:
    meeting = hit.meeting
    meeting_zone = zone(meeting.timezone)
    when = when_local = ""
    differs = False
    soon = False
    if hit.next_occurrence is not None:
        shown = viewer or meeting_zone
        when = when_text(hit.next_occurrence, shown, now)
        differs = viewer is not None and (
            hit.next_occurrence.astimezone(viewer).utcoffset()
            != hit.next_occurrence.astimezone(meeting_zone).utcoffset()
            or viewer.key != meeting_zone.key
        )
        if differs:
            here = hit.next_occurrence.astimezone(viewer)
            there = hit.next_occurrence.astimezone(meeting_zone)
            # The same wall clock in both zones (London and Dublin) is not worth a second line;
            # the meeting's own day is named only when it is not the visitor's.
            differs = here.replace(tzinfo=None) != there.replace(tzinfo=None)
            when_local = clock(there)
            if there.date() != here.date():
                when_local = _("%(day)s %(time)s") % {"day": date_format(there, "l"), "time": when_local}
        soon = hit.next_occurrence - now <= timedelta(minutes=60)
    names = [a.name_in(language) for a in meeting.attributes.all() if a.category not in ("language", "moud")]
    spoken = [a for a in meeting.attributes.all() if a.category == "language"]
    languages = sorted(a.name_in(language) for a in spoken)
    codes = {a.language_code for a in spoken}
    joined_from_anywhere = meeting.attendance_mode in (AttendanceMode.ONLINE, AttendanceMode.HYBRID)
    return Row(
        meeting,
        hit.distance_km,
        when,
        when_local,
        differs,
        soon,
        names,
        languages=languages,
        zone=zone_label(meeting_zone.key),
        zone_named=bool(when) and viewer is None and joined_from_anywhere,
        in_other_language=meeting.attendance_mode == AttendanceMode.ONLINE
        and bool(codes)
        and language.split("-")[0] not in codes,
        for_family=is_for_family(meeting),
        name_lang=name_language(meeting, language),
    )


def _rows(request: HttpRequest, hits: list[Hit], viewer: ZoneInfo | None, now: datetime) -> list[Row]:
    """The page's rows, their dates and times written as the visitor's region writes them."""
    language = get_language() or "en"
    with translation.override(page_locale(request, viewer)):
        return [_row(hit, viewer, now, language) for hit in hits]


def name_language(meeting: Meeting, page_language: str) -> str:
    """The meeting's language, when it names exactly one and it is not the page's ("en" on a
    Spanish page); "" when it names none or several (which one its name is in is not known)."""
    spoken = [
        a.language_code for a in meeting.attributes.all() if a.category == "language" and a.language_code
    ]
    if len(spoken) != 1 or spoken[0] == page_language.split("-")[0]:
        return ""
    return spoken[0]


# ---------------------------------------------------------------- search page


def _query_without(query: QueryDict, *keys: str, **values: str) -> str:
    q = query.copy()
    for key in (*keys, "page"):
        q.pop(key, None)
    for key, value in values.items():
        q[key] = value
    return q.urlencode()


def _search_params(form: SearchForm, now: datetime) -> tuple[MeetingSearch, str, ZoneInfo | None] | None:
    """The search service's parameters for a valid form; None (with errors on the form) if there are none."""
    data = form.cleaned_data
    place_label = ""
    place: tuple[float, float] | None = None
    if data.get("where"):
        found = find_place(data["where"])
        if found is None:
            form.add_error(
                "where",
                _(
                    "We could not find “%(place)s” in the directory. Try a nearby town or city, "
                    "a postcode, or “Use my location”."
                )
                % {"place": data["where"]},
            )
            return None
        place, place_label = (found.latitude, found.longitude), found.label
    elif data.get("lat") is not None and data.get("lon") is not None:
        place, place_label = (data["lat"], data["lon"]), _("your location")
    viewer = zone(data["tz"]) if data.get("tz") else None
    try:
        params = MeetingSearch.model_validate(
            form.search_params(
                place=place, now=now, viewer_zone=viewer, language=(get_language() or "en").split("-")[0]
            )
        )
    except ValidationError as error:
        form.add_error(None, "; ".join(str(e["msg"]) for e in error.errors()))
        return None
    return params, place_label, viewer


def _search(form: SearchForm, now: datetime) -> dict[str, Any]:
    """Run the search the form describes; errors come back as messages on the form."""
    prepared = _search_params(form, now)
    if prepared is None:
        return {}
    params, place_label, viewer = prepared
    try:
        result = search_meetings(params, now=now)
    except InvalidParameter as error:
        form.add_error(None, error.reason)
        return {}
    found = {"result": result, "params": params, "place_label": place_label, "viewer": viewer}
    if form.family_typed:
        found["place_notice"] = _(
            "“%(text)s” is not a place: here are groups for family and friends. To find them near you, "
            "type a town or postcode, or use your location."
        ) % {"text": form.family_typed}
    return found


def _missing_kinds(params: MeetingSearch, result: SearchResult) -> list[str]:
    """Information parity: kinds of group with results in this search but none on the first page."""
    if params.approach or params.page != 1:
        return []
    shown = {hit.meeting.fellowship.approach for hit in result.hits}
    if any(is_for_family(hit.meeting) for hit in result.hits):
        shown.add(SearchApproach.FAMILY.value)
    return [f.value for f in result.facets.get("approach", []) if f.count and f.value not in shown]


@content_security_policy
def other_kinds(request: HttpRequest) -> HttpResponse:
    """The first meeting of each kind of group the first page of a search did not show.

    Loaded after the results (htmx), or followed as a link without JavaScript,
    so the results themselves are not kept waiting for these extra searches."""
    language = get_language() or "en"
    form = SearchForm(request.GET, language_code=language)
    kinds = [kind for kind in request.GET.getlist("kind") if kind in set(SearchApproach)]
    hits: list[Hit] = []
    viewer = None
    now = timezone.now()
    status = 200
    prepared = _search_params(form, now) if form.is_valid() else None
    if prepared is None:
        status = 400
    else:
        params, _label, viewer = prepared
        for kind in dict.fromkeys(kinds):
            one = params.model_copy(update={"approach": kind, "page": 1, "page_size": 1})
            try:
                found = search_meetings(one, now=now).hits
            except InvalidParameter as error:
                form.add_error(None, error.reason)
                status = 400
                break
            hits += found
    context = {
        "form": form,
        "other_rows": _rows(request, hits, viewer, now),
        "tz_query": urlencode({"tz": request.GET["tz"]}) if request.GET.get("tz") else "",
        "back_url": reverse("directory:search") + "?" + _query_without(request.GET, "kind"),
    }
    partial = request.headers.get("HX-Request") == "true"
    template = "directory/_other_kinds.html" if partial else "directory/other_kinds.html"
    return render(request, template, context, status=status)


@content_security_policy
def search(request: HttpRequest) -> HttpResponse:
    language = get_language() or "en"
    form = SearchForm(request.GET or None, language_code=language)
    now = timezone.now()
    context: dict[str, Any] = {"form": form, "searched": False}
    status = 200
    if form.is_bound:
        if form.is_valid() and form.has_criteria:
            context.update(_search(form, now), searched=True)
        if form.errors:
            status = 400
    result: SearchResult | None = context.get("result")
    viewer = context.get("viewer")
    if result is not None:
        context["rows"] = _rows(request, result.hits, viewer, now)
        if not context["rows"]:
            context["widen"] = _widen(request, form)
        # Said under the map by the server, so nothing moves when the map has drawn.
        context["unmapped"] = sum(1 for row in context["rows"] if not row.on_map)
        context["orders"] = _orders(request, context["params"])
        # Say why an online meeting starting sooner may sit lower (queries.prefer_language).
        context["other_language_last"] = context["params"].sort != "name" and any(
            row.in_other_language for row in context["rows"]
        )
        missing = _missing_kinds(context["params"], result)
        if missing:
            query = request.GET.copy()
            query.pop("page", None)
            query.setlist("kind", missing)
            context["other_kinds_url"] = reverse("directory:other_kinds") + "?" + query.urlencode()
        context.update(_paging(request, result))
        # "family" typed as a place asked for family groups: the other kinds' links leave it out.
        asked = request.GET.copy()
        if form.family_typed:
            asked.pop("where", None)
        current = context["params"].approach
        context["approach_facets"] = [
            {
                "label": facet.label,
                "count": facet.count,
                "url": "?" + _query_without(asked, "approach", "fellowship", approach=facet.value),
                "current": current == facet.value,
            }
            for facet in result.facets["approach"]
        ]
        context["all_kinds_url"] = "?" + _query_without(asked, "approach", "fellowship")
        context["all_kinds_current"] = current is None
    query = request.GET.copy()
    query.pop("view", None)
    context["list_url"] = "?" + query.urlencode()
    query["view"] = "map"
    context["map_url"] = "?" + query.urlencode()
    context["map_view"] = request.GET.get("view") == "map"
    context["more_filters_open"] = any(
        request.GET.get(key) for key in ("approach", "fellowship", "language", "attribute")
    )
    # The filters fold away above the results once there are results to see.
    context["filters_open"] = not context["searched"] or bool(form.errors)
    context["active_filters"] = form.active_filters if form.is_bound and form.is_valid() else 0
    # Only the visitor's own choice of order travels with the form; otherwise each search picks.
    context["chosen_sort"] = form.cleaned_data.get("sort", "") if form.is_bound and form.is_valid() else ""
    context["map_tile_url"] = settings.MAP_TILE_URL
    context["map_tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
    context["tz_query"] = urlencode({"tz": viewer.key}) if viewer else ""
    partial = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
    context["partial"] = partial
    template = "directory/_results.html" if partial else "directory/search.html"
    return render(request, template, context, status=status)


def _widen(request: HttpRequest, form: SearchForm) -> list[dict[str, str]]:
    """Nothing found: one-tap searches that are likely to find something (a person who tapped
    "Near me, starting soon" at a quiet hour is offered later today, further away, and online)."""
    data = form.cleaned_data
    offers = []
    if data.get("when") == "now":
        offers.append(
            {"label": _("Meetings later today"), "url": "?" + _query_without(request.GET, when="today")}
        )
    radius = data.get("radius") or DEFAULT_RADIUS_KM
    if (data.get("where") or data.get("lat") is not None) and radius < 100:
        offers.append(
            {
                "label": _("Up to 100 km away"),
                "url": "?" + _query_without(request.GET, radius="100"),
            }
        )
    if data.get("mode") != "online":
        offers.append(
            {
                "label": _("Online meetings, same time"),
                "url": "?" + _query_without(request.GET, "where", "lat", "lon", "radius", mode="online"),
            }
        )
    return offers


def _orders(request: HttpRequest, params: MeetingSearch) -> list[dict[str, Any]]:
    """The orders the visitor may choose, as links, the one in use marked: nearest first only with a place."""
    return [
        {
            "label": label,
            "url": "?" + _query_without(request.GET, sort=value),
            "current": params.sort == value,
        }
        for value, label in SORT_CHOICES
        if value != "distance" or params.has_place
    ]


def _paging(request: HttpRequest, result: SearchResult) -> dict[str, Any]:
    pages = Paginator(range(result.count), result.page_size)
    page = min(result.page, max(pages.num_pages, 1))
    out: dict[str, Any] = {"page_number": page, "page_count": pages.num_pages}
    if page > 1:
        out["previous_url"] = "?" + _query_without(request.GET, page=str(page - 1))
    if page < pages.num_pages:
        out["next_url"] = "?" + _query_without(request.GET, page=str(page + 1))
    return out


# ---------------------------------------------------------------- meeting page


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = meetings_by_id([meeting_id]).get(meeting_id)
    if meeting is None:
        raise Http404(_("There is no meeting with this number."))
    return meeting


@content_security_policy
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting_or_404(meeting_id)
    language = get_language() or "en"
    now = timezone.now()
    viewer = viewer_zone(request)
    occurrence = None
    if not meeting.by_appointment:
        assert meeting.weekday is not None and meeting.start_time is not None
        occurrence = next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, now)
    with translation.override(page_locale(request, viewer)):
        row = _row(Hit(meeting, None, occurrence), viewer, now, language)
        schedule = schedule_text(meeting)
    location = meeting.location
    directions = ""
    if location and location.latitude is not None and meeting.attendance_mode != AttendanceMode.ONLINE:
        # A plain link the visitor's own maps app opens; nothing is loaded from it here.
        directions = "https://www.openstreetmap.org/directions?" + urlencode(
            {"to": f"{location.latitude},{location.longitude}"}
        )
    attributes = sorted(meeting.attributes.all(), key=lambda a: (a.category, a.name_in(language)))
    context = {
        "meeting": meeting,
        "row": row,
        "schedule": schedule,
        "directions_url": directions,
        "attributes": [(a.get_category_display(), a.name_in(language)) for a in attributes],
        "moud_label": MoudStance(meeting.moud_stance).label,
        "ics_url": reverse("api:meeting_ics", kwargs={"meeting_id": meeting.pk}),
        "can_edit": access.may(request.user, "directory.review"),
        "provenance": listing_provenance([meeting.pk])[meeting.pk],
    }
    return render(request, "directory/meeting.html", context)


def _allow_submission(request: HttpRequest) -> bool:
    """Counted per client address in the shared limits cache, so every web process counts alike."""
    address = request.META.get("REMOTE_ADDR", "")
    return limits.hit("change-requests", address, window=3600) <= settings.CHANGE_REQUESTS_PER_HOUR


@content_security_policy
@require_http_methods(["GET", "POST"])
def report_change(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting_or_404(meeting_id)
    status = 200
    if request.method == "POST":
        form = ReportChangeForm(request.POST)
        if form.is_valid():
            if not _allow_submission(request):
                form.add_error(None, _("You have sent several reports in the last hour. Please try later."))
                status = 429
            else:
                changes.report_change(
                    meeting,
                    proposed=form.proposed(),
                    message=form.cleaned_data["message"],
                    contact_email=form.cleaned_data["contact_email"],
                )
                messages.success(request, _("Thank you. An editor will check your report."))
                return HttpResponseRedirect(reverse("directory:meeting", args=[meeting.pk]))
        else:
            status = 400
    else:
        form = ReportChangeForm()
    lang = name_language(meeting, get_language() or "en")
    # The name in bold, marked with its language when it is not the page's.
    name_html = format_html(
        "<strong{}>{}</strong>", format_html(' lang="{}"', lang) if lang else "", meeting.name
    )
    context = {"meeting": meeting, "form": form, "name_html": name_html}
    return render(request, "directory/report_change.html", context, status=status)


# ---------------------------------------------------------------- which group


# Search parameters that say what kind of group; the rest (place, time, language...) is the
# visitor's own search, which the "Which group is for me?" page keeps in its links.
KIND_PARAMETERS = ("approach", "fellowship", "kind", "page")


@content_security_policy
def which_group(request: HttpRequest) -> HttpResponse:
    kept = _query_without(request.GET, *KIND_PARAMETERS)
    search_url = reverse("directory:search")

    def find(**kind: str) -> str:
        return f"{search_url}?{_query_without(request.GET, *KIND_PARAMETERS, **kind)}"

    family = [
        (fellowship.name, find(fellowship=fellowship.slug))
        for fellowship in Fellowship.objects.filter(family_focused=True)
    ]
    links = {kind.value.replace("-", "_"): find(approach=kind.value) for kind in SearchApproach}
    links.update(
        smart=find(fellowship="smart"),
        moud=find(moud="on"),
        online_soon=find(mode="online", when="now"),
    )
    context = {
        "family": family,
        "links": links,
        "back_url": f"{search_url}?{kept}" if kept else "",
    }
    return render(request, "directory/which_group.html", context)


@require_http_methods(["GET", "HEAD"])
def robots_txt(request: HttpRequest) -> HttpResponse:
    """What crawlers may index: the public finder, not staff, editors' or private pages."""
    response = render(request, "directory/robots.txt", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# ---------------------------------------------------------------- editors


def editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Directory editors only (access.may decides): someone not signed in is sent to sign in; a
    signed-in user who is not an editor gets the 403 page, never the sign-in form again."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not access.may(request.user, "directory.review"):
            raise Refused(_("The review queue is for directory editors."))
        return view(request, *args, **kwargs)

    return wrapped


@content_security_policy
@editor_required
def editor_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "directory/editor/queue.html",
        {"pending": queries.pending_changes(), "recent": queries.recent_reviews()},
    )


def _field_label(name: str) -> str:
    if name == "status":
        return _("Listing status")
    field = Meeting._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


@content_security_policy
@editor_required
@require_http_methods(["GET", "POST"])
def editor_review(request: HttpRequest, change_id: int) -> HttpResponse:
    change = get_object_or_404(ChangeRequest.objects.select_related("meeting"), pk=change_id)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                changes.approve_change(change.pk, editor=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("Change approved and applied."))
            else:
                changes.reject_change(change.pk, editor=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("Change rejected."))
            return HttpResponseRedirect(reverse("directory:editor_queue"))
        except changes.ReviewError as error:
            form.add_error(None, str(error))
    rows = [
        (_field_label(name), getattr(change.meeting, name, ""), value)
        for name, value in change.proposed.items()
        if name in changes.EDITABLE_FIELDS
    ]
    status = 400 if form.errors else 200
    return render(
        request, "directory/editor/review.html", {"change": change, "rows": rows, "form": form}, status=status
    )


@content_security_policy
@editor_required
@require_http_methods(["GET", "POST"])
def editor_moud(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting_or_404(meeting_id)
    initial = {
        "stance": meeting.moud_stance,
        "source": meeting.moud_source,
        "verified_on": timezone.localdate(),
    }
    form = MoudStanceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes.set_moud_stance(meeting.pk, editor=request.user, **form.cleaned_data)
        except changes.ReviewError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("MOUD stance saved."))
            return HttpResponseRedirect(reverse("directory:meeting", args=[meeting.pk]))
    status = 400 if form.errors else 200
    return render(request, "directory/editor/moud.html", {"meeting": meeting, "form": form}, status=status)
