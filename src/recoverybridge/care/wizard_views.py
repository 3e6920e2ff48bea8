"""The referral wizard's pages: FAMA step by step, every answer kept in a server-side draft.

/staff/people/<id>/refer/ starts (or carries on with) the user's referral of that person; each
step then lives at /staff/referral-drafts/<draft>/<step>/. Every step's form saves the draft,
whichever way the worker goes (on, back, adding a follow-up date), so a detour (recording
consent, adding a related person, editing their details, going home for the night) loses
nothing. Thin: the answers are care.drafts.Answers, the options care.wizard, the changes
care.actions.
"""

import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from recoverybridge.accounts.shortcuts import in_scope_or_404, staff_page
from recoverybridge.care import actions, queries
from recoverybridge.care.drafts import STEP_TITLES, STEPS, Answers, Target
from recoverybridge.care.errors import ConsentRequired, DraftIncomplete
from recoverybridge.care.forms import FollowUpPlanForm, IntroductionForm, MattersForm, ReferralTargetForm
from recoverybridge.care.models import (
    MUTUAL_AID,
    Barrier,
    ConsentPurpose,
    IntroductionKind,
    Person,
    ReferralDraft,
    ReferralTargetKind,
)
from recoverybridge.care.times import format_locale, long_date
from recoverybridge.care.views import consent_message
from recoverybridge.care.wizard import options_for
from recoverybridge.directory.models import Fellowship, ServiceCategory
from recoverybridge.directory.queries import services_near

NEXT = "next"
BACK = "back"


def _step_url(draft: ReferralDraft, step: str) -> str:
    return reverse("care:draft_step", args=[draft.pk, step])


def _draft(request: HttpRequest, draft_id: int) -> ReferralDraft:
    draft = queries.draft_in_scope(request.user, draft_id)
    if draft is None:
        raise Http404
    return draft


def _meeting_ids(values: list[str]) -> list[int]:
    return list(dict.fromkeys(int(v) for v in values if v.isdecimal()))


def _steps(draft: ReferralDraft | None, answers: Answers, current: str) -> list[dict[str, Any]]:
    """The step list: each step's title, and a link once there is a draft to go back and forth in."""
    return [
        {
            "name": name,
            "title": STEP_TITLES[name],
            "number": number,
            "url": _step_url(draft, name) if draft is not None else "",
            "current": name == current,
            "done": name in answers.visited,
        }
        for number, name in enumerate(STEPS, start=1)
    ]


def _consent_needed(person: Person, target: Target, back: str) -> dict[str, str] | None:
    """The notice and the detour (recording consent, then back to `back`) when the chosen
    organisation needs the person's consent and has none."""
    if target.kind in MUTUAL_AID or target.organisation is None:
        return None
    organisation = queries.recipients().filter(pk=target.organisation).first()
    if organisation is None or organisation.pk == person.team.organisation_id:
        return None
    if organisation in queries.consented_recipients(person):
        return None
    query = urlencode({"purpose": ConsentPurpose.REFERRAL, "recipient": organisation.pk, "next": back})
    return {
        "message": consent_message(person, ConsentRequired(organisation.name)),
        "url": reverse("care:give_consent", args=[person.pk]) + "?" + query,
    }


def _render(
    request: HttpRequest,
    step: str,
    person: Person,
    draft: ReferralDraft | None,
    answers: Answers,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    number = STEPS.index(step) + 1
    locale = format_locale(person.zone_name)
    base = {
        "person": person,
        "draft": draft,
        "answers": answers,
        "step": step,
        "step_label": _("Step %(number)d of %(count)d: %(title)s")
        % {"number": number, "count": len(STEPS), "title": STEP_TITLES[step]},
        "steps": _steps(draft, answers, step),
        "here": _step_url(draft, step) if draft else reverse("care:refer", args=[person.pk]),
        "previous": _step_url(draft, STEPS[number - 2]) if draft and number > 1 else "",
        "locale": locale,
        "expires_on": long_date(timezone.localdate(draft.expires_at), locale) if draft else "",
    }
    return render(request, f"care/wizard/{step}.html", {**base, **context}, status=status)


# ---------------------------------------------------------------- starting and carrying on


@staff_page
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, person_id: int) -> HttpResponse:
    """Carry on with the user's draft of this person's referral, or start one: the first step,
    what matters to them, saved (and the draft made) when the worker goes on."""
    person = in_scope_or_404(
        Person.objects.select_related("team__organisation", "navigator"), request, person_id
    )
    draft = queries.draft_of(request.user, person)
    if draft is not None:
        return HttpResponseRedirect(_step_url(draft, draft.step))
    answers = Answers.start(person)
    if request.method == "POST":
        form = MattersForm(request.POST)
        if form.is_valid():
            draft = actions.start_referral_draft(request.user, person)
            _apply_matters(form, answers)
            actions.save_referral_draft(request.user, draft, answers, step="options")
            return HttpResponseRedirect(_step_url(draft, "options"))
        return _render(request, "matters", person, None, answers, {"form": form}, status=400)
    actions.record_view(request.user, person, detail="referral wizard")
    form = MattersForm(initial=MattersForm.initial_from(answers.matters, [], "", False))
    return _render(request, "matters", person, None, answers, {"form": form})


@staff_page
@require_http_methods(["GET"])
def draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    return HttpResponseRedirect(_step_url(draft, draft.step))


@staff_page
@require_POST
def discard_draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    actions.discard_referral_draft(request.user, draft)
    messages.success(request, _("The unfinished referral was discarded. Nothing was shared."))
    return HttpResponseRedirect(reverse("care:person", args=[draft.person_id]))


# ---------------------------------------------------------------- the steps


@staff_page
@require_http_methods(["GET", "POST"])
def draft_step(request: HttpRequest, draft_id: int, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    draft = _draft(request, draft_id)
    person = draft.person
    answers = Answers.from_json(draft.answers, person)
    if request.method == "GET":
        actions.record_view(request.user, person, detail=f"referral wizard: {step}")
    handler = STEP_HANDLERS[step]
    return handler(request, draft, person, answers)


def _go(
    request: HttpRequest, draft: ReferralDraft, answers: Answers, step: str, stay: bool = False
) -> HttpResponse:
    """Save the step's answers, then on, back, or (`stay`) to the same step."""
    index = STEPS.index(step)
    if step not in answers.visited:
        answers.visited.append(step)
    if stay:
        destination = step
    elif request.POST.get("go") == BACK:
        destination = STEPS[max(index - 1, 0)]
    else:
        destination = STEPS[min(index + 1, len(STEPS) - 1)]
    actions.save_referral_draft(request.user, draft, answers, step=destination)
    return HttpResponseRedirect(_step_url(draft, destination))


def _apply_matters(form: MattersForm, answers: Answers) -> None:
    answers.matters = form.matters()
    answers.barriers = list(form.cleaned_data["barriers"])
    answers.barrier_note = form.cleaned_data["barrier_note"]
    answers.remember = form.cleaned_data["remember"]
    if "matters" not in answers.visited:
        answers.visited.append("matters")


def matters_step(
    request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers
) -> HttpResponse:
    if request.method == "POST":
        form = MattersForm(request.POST)
        if form.is_valid():
            _apply_matters(form, answers)
            return _go(request, draft, answers, "matters")
        return _render(request, "matters", person, draft, answers, {"form": form}, status=400)
    form = MattersForm(
        initial=MattersForm.initial_from(
            answers.matters, answers.barriers, answers.barrier_note, answers.remember
        )
    )
    return _render(request, "matters", person, draft, answers, {"form": form})


def options_step(
    request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers
) -> HttpResponse:
    if request.method == "POST":
        presented = _meeting_ids(request.POST.getlist("presented"))
        answers.presented = presented
        answers.chosen = [pk for pk in _meeting_ids(request.POST.getlist("chosen")) if pk in presented]
        return _go(request, draft, answers, "options")
    options = options_for(
        person, now=timezone.now(), matters=answers.matters, barriers=answers.barriers, keep=answers.chosen
    )
    context = {
        "options": options,
        "chosen": set(answers.chosen),
        "barrier_labels": [Barrier(code).label for code in answers.barriers],
        **_nearby_services(request, person),
    }
    return _render(request, "options", person, draft, answers, context)


def _nearby_services(request: HttpRequest, person: Person) -> dict[str, Any]:
    """Beside mutual aid, a read-only suggestion: the nearest services of the kind the worker picks
    (treatment, recovery housing...). Nothing is kept or disclosed; the referral stays to meetings."""
    category = request.GET.get("service_category", "")
    if category not in ServiceCategory.values:
        category = ""
    located = person.latitude is not None and person.longitude is not None
    hits = []
    if located and category and person.latitude is not None and person.longitude is not None:
        hits = services_near(person.latitude, person.longitude, category)
    return {
        "service_categories": ServiceCategory.choices,
        "service_category": category,
        "services_located": located,
        "nearby_services": hits,
    }


def _chosen_meetings(answers: Answers) -> list[Any]:
    meetings = queries.active_meetings(answers.chosen)
    return [meetings[pk] for pk in answers.chosen if pk in meetings]


def target_step(request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers) -> HttpResponse:
    chosen = _chosen_meetings(answers)
    choices = [(m.pk, f"{m.name} ({m.fellowship.name})") for m in chosen]
    target = answers.target
    if target.kind:
        initial: dict[str, Any] = {
            "target_kind": target.kind,
            "meeting": target.meeting,
            "fellowship": target.fellowship,
            "organisation": target.organisation,
            "reason": target.reason,
        }
    elif chosen:
        initial = {
            "target_kind": ReferralTargetKind.MEETING,
            "meeting": chosen[0].pk,
            "fellowship": chosen[0].fellowship_id,
        }
    else:
        initial = {}
    form = ReferralTargetForm(
        request.POST if request.method == "POST" else None, chosen=choices, initial=initial
    )
    here = _step_url(draft, "target")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        kind = data["target_kind"]
        answers.target = Target(
            kind=kind,
            meeting=data["meeting"] if kind == ReferralTargetKind.MEETING else None,
            fellowship=data["fellowship"].pk
            if kind == ReferralTargetKind.FELLOWSHIP and data["fellowship"]
            else None,
            organisation=data["organisation"].pk if kind not in MUTUAL_AID and data["organisation"] else None,
            reason=data["reason"],
        )
        needs_consent = _consent_needed(person, answers.target, here) is not None
        # Stay on this step while consent is missing: the notice and the way to record it are here.
        return _go(request, draft, answers, "target", stay=needs_consent and request.POST.get("go") != BACK)
    context = {
        "form": form,
        "chosen_meetings": chosen,
        "presented_count": len(answers.presented),
        "consent_needed": _consent_needed(person, answers.target, here) if not form.is_bound else None,
        "consented_to": sorted({o.name for o in queries.consented_recipients(person)}),
    }
    return _render(request, "target", person, draft, answers, context, status=400 if form.is_bound else 200)


def contact_step(
    request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers
) -> HttpResponse:
    initial = {"introduction": answers.introduction, "introduction_note": answers.introduction_note}
    form = IntroductionForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        answers.introduction = form.cleaned_data["introduction"]
        answers.introduction_note = form.cleaned_data["introduction_note"]
        return _go(request, draft, answers, "contact")
    context = {
        "form": form,
        "anxious": Barrier.GROUP_ANXIETY in answers.barriers or Barrier.DOUBTS in answers.barriers,
    }
    return _render(request, "contact", person, draft, answers, context, status=400 if form.is_bound else 200)


def follow_up_step(
    request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers
) -> HttpResponse:
    today = timezone.localdate()
    form = FollowUpPlanForm(
        request.POST if request.method == "POST" else None, dates=answers.follow_up_dates(today), today=today
    )
    go = request.POST.get("go", NEXT)
    if form.bound:
        if go.startswith("remove-") and go[7:].isdecimal():
            form.removing(int(go[7:]))
        if form.is_valid():
            if go == "add":
                form.adding()
            answers.follow_ups = form.planned()
            return _go(request, draft, answers, "follow-up", stay=go == "add" or go.startswith("remove-"))
    locale = format_locale(person.zone_name)
    rows = []
    for index, value in enumerate(form.values):
        try:
            label = long_date(datetime.date.fromisoformat(value), locale)
        except ValueError:
            label = ""
        rows.append({"index": index, "value": value, "label": label, "error": form.errors.get(index, "")})
    context = {
        "form": form,
        "rows": rows,
        "extra_error": form.errors.get(len(form.values), ""),
        "assignee": person.navigator or request.user,
        "planned": answers.follow_ups is not None,
    }
    return _render(request, "follow-up", person, draft, answers, context, status=400 if form.bound else 200)


def review_step(request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers) -> HttpResponse:
    if request.method == "POST":
        return _send(request, draft, person, answers)
    return _review(request, draft, person, answers)


def _review(
    request: HttpRequest,
    draft: ReferralDraft,
    person: Person,
    answers: Answers,
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    target = answers.target
    meetings = queries.active_meetings([*answers.presented, *answers.chosen])
    locale = format_locale(person.zone_name)
    if problems is None:
        problems = answers.problems(today, set(meetings))
    context = {
        "problems": [
            {"step": step, "message": message, "url": _step_url(draft, step)} for step, message in problems
        ],
        "chosen_meetings": [meetings[pk] for pk in answers.chosen if pk in meetings],
        "presented_count": len(answers.presented),
        "target_meeting": meetings.get(target.meeting) if target.meeting else None,
        "target_fellowship": Fellowship.objects.filter(pk=target.fellowship).first()
        if target.fellowship
        else None,
        "target_organisation": queries.recipients().filter(pk=target.organisation).first()
        if target.organisation
        else None,
        "target_kind_label": ReferralTargetKind(target.kind).label if target.kind else "",
        "barrier_labels": [Barrier(code).label for code in answers.barriers],
        "introduction_label": IntroductionKind(answers.introduction).label if answers.introduction else "",
        "follow_up_dates": [long_date(day, locale) for day in answers.follow_up_dates(today)],
        "consent_needed": _consent_needed(person, target, _step_url(draft, "review")),
        "matters": answers.matters.describe(),
    }
    return _render(request, "review", person, draft, answers, context, status=status)


def _send(request: HttpRequest, draft: ReferralDraft, person: Person, answers: Answers) -> HttpResponse:
    try:
        referral = actions.send_referral_draft(request.user, draft)
    except DraftIncomplete as error:
        return _review(request, draft, person, answers, status=400, problems=error.problems)
    except ConsentRequired:
        return _review(request, draft, person, answers, status=400)
    messages.success(request, _("Referral sent. The follow-ups you planned are in the work queue."))
    return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]))


STEP_HANDLERS = {
    "matters": matters_step,
    "options": options_step,
    "target": target_step,
    "contact": contact_step,
    "follow-up": follow_up_step,
    "review": review_step,
}
