"""Thin views: look the record up within the user's scope, read through `queries`, change
through `actions`."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from recoverybridge import limits
from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import Refused, in_scope_or_404, staff_page
from recoverybridge.care.messages import channel_label, channel_states
from recoverybridge.care.models import IntroductionRequest, Referral
from recoverybridge.volunteers import actions, queries
from recoverybridge.volunteers.errors import EmailInUse, IntroductionError, LinkUnusable
from recoverybridge.volunteers.forms import ArrangeForm, FirstMeetingForm, NewVolunteerForm, SafetyReportForm
from recoverybridge.volunteers.models import (
    CONNECTED_STATES,
    Introduction,
    IntroductionState,
    Volunteer,
    VolunteerStatus,
)


def _referral_request(request: HttpRequest, referral_id: int) -> tuple[Referral, IntroductionRequest]:
    referral = in_scope_or_404(Referral.objects.select_related("person"), request, referral_id, "request")
    found = IntroductionRequest.objects.filter(referral=referral).select_related("fellowship").first()
    if found is None:
        raise Http404
    return referral, found


@staff_page
@require_http_methods(["GET", "POST"])
def arrange(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Arrange contact with a member: the volunteers who fit, with the reasons, and what the
    person agreed to share with the one chosen."""
    if not access.may(request.user, "caseload.view"):
        raise Refused(_("Only members of a care team arrange introductions."))
    referral, wanted = _referral_request(request, referral_id)
    person = referral.person
    times = frozenset(request.POST.getlist("times")) if request.method == "POST" else frozenset()
    suggestions = queries.suggestions(request.user, wanted, times=times)
    usable = [(s.channel, channel_label(s)) for s in channel_states(person).values() if s.usable]
    form = ArrangeForm(
        request.POST if request.method == "POST" else None,
        volunteers=[(s.volunteer.pk, s.volunteer.first_name) for s in suggestions],
        channels=usable,
        initial={"chosen_name": person.given_name},
    )
    if request.method == "POST" and form.is_valid():
        volunteer = (
            Volunteer.objects.restrict(request.user, "match")
            .filter(pk=form.cleaned_data["volunteer"])
            .first()
        )
        try:
            if volunteer is None:
                raise IntroductionError
            actions.arrange_introduction(
                request.user,
                wanted,
                volunteer,
                chosen_name=form.cleaned_data["chosen_name"],
                looking_for=form.cleaned_data["looking_for"],
                channel=form.cleaned_data["channel"],
                times=frozenset(form.cleaned_data["times"]),
            )
        except IntroductionError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(
                request, _("The volunteer has been asked. They will see who only if both say yes.")
            )
            return HttpResponseRedirect(reverse("volunteers:arrange", args=[referral.pk]))
    context = {
        "referral": referral,
        "person": person,
        "wanted": wanted,
        "suggestions": suggestions,
        "form": form,
        "introductions": queries.introductions_of_request(request.user, wanted),
        "no_channel": not usable,
    }
    return render(request, "volunteers/arrange.html", context, status=400 if form.errors else 200)


@staff_page
@require_http_methods(["GET", "POST"])
def introduction(request: HttpRequest, introduction_id: int) -> HttpResponse:
    """One introduction, for the volunteer (answer; after both said yes, the agreed fields), the
    worker (its state) and the coordinator: end it, record the first meeting, report a concern."""
    found = in_scope_or_404(
        Introduction.objects.select_related("volunteer", "request__fellowship", "request__referral"),
        request,
        introduction_id,
    )
    user = request.user
    which = request.POST.get("form", "") if request.method == "POST" else ""
    meeting_form = FirstMeetingForm(request.POST if which == "meeting" else None)
    report_form = SafetyReportForm(request.POST if which == "report" else None)
    if request.method == "POST":
        try:
            if which in ("accept", "decline"):
                actions.answer_as_volunteer(user, found, accept=which == "accept")
                messages.success(request, _("Thank you: your answer is recorded."))
            elif which == "end":
                actions.end_introduction(user, found)
                messages.success(request, _("The introduction has ended."))
            elif which == "meeting" and meeting_form.is_valid():
                actions.record_first_meeting(user, found, on=meeting_form.cleaned_data["met_on"])
                messages.success(request, _("First meeting together recorded."))
            elif which == "report" and report_form.is_valid():
                actions.report_safety(user, found, report_form.cleaned_data["text"])
                messages.success(request, _("Your report has gone to the coordinator."))
            elif which not in ("meeting", "report"):
                raise Http404
            else:
                return _introduction_page(request, found, meeting_form, report_form, status=400)
        except IntroductionError as error:
            messages.error(request, str(error.message))
        return HttpResponseRedirect(reverse("volunteers:introduction", args=[found.pk]))
    return _introduction_page(request, found, meeting_form, report_form)


def _introduction_page(
    request: HttpRequest,
    found: Introduction,
    meeting_form: FirstMeetingForm,
    report_form: SafetyReportForm,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    agreed = access.can(user, "introduction.agreed", found)
    if agreed:
        actions.record_agreed_view(user, found)
    context: dict[str, Any] = {
        "introduction": found,
        "wanted": found.request,
        "agreed": agreed,
        "may_answer": access.can(user, "introduction.answer", found)
        and found.state == IntroductionState.OFFERED,
        "may_meet": found.state == IntroductionState.CONNECTED
        and access.can(user, "introduction.meet", found),
        "may_end": found.state in (IntroductionState.OFFERED, IntroductionState.ASKED, *CONNECTED_STATES)
        and found.ended_at is None,
        "is_worker": access.can(user, "introduction.arrange", found),
        "meeting_form": meeting_form,
        "report_form": report_form,
        "reasons": queries.reason_words(found.reasons),
    }
    return render(request, "volunteers/introduction.html", context, status=status)


@staff_page
def mine(request: HttpRequest) -> HttpResponse:
    """A volunteer's own page: their status and their introductions, nobody else's."""
    if not access.may(request.user, "volunteering.own"):
        raise Refused(_("This page is for volunteer members."))
    context = {
        "profile": queries.my_profile(request.user),
        "introductions": queries.my_introductions(request.user),
    }
    return render(request, "volunteers/mine.html", context)


STATUS_WORDS = {
    VolunteerStatus.ACTIVE: "active",
    VolunteerStatus.PAUSED: "paused",
    VolunteerStatus.LEFT: "left",
}


@staff_page
@require_POST
def my_status(request: HttpRequest) -> HttpResponse:
    if not access.may(request.user, "volunteering.own"):
        raise Refused(_("This page is for volunteer members."))
    profile = queries.my_profile(request.user)
    status = request.POST.get("status", "")
    if profile is None or status not in STATUS_WORDS:
        raise Http404
    actions.set_volunteer_status(request.user, profile, status)
    messages.success(
        request, _("Your status is now: %(status)s.") % {"status": VolunteerStatus(status).label}
    )
    return HttpResponseRedirect(reverse("volunteers:mine"))


@staff_page
def coordinate(request: HttpRequest) -> HttpResponse:
    """The coordinator's volunteers: waiting to be vetted first, with their load."""
    if not access.may(request.user, "volunteers.coordinate"):
        raise Refused(_("This page is for volunteer coordinators."))
    volunteers = list(queries.coordinated(request.user))
    context = {
        "volunteers": volunteers,
        "open_reports": queries.reports_for(request.user).filter(handled_at__isnull=True).count(),
    }
    return render(request, "volunteers/coordinate.html", context)


@staff_page
@require_http_methods(["GET", "POST"])
def add_volunteer(request: HttpRequest) -> HttpResponse:
    """Add a volunteer: their account (they choose a password from an e-mailed link) and their
    offer, waiting to be vetted."""
    organisations = access.coordinated_organisations_for(request.user).order_by("name")
    if not organisations.exists():
        actions.refuse_enrolment(request.user)
        raise Refused(_("Only a volunteer coordinator adds volunteers, to their own organisation."))
    form = NewVolunteerForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
        initial={"organisation": organisations.first()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = actions.enrol_volunteer(request.user, **form.volunteer_fields())
        except EmailInUse as error:
            form.add_error("email", str(error.message))
        else:
            messages.success(
                request,
                _(
                    "%(name)s is added, waiting to be vetted. They have been e-mailed a link to "
                    "choose their password."
                )
                % {"name": volunteer.first_name},
            )
            return HttpResponseRedirect(reverse("volunteers:coordinate"))
    return render(request, "volunteers/add.html", {"form": form}, status=400 if form.errors else 200)


@staff_page
@require_POST
def volunteer_status(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    if not access.may(request.user, "volunteers.coordinate"):
        raise Refused(_("This page is for volunteer coordinators."))
    volunteer = in_scope_or_404(Volunteer.objects.all(), request, volunteer_id, "coordinate")
    status = request.POST.get("status", "")
    if status not in VolunteerStatus.values:
        raise Http404
    actions.set_volunteer_status(request.user, volunteer, status)
    messages.success(
        request,
        _("%(name)s is now: %(status)s.")
        % {"name": volunteer.first_name, "status": VolunteerStatus(status).label},
    )
    return HttpResponseRedirect(reverse("volunteers:coordinate"))


@staff_page
@require_POST
def resend_link(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """A new link to choose a password, for a volunteer who has not chosen one yet."""
    if not access.may(request.user, "volunteers.coordinate"):
        raise Refused(_("This page is for volunteer coordinators."))
    volunteer = in_scope_or_404(
        Volunteer.objects.select_related("user", "organisation"), request, volunteer_id, "coordinate"
    )
    if volunteer.user.has_usable_password():
        messages.error(request, _("%(name)s has already chosen a password.") % {"name": volunteer.first_name})
    else:
        actions.resend_password_link(request.user, volunteer)
        messages.success(
            request,
            _("A new link to choose a password has been e-mailed to %(name)s.")
            % {"name": volunteer.first_name},
        )
    return HttpResponseRedirect(reverse("volunteers:coordinate"))


@staff_page
@require_http_methods(["GET", "POST"])
def reports(request: HttpRequest) -> HttpResponse:
    """Safety reports about the coordinator's volunteers' introductions."""
    if not access.may(request.user, "volunteers.coordinate"):
        raise Refused(_("This page is for volunteer coordinators."))
    found = queries.reports_for(request.user)
    if request.method == "POST":
        report = found.filter(
            pk=request.POST.get("report", "0") if request.POST.get("report", "").isdigit() else 0
        ).first()
        if report is None:
            raise Http404
        actions.mark_report_handled(request.user, report)
        messages.success(request, _("Marked as handled."))
        return HttpResponseRedirect(reverse("volunteers:reports"))
    return render(request, "volunteers/reports.html", {"reports": found})


# ---------------------------------------------------------------- the person's own link

LANGUAGE_CODES = ("en", "es")


def _public(
    request: HttpRequest, template: str, context: dict[str, Any], language: str, status: int = 200
) -> HttpResponse:
    chosen = request.GET.get("lang") or request.POST.get("lang") or language
    language = chosen if chosen in LANGUAGE_CODES else "en"
    context["lang"] = language
    context["languages"] = [(code, f"{request.path}?lang={code}") for code in LANGUAGE_CODES]
    with translation.override(language):
        response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    # The token is in the path: referrers carry the origin only, search engines keep out.
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The person's private link: who offered (a first name, their groups, languages); yes or
    no; once connected, end it or tell the coordinator about a problem. No sign-in."""
    # As the outcome links: guessing tokens is slowed per client and per token (shared counters).
    client = limits.hit("introduction-link-client", request.META.get("REMOTE_ADDR", ""), window=3600)
    per_token = limits.hit("introduction-link-token", token, window=3600)
    if (
        client > settings.OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR
        or per_token > settings.OUTCOME_LINK_REQUESTS_PER_TOKEN_HOUR
    ):
        response = _public(request, "volunteers/public_slow_down.html", {}, "en", status=429)
        response.headers["Retry-After"] = "3600"
        return response
    try:
        found = actions.usable_link(token)
    except LinkUnusable:
        return _public(request, "volunteers/public_gone.html", {}, "en", status=410)
    report_form = SafetyReportForm(request.POST if request.POST.get("form") == "report" else None)
    if request.method == "POST":
        which = request.POST.get("form", "")
        try:
            if which in ("accept", "decline"):
                found = actions.answer_as_person(token, accept=which == "accept")
            elif which == "end":
                found = actions.end_by_person(token)
            elif which == "report" and report_form.is_valid():
                actions.report_safety_by_person(token, report_form.cleaned_data["text"])
                return _public(request, "volunteers/public_done.html", {"reported": True}, found.language)
            elif which != "report":
                raise Http404
        except IntroductionError:
            return _public(request, "volunteers/public_gone.html", {}, found.language, status=410)
        if which != "report" or report_form.is_valid():
            return _public(request, "volunteers/public_done.html", {"introduction": found}, found.language)
    context = {
        "introduction": found,
        "volunteer": found.volunteer,
        "fellowships": list(found.volunteer.fellowships.values_list("name", flat=True)),
        "report_form": report_form,
    }
    return _public(
        request,
        "volunteers/public_answer.html",
        context,
        found.language,
        status=400 if report_form.errors else 200,
    )
