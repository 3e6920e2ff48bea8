"""Staff pages of care: the person timeline, the forms that change a record, a referral and the
referral wizard. Thin: reads come from care.queries (scoped with `restrict`), every change goes
through care.actions. A person outside the user's scope is a 404, never a 403,
so a page never tells whether someone exists."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import Refused, in_scope_or_404, staff_page
from recoverybridge.care import actions, queries, states
from recoverybridge.care.drafts import Matters
from recoverybridge.care.errors import ConsentRequired, InvalidTransition
from recoverybridge.care.forms import (
    AssistedStepForm,
    ConsentForm,
    ContactForm,
    EndEpisodeForm,
    EpisodeForm,
    FollowUpDateForm,
    FollowUpResultForm,
    MilestoneForm,
    PersonEditForm,
    PersonForm,
    RelatedPersonForm,
    SendMeetingsForm,
    StatusForm,
)
from recoverybridge.care.messages import channel_label, channel_states
from recoverybridge.care.models import (
    Barrier,
    FollowUp,
    Person,
    Referral,
    RelatedPerson,
    TaskStatus,
)
from recoverybridge.care.takeaway import takeaway_pdf
from recoverybridge.care.times import format_locale
from recoverybridge.directory.timing import zone_label


def _person(request: HttpRequest, person_id: int) -> Person:
    return in_scope_or_404(
        Person.objects.select_related("team__organisation", "navigator"), request, person_id
    )


def _referral(request: HttpRequest, referral_id: int) -> Referral:
    referral = queries.referral_in_scope(request.user, referral_id)
    if referral is None:
        raise Http404
    return referral


def _person_url(person: Person) -> str:
    return reverse("care:person", args=[person.pk])


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _status(form: Any) -> int:
    return 400 if form.is_bound and form.errors else 200


# ---------------------------------------------------------------- follow-ups


def _follow_up(request: HttpRequest, follow_up_id: int) -> FollowUp:
    follow_up = queries.follow_up_in_scope(request.user, follow_up_id)
    if follow_up is None:
        raise Http404
    return follow_up


@staff_page
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """Record how it went: went, not yet, what got in the way...; the referral follows."""
    follow_up = _follow_up(request, follow_up_id)
    referral, person = follow_up.referral, follow_up.referral.person
    back = _next_url(request, reverse("care:referral", args=[referral.pk]))
    form = FollowUpResultForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and follow_up.completed_at is None:
        data = form.cleaned_data
        actions.complete_follow_up(
            request.user, follow_up, result=data["result"], barriers=data["barriers"], outcome=data["outcome"]
        )
        messages.success(request, _("Follow-up recorded."))
        return HttpResponseRedirect(back)
    if not form.is_bound:
        actions.record_view(request.user, person, detail=f"follow-up {follow_up.pk}")
    context = {
        "follow_up": follow_up,
        "referral": referral,
        "person": person,
        "form": form,
        "back": back,
        "locale": format_locale(person.zone_name),
    }
    return render(request, "care/follow_up.html", context, status=_status(form))


@staff_page
@require_POST
def plan_follow_up(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = FollowUpDateForm(request.POST, prefix="plan")
    if form.is_valid():
        try:
            actions.plan_follow_up(request.user, referral, due_on=form.cleaned_data["due_on"])
        except InvalidTransition:
            messages.error(request, _("Follow-ups are planned once a referral is sent."))
        else:
            messages.success(request, _("Follow-up planned."))
            return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]) + "#fu-heading")
    return referral_page(request, referral, plan_form=form)


@staff_page
@require_POST
def move_follow_up(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    follow_up = _follow_up(request, follow_up_id)
    referral = follow_up.referral
    form = FollowUpDateForm(request.POST, prefix=f"move-{follow_up.pk}")
    if form.is_valid():
        try:
            actions.move_follow_up(request.user, follow_up, due_on=form.cleaned_data["due_on"])
        except InvalidTransition:
            messages.error(request, _("That follow-up has been done already."))
        else:
            messages.success(request, _("Follow-up moved."))
        return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]) + "#fu-heading")
    return referral_page(request, _referral(request, referral.pk), move_form=(follow_up.pk, form))


@staff_page
@require_POST
def remove_follow_up(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    follow_up = _follow_up(request, follow_up_id)
    try:
        actions.remove_follow_up(request.user, follow_up)
    except InvalidTransition:
        messages.error(request, _("That follow-up has been done already."))
    else:
        messages.success(request, _("Follow-up removed."))
    return HttpResponseRedirect(reverse("care:referral", args=[follow_up.referral_id]) + "#fu-heading")


# ---------------------------------------------------------------- people


@staff_page
@require_http_methods(["GET", "POST"])
def add_person(request: HttpRequest) -> HttpResponse:
    teams = access.teams_for(request.user)
    if not access.may(request.user, "people.add"):
        raise Refused(_("Only members of a care team may add people."))
    form = PersonForm(request.POST or None, teams=teams, worker=request.user)
    if request.method == "POST" and form.is_valid():
        person = actions.create_person(request.user, form.cleaned_data["team"], **form.person_fields())
        messages.success(request, _("Person added."))
        return HttpResponseRedirect(_person_url(person))
    return render(
        request,
        "care/form.html",
        {
            "form": form,
            "title": _("Add a person"),
            "submit": _("Add person"),
            "back": reverse("workspace:dashboard"),
        },
        status=_status(form),
    )


@staff_page
@require_GET
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    actions.record_view(request.user, person, detail="timeline")
    timeline = queries.timeline(request.user, person)
    context = {"t": timeline, "person": person, "today": timezone.localdate()}
    return render(request, "care/person.html", context)


@staff_page
@require_http_methods(["GET", "POST"])
def edit_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    data = request.POST if request.method == "POST" else None
    form = PersonEditForm(data, person=person, teams=access.teams_for(request.user))
    back = _next_url(request, _person_url(person))
    if form.is_bound and form.is_valid():
        actions.update_person(request.user, person, **form.action_kwargs())
        messages.success(request, _("Details saved."))
        return HttpResponseRedirect(back)
    return _form_page(request, person, form, _("Edit details and preferences"), _("Save changes"), back)


@staff_page
@require_http_methods(["GET", "POST"])
def add_related_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    data = request.POST if request.method == "POST" else None
    form = RelatedPersonForm(data, person=person, people=Person.objects.restrict(request.user))
    back = _next_url(request, _person_url(person))
    if form.is_bound and form.is_valid():
        actions.add_related_person(request.user, person, **form.cleaned_data)
        messages.success(request, _("Related person added."))
        return HttpResponseRedirect(back)
    title = _("Add a family member or concerned other")
    return _form_page(request, person, form, title, _("Add related person"), back)


def _related(person: Person, related_id: int) -> RelatedPerson:
    """One of this person's related people; another person's is a 404 like a missing one."""
    related = queries.related_person_of(person, related_id)
    if related is None:
        raise Http404
    related.person = person  # already scoped and loaded; the actions check access on it again
    return related


@staff_page
@require_http_methods(["GET", "POST"])
def edit_related_person(request: HttpRequest, person_id: int, related_id: int) -> HttpResponse:
    person = _person(request, person_id)
    related = _related(person, related_id)
    data = request.POST if request.method == "POST" else None
    form = RelatedPersonForm(
        data, person=person, people=Person.objects.restrict(request.user), related=related
    )
    if form.is_bound and form.is_valid():
        try:
            actions.update_related_person(request.user, related, **form.cleaned_data)
        except RelatedPerson.DoesNotExist:
            raise Http404 from None  # removed by someone else meanwhile
        messages.success(request, _("Related person's details saved."))
        return HttpResponseRedirect(_person_url(person))
    title = _("Edit a family member or concerned other")
    return _form_page(request, person, form, title, _("Save changes"))


@staff_page
@require_http_methods(["GET", "POST"])
def remove_related_person(request: HttpRequest, person_id: int, related_id: int) -> HttpResponse:
    """GET asks to confirm and changes nothing; POST removes."""
    person = _person(request, person_id)
    related = _related(person, related_id)
    if request.method == "POST":
        actions.remove_related_person(request.user, related)
        messages.success(request, _("Related person removed."))
        return HttpResponseRedirect(_person_url(person))
    actions.record_view(request.user, person, detail=f"remove related person {related.pk}")
    linked = None
    if related.as_person_id is not None:
        linked = queries.person_in_scope(request.user, related.as_person_id)
    context = {"person": person, "related": related, "linked": linked, "back": _person_url(person)}
    return render(request, "care/related_remove.html", context)


@staff_page
@require_GET
def person_audit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    events = queries.person_trail(request.user, person)  # PermissionDenied unless a manager
    refused = queries.refused_by_day(request.user, person)
    actions.record_view(request.user, person, detail="audit trail")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # The team's zone as people name it ("London"), not its database name ("Europe/London").
    context = {"person": person, "page": page, "refused": refused, "zone": zone_label(person.team.zone_name)}
    return render(request, "care/audit.html", context)


@staff_page
@require_POST
def person_audit_export(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{person.reference}.csv"'
    actions.export_audit_trail(request.user, response, person=person)
    return response


# ---------------------------------------------------------------- consent, episodes, contacts


@staff_page
@require_http_methods(["GET", "POST"])
def give_consent(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    initial = {"purpose": request.GET.get("purpose", ""), "recipient": request.GET.get("recipient", "")}
    form = ConsentForm(request.POST or None, initial=initial)
    back = _next_url(request, _person_url(person))
    if request.method == "POST" and form.is_valid():
        actions.give_consent(request.user, person, **form.action_kwargs())
        messages.success(request, _("Consent recorded."))
        return HttpResponseRedirect(back)
    return _form_page(request, person, form, _("Record consent"), _("Record consent"), back)


@staff_page
@require_POST
def revoke_consent(request: HttpRequest, person_id: int, consent_id: int) -> HttpResponse:
    person = _person(request, person_id)
    consent = queries.consent_of(person, consent_id)
    if consent is None:
        raise Http404
    actions.revoke_consent(request.user, consent)
    messages.success(request, _("Consent revoked: nothing more is shared under it from now on."))
    return HttpResponseRedirect(_person_url(person))


@staff_page
@require_http_methods(["GET", "POST"])
def start_episode(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = EpisodeForm(request.POST or None, team=person.team, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        actions.start_episode(request.user, person, **form.cleaned_data)
        messages.success(request, _("Episode started."))
        return HttpResponseRedirect(_person_url(person))
    return _form_page(request, person, form, _("Start an episode"), _("Start episode"))


@staff_page
@require_http_methods(["GET", "POST"])
def end_episode(request: HttpRequest, person_id: int, episode_id: int) -> HttpResponse:
    person = _person(request, person_id)
    episode = queries.open_episode_of(person, episode_id)
    if episode is None:
        raise Http404
    form = EndEpisodeForm(request.POST or None, episode=episode, initial={"ended_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        actions.end_episode(request.user, episode, **form.cleaned_data)
        messages.success(request, _("Episode ended."))
        return HttpResponseRedirect(_person_url(person))
    title = _("End the %(kind)s episode") % {"kind": episode.get_kind_display().lower()}
    return _form_page(request, person, form, title, _("End episode"))


@staff_page
@require_http_methods(["GET", "POST"])
def log_contact(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    episodes = queries.episodes_of(person)
    initial = {"at": timezone.localtime().replace(second=0, microsecond=0)}
    form = ContactForm(request.POST or None, episodes=episodes, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.log_contact(request.user, person, **form.cleaned_data)
        messages.success(request, _("Contact logged."))
        return HttpResponseRedirect(_person_url(person))
    return _form_page(request, person, form, _("Log a contact"), _("Log contact"))


def _form_page(
    request: HttpRequest, person: Person, form: Any, title: str, submit: str, back: str = ""
) -> HttpResponse:
    """A form about the person: it shows their name, so it is a view of their record (audited
    each time it is shown, a form sent back with its errors too)."""
    match = request.resolver_match
    actions.record_view(request.user, person, detail=(match.url_name if match else "") or "form")
    context = {
        "form": form,
        "person": person,
        "title": title,
        "submit": submit,
        "back": back or _person_url(person),
    }
    return render(request, "care/form.html", context, status=_status(form))


# ---------------------------------------------------------------- a referral


def _referral_forms(referral: Referral, user: Any, data: Any, which: str) -> dict[str, Any]:
    def bound(name: str) -> Any:
        return data if name == which else None

    return {
        "status": StatusForm(
            bound("status"), allowed=states.allowed_statuses(user, referral), prefix="status"
        ),
        "milestone": MilestoneForm(
            bound("milestone"), initial={"business_status": referral.business_status}, prefix="milestone"
        ),
        "step": AssistedStepForm(bound("step"), initial={"on": timezone.localdate()}, prefix="step"),
    }


@staff_page
@require_http_methods(["GET", "POST"])
def referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    """One referral: its options, what mattered, contact with a member, its follow-ups (planned,
    moved, recorded), with the forms that move it on."""
    referral = _referral(request, referral_id)
    user = request.user
    which = request.POST.get("form", "") if request.method == "POST" else ""
    forms = _referral_forms(referral, user, request.POST, which)
    if request.method == "POST":
        if which not in forms:
            raise Http404
        form = forms[which]
        if form.is_valid():
            try:
                _apply(user, referral, which, form.cleaned_data)
            except (InvalidTransition, ValueError):
                form.add_error(
                    None, _("That change is not possible now: the referral has moved on. Please check it.")
                )
            except ConsentRequired as error:
                form.add_error(None, consent_message(referral.person, error))
            else:
                messages.success(request, _("Referral updated."))
                return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]))
    return referral_page(request, referral, forms=forms)


def referral_page(
    request: HttpRequest,
    referral: Referral,
    *,
    forms: dict[str, Any] | None = None,
    plan_form: FollowUpDateForm | None = None,
    move_form: tuple[int, FollowUpDateForm] | None = None,
    send_form: SendMeetingsForm | None = None,
) -> HttpResponse:
    """The referral's page, with any form that was just refused kept as it was typed (status 400)."""
    user = request.user
    refused = request.method == "POST"
    forms = forms or _referral_forms(referral, user, None, "")
    actions.record_view(user, referral.person, detail=f"referral {referral.pk}")
    person = referral.person
    follow_ups = queries.follow_ups_of(referral)
    can_request = access.can(user, "referral.request", referral)
    moving = dict([move_form]) if move_form else {}
    barriers = queries.barriers_of(referral)
    context = {
        "referral": referral,
        "person": person,
        "options": queries.referral_options(referral),
        "steps": queries.assisted_steps(referral),
        "follow_ups": [
            (
                f,
                moving.get(f.pk) or FollowUpDateForm(initial={"due_on": f.due_on}, prefix=f"move-{f.pk}"),
                [Barrier(code).label for code in barriers.get(f.pk, [])],
            )
            for f in follow_ups
        ],
        "plan_form": plan_form or FollowUpDateForm(prefix="plan"),
        "forms": forms,
        "show_milestones": referral.has_milestones
        and referral.status not in (TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR),
        "can_request": can_request,
        "can_plan": can_request and referral.status not in (TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR),
        "introduction": queries.introduction_of(referral),
        "named_barriers": [Barrier(code).label for code in barriers.get(None, [])],
        "matters": Matters.from_json(referral.matters, person).describe() if referral.matters else [],
        "locale": format_locale(person.zone_name),
        "send_form": (send_form or _send_meetings_form(referral)) if can_request else None,
        "unusable_channels": [s for s in channel_states(person).values() if not s.usable],
        "attendance_ask": queries.attendance_ask_of(referral),
    }
    return render(request, "care/referral.html", context, status=400 if refused else 200)


def _send_meetings_form(referral: Referral, data: Any = None) -> SendMeetingsForm | None:
    """The form that sends the chosen meetings, while the referral is open and has some."""
    if referral.status in states.TERMINAL or referral.status == TaskStatus.DRAFT:
        return None
    if not referral.options.filter(chosen=True).exists():
        return None
    states_now = channel_states(referral.person)
    usable = [(s.channel, channel_label(s)) for s in states_now.values() if s.usable]
    return SendMeetingsForm(data, channels=usable, prefix="send")


@staff_page
@require_POST
def send_meetings(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = _send_meetings_form(referral, request.POST)
    if form is None:
        messages.error(request, _("There are no chosen meetings to send, or the referral is closed."))
        return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]))
    if form.is_valid():
        try:
            sent = actions.send_chosen_meetings(
                request.user,
                referral,
                channel=form.cleaned_data["channel"],
                ask_after=form.cleaned_data["ask_after"],
            )
        except InvalidTransition:
            messages.error(request, _("The referral is closed: nothing was sent."))
        else:
            refused = [s for s in sent if s.message is None]
            if refused:
                messages.error(request, _("Not sent: %(reason)s") % {"reason": refused[0].refusal_text})
            else:
                messages.success(
                    request,
                    ngettext("%(count)d meeting sent.", "%(count)d meetings sent.", len(sent))
                    % {"count": len(sent)},
                )
        return HttpResponseRedirect(reverse("care:referral", args=[referral.pk]) + "#options-heading")
    return referral_page(request, referral, send_form=form)


def _apply(user: Any, referral: Referral, which: str, data: dict[str, Any]) -> None:
    if which == "status":
        actions.set_referral_status(user, referral, data["status"], reason=data["reason"])
    elif which == "milestone":
        actions.set_business_status(user, referral, data["business_status"])
    else:
        actions.record_assisted_step(user, referral, kind=data["kind"], on=data["on"], note=data["note"])


def consent_message(person: Person, error: ConsentRequired) -> str:
    return _(
        "%(name)s has no active consent to share this referral with %(organisation)s. "
        "Record their consent first."
    ) % {"name": person.given_name, "organisation": error.recipient_name}


@staff_page
@require_GET
def takeaway(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = _referral(request, referral_id)
    pdf = takeaway_pdf(referral)
    actions.record_print(request.user, referral.person, detail=f"take-away list, referral {referral.pk}")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="options-{referral.pk}.pdf"'
    return response
