"""Outcome pages. Thin: reads through outcomes.queries, every change
through outcomes.actions, every answer checked by the scoring engine.

Staff pages live under /staff/ (a person outside the user's scope is a 404, as on the care
pages). The self-completion page lives at /q/<token>/: no sign-in, no name, nothing personal
in the URL but the token; it answers 410 Gone, kindly, once the link is completed, expired
or revoked (and the same for a link that never existed), and 429 when asked too often.
"""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recoverybridge import limits
from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import Refused, in_scope_or_404, staff_page
from recoverybridge.care import actions as care_actions
from recoverybridge.care.messages import channel_label, channel_states
from recoverybridge.care.models import Person
from recoverybridge.directory.models import Fellowship
from recoverybridge.outcomes import actions, instruments, queries
from recoverybridge.outcomes.actions import InvitationUnusable
from recoverybridge.outcomes.forms import (
    QUESTIONNAIRE,
    AnswerForm,
    AttendanceForm,
    CheckInForm,
    InvitationForm,
    StaffEntryForm,
    fellowship_choices,
)
from recoverybridge.outcomes.instruments import Instrument, Item
from recoverybridge.outcomes.models import Invitation, InvitationKind, Response, ResponseStatus
from recoverybridge.outcomes.scoring import InvalidAnswers

LANGUAGE_CODES = dict(settings.LANGUAGES)


def _instrument(instrument_id: str, version: str | None = None) -> Instrument:
    try:
        return instruments.get(instrument_id, version)
    except KeyError:
        raise Http404 from None


def _fellowships() -> list[tuple[str, str]]:
    return fellowship_choices(list(Fellowship.objects.order_by("name").values_list("slug", "name")))


def _person(request: HttpRequest, person_id: int) -> Person:
    return in_scope_or_404(
        Person.objects.select_related("team__organisation", "navigator"), request, person_id
    )


def _outcomes_url(person: Person) -> str:
    return reverse("outcomes:person", args=[person.pk])


# ---------------------------------------------------------------- a person's outcomes


@staff_page
@require_GET
def person_outcomes(request: HttpRequest, person_id: int) -> HttpResponse:
    """Trajectories as charts with their numbers, responses, open links and what is due."""
    person = _person(request, person_id)
    care_actions.record_view(request.user, person, detail="outcomes")
    context = queries.person_outcomes(request.user, person, now=timezone.now())
    return render(request, "outcomes/person.html", {"person": person, "o": context})


# ---------------------------------------------------------------- staff entry


@staff_page
@require_http_methods(["GET", "POST"])
def enter_response(request: HttpRequest, person_id: int, instrument_id: str) -> HttpResponse:
    """Enter (or carry on with) a response. "Save for later" keeps a half-filled form in
    progress; "Save response" completes it. Wrong answers come back with the engine's message
    on the item and every other answer kept."""
    person = _person(request, person_id)
    language = translation.get_language() or "en"
    resume = _in_progress(request, person, instrument_id)
    instrument = _instrument(instrument_id, resume.instrument_version if resume else None)
    scheduled = queries.scheduled_in_scope(request.user, person, request.GET.get("scheduled", ""))
    initial = {"time_point": scheduled.time_point if scheduled else (resume.time_point if resume else None)}
    data = request.POST if request.method == "POST" else None
    meta = StaffEntryForm(data, initial={k: v for k, v in initial.items() if v})
    form = AnswerForm(
        data,
        instrument=instrument,
        language=language,
        answers=resume.answers if resume else None,
        fellowships=_fellowships(),
    )
    if request.method == "POST" and meta.is_valid() and form.is_valid():
        complete = "save_for_later" not in request.POST
        try:
            if resume is not None:
                actions.update_response(request.user, resume, form.answers(), complete=complete)
            else:
                actions.record_response(
                    request.user,
                    person,
                    instrument.id,
                    form.answers(),
                    time_point=meta.cleaned_data["time_point"],
                    complete=complete,
                    version=instrument.version,
                    language=language,
                    scheduled=scheduled,
                )
        except InvalidAnswers as error:
            form.add_engine_errors(error.errors)
        except ValueError:
            form.add_error(None, _("That response was completed meanwhile; it cannot be changed now."))
        else:
            if complete:
                messages.success(request, _("Response saved."))
            else:
                messages.success(request, _("Answers saved for later: carry on from the outcomes page."))
            return HttpResponseRedirect(_outcomes_url(person))
    context = {
        "person": person,
        "instrument": instrument,
        "title": instrument.title(language),
        "form": form,
        "meta": meta,
        "resume": resume,
        "scheduled": scheduled,
    }
    status = 400 if request.method == "POST" else 200
    care_actions.record_view(request.user, person, detail=f"enter {instrument.id}")
    return render(request, "outcomes/enter.html", context, status=status)


def _in_progress(request: HttpRequest, person: Person, instrument_id: str) -> Response | None:
    ref = request.GET.get("response", "")
    if not ref:
        return None
    if not ref.isdigit():
        raise Http404
    found = (
        queries.person_responses(request.user, person)
        .filter(pk=int(ref), instrument=instrument_id, status=ResponseStatus.IN_PROGRESS)
        .first()
    )
    if found is None:
        raise Http404
    return found


# ---------------------------------------------------------------- self-completion links


@staff_page
@require_http_methods(["GET", "POST"])
def send_link(request: HttpRequest, person_id: int) -> HttpResponse:
    """Create a self-completion (or check-in) link, send it by text or e-mail when the person
    agreed to that, and show it once, to copy or read out."""
    person = _person(request, person_id)
    latest = instruments.registry().latest()
    language = translation.get_language() or "en"
    scheduled = queries.scheduled_in_scope(request.user, person, request.GET.get("scheduled", ""))
    channels = channel_states(person)
    initial: dict[str, Any] = {"language": person.preferred_language or "en"}
    chosen = scheduled.instrument if scheduled is not None else request.GET.get("instrument", "")
    if chosen:
        initial["what"] = QUESTIONNAIRE + chosen
    form = InvitationForm(
        request.POST or None,
        instruments=[(i.id, i.title(language)) for i in latest],
        channels=[(state.channel, channel_label(state)) for state in channels.values() if state.usable],
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        kind = form.kind
        invitation, token = actions.create_invitation(
            request.user,
            person,
            instrument_id=form.instrument,
            kind=kind,
            language=form.cleaned_data["language"],
            scheduled=scheduled if kind == InvitationKind.QUESTIONNAIRE else None,
            valid_for=form.valid_for,
        )
        sending = (
            actions.send_invitation(request.user, invitation, token, channel=form.channel)
            if form.channel
            else None
        )
        what = (
            _instrument(invitation.instrument).title(language)
            if kind == InvitationKind.QUESTIONNAIRE
            else _("Check-in")
        )
        # Shown in this response only: the token is not stored, so it cannot be shown again.
        context = {
            "person": person,
            "link": actions.link_for(token),
            "read_out": _read_out(actions.link_for(token), token),
            "invitation": invitation,
            "what": what,
            "sending": sending,
            "sent_to": channels[sending.channel].shown_address if sending else "",
        }
        care_actions.record_view(request.user, person, detail="link created")
        return render(request, "outcomes/link_created.html", context)
    status = 400 if request.method == "POST" else 200
    unusable = [state for state in channels.values() if not state.usable]
    care_actions.record_view(request.user, person, detail="send a link")
    return render(
        request,
        "outcomes/send_link.html",
        {"person": person, "form": form, "scheduled": scheduled, "unusable": unusable},
        status=status,
    )


def _read_out(link: str, token: str) -> str:
    """The link as it is read out over the phone: the token in groups of four."""
    site = link.removesuffix(f"{token}/")
    return f"{site} {' '.join(token[i : i + 4] for i in range(0, len(token), 4))} /"


@staff_page
@require_POST
def revoke_link(request: HttpRequest, person_id: int, invitation_id: int) -> HttpResponse:
    person = _person(request, person_id)
    invitation = Invitation.objects.restrict(request.user).filter(person=person, pk=invitation_id).first()
    if invitation is None:
        raise Http404
    actions.revoke_invitation(request.user, invitation)
    messages.success(request, _("Link revoked: it no longer works."))
    return HttpResponseRedirect(_outcomes_url(person))


# ---------------------------------------------------------------- team completion


@staff_page
@require_GET
def team_completion(request: HttpRequest) -> HttpResponse:
    """Completion of scheduled assessments per team, for its managers (inside the care team:
    no small-number suppression)."""
    if not access.may(request.user, "teams.manage"):
        raise Refused(_("Only team and service managers see completion rates."))
    today = timezone.localdate()
    rows = queries.team_completion(request.user, today)
    return render(request, "outcomes/teams.html", {"rows": rows, "today": today})


# ---------------------------------------------------------------- the public pages


def _rate_limited(request: HttpRequest, token: str) -> bool:
    """Counts this request against the client's address and the token, in the shared limits
    cache (every web process counts alike; it keeps only keyed hashes of both)."""
    client = limits.hit("outcome-link-client", request.META.get("REMOTE_ADDR", ""), window=3600)
    per_token = limits.hit("outcome-link-token", token, window=3600)
    return (
        client > settings.OUTCOME_LINK_REQUESTS_PER_CLIENT_HOUR
        or per_token > settings.OUTCOME_LINK_REQUESTS_PER_TOKEN_HOUR
    )


def _language(request: HttpRequest, default: str) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    return chosen if chosen in LANGUAGE_CODES else (default if default in LANGUAGE_CODES else "en")


def _public(
    request: HttpRequest, template: str, context: dict[str, Any], language: str, status: int = 200
) -> HttpResponse:
    """Render a public page in `language`, with links to the same page in the others."""
    path = request.path
    extra = {k: v for k, v in request.GET.items() if k != "lang"}
    context["languages"] = [
        (code, name, f"{path}?{urlencode({**extra, 'lang': code})}") for code, name in settings.LANGUAGES
    ]
    context["lang"] = language
    with translation.override(language):
        response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    # The token is in the path: referrers carry the origin only (a form post still sends its
    # Origin, which the CSRF check needs), and search engines keep out.
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest, language: str) -> HttpResponse:
    return _public(request, "outcomes/public_gone.html", {}, language, status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def take(request: HttpRequest, token: str) -> HttpResponse:
    """The self-completion page: one question per screen, saved as the person goes."""
    if _rate_limited(request, token):
        response = _public(request, "outcomes/public_slow_down.html", {}, _language(request, "en"), 429)
        response.headers["Retry-After"] = "3600"
        return response
    try:
        invitation = actions.usable_invitation(token)
    except InvitationUnusable:
        # Said in the language the link was sent in, where there was one.
        sent_in = (
            Invitation.objects.filter(token_hash=actions.hash_token(token))
            .values_list("language", flat=True)
            .first()
        )
        return _gone(request, _language(request, sent_in or translation.get_language() or "en"))
    language = _language(request, invitation.language)
    if invitation.kind == InvitationKind.CHECK_IN:
        return _check_in(request, token, invitation, language)
    if invitation.kind == InvitationKind.ATTENDANCE:
        return _attendance(request, token, language)
    return _questionnaire(request, token, invitation, language)


def _screens(instrument: Instrument) -> tuple[list[Item], list[Item]]:
    """(texts shown on every screen, one screen per top-level question or group)."""
    intro = [item for item in instrument.items if item.type == "display"]
    screens = [item for item in instrument.items if item.type != "display"]
    return intro, screens


def _answered(item: Item, answers: dict[str, Any]) -> bool:
    if item.type == "group" and not item.repeats:
        return any(child.link_id in answers for child in item.children)
    return item.link_id in answers


def _questionnaire(request: HttpRequest, token: str, invitation: Invitation, language: str) -> HttpResponse:
    instrument = _instrument(invitation.instrument, invitation.instrument_version)
    saved: dict[str, Any] = dict(invitation.response.answers) if invitation.response else {}
    intro_items, screens = _screens(instrument)
    total = len(screens)
    step = _step(request, screens, saved)
    here = request.path

    def go(to: int) -> HttpResponse:
        return HttpResponseRedirect(f"{here}?{urlencode({'step': to, 'lang': language})}")

    context: dict[str, Any] = {
        "title": instrument.title(language),
        "total": total,
        "step": step,
        "intro": [item.label(language) for item in intro_items],
        "answered": sum(1 for item in screens if _answered(item, saved)),
    }
    if step > total:  # the last screen: send the answers
        unanswered = [(n, s.label(language)) for n, s in enumerate(screens, 1) if not _answered(s, saved)]
        context["unanswered"] = unanswered
        if request.method == "POST":
            if "back" in request.POST:
                return go(total)
            try:
                actions.complete_invitation(token, saved)
            except InvitationUnusable:
                return _gone(request, language)
            except InvalidAnswers as error:
                context["errors"] = list(error.errors.values())
                return _public(request, "outcomes/public_finish.html", context, language, status=400)
            return HttpResponseRedirect(f"{reverse('outcomes:thanks')}?{urlencode({'lang': language})}")
        return _public(request, "outcomes/public_finish.html", context, language)

    item = screens[step - 1]
    with translation.override(language):
        form = AnswerForm(
            request.POST if request.method == "POST" else None,
            instrument=instrument,
            language=language,
            answers=saved,
            items=[item],
            fellowships=_fellowships(),
        )
        if request.method == "POST" and form.is_valid():
            merged = {k: v for k, v in saved.items() if k not in form.link_ids()}
            merged.update(form.answers())
            try:
                actions.save_invitation_answers(token, merged)
            except InvitationUnusable:
                return _gone(request, language)
            except InvalidAnswers as error:
                form.add_engine_errors(error.errors)
            else:
                return go(step - 1 if "back" in request.POST and step > 1 else step + 1)
    context["form"] = form
    status = 400 if request.method == "POST" else 200
    return _public(request, "outcomes/public_question.html", context, language, status=status)


def _step(request: HttpRequest, screens: list[Item], saved: dict[str, Any]) -> int:
    """The screen asked for, or the first one not yet answered (so a link resumes)."""
    asked = request.GET.get("step", "")
    if asked.isdigit() and 1 <= int(asked) <= len(screens) + 1:
        return int(asked)
    for number, item in enumerate(screens, 1):
        if not _answered(item, saved):
            return number
    return len(screens) + 1


@never_cache
@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    return _public(request, "outcomes/public_thanks.html", {}, _language(request, "en"))


def _check_in(request: HttpRequest, token: str, invitation: Invitation, language: str) -> HttpResponse:
    meetings = queries.check_in_meetings(invitation.person, now=timezone.now())
    with translation.override(language):
        form = CheckInForm(request.POST if request.method == "POST" else None, meetings=meetings)
        if request.method == "POST" and form.is_valid():
            try:
                actions.check_in_through(
                    token,
                    meetings=form.chosen_meetings(),
                    meetings_count=form.meetings_count(),
                    mood=form.cleaned_data["mood"],
                    cravings=form.cleaned_data["cravings"],
                )
            except InvitationUnusable:
                return _gone(request, language)
            return HttpResponseRedirect(f"{reverse('outcomes:thanks')}?{urlencode({'lang': language})}")
    status = 400 if request.method == "POST" else 200
    return _public(request, "outcomes/public_check_in.html", {"form": form}, language, status=status)


def _attendance(request: HttpRequest, token: str, language: str) -> HttpResponse:
    """After the first meeting they chose: did they go? Their answer closes the loop."""
    with translation.override(language):
        form = AttendanceForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                actions.answer_attendance(
                    token, result=form.cleaned_data["result"], barriers=form.cleaned_data["barriers"]
                )
            except InvitationUnusable:
                return _gone(request, language)
            return HttpResponseRedirect(f"{reverse('outcomes:thanks')}?{urlencode({'lang': language})}")
    status = 400 if request.method == "POST" else 200
    return _public(request, "outcomes/public_attendance.html", {"form": form}, language, status=status)
