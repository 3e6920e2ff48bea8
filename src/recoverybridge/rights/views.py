"""Staff pages of people's rights: a person's requests and legal hold, one request (answered on its
page), the correction form, the copies of the record, and the accounting of disclosures (a page
and a PDF). Thin: reads from rights.queries, changes through rights.actions; a person or request
outside the user's scope is a 404."""

import datetime
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recoverybridge.accounts import access
from recoverybridge.accounts.shortcuts import staff_page
from recoverybridge.care import actions as care
from recoverybridge.care import queries as care_queries
from recoverybridge.care.models import Person
from recoverybridge.care.takeaway import language_for
from recoverybridge.rights import actions, queries
from recoverybridge.rights.copy import render_pdf
from recoverybridge.rights.errors import (
    ExtendedAlready,
    HeldAlready,
    NothingCorrected,
    NothingDelivered,
    RecordGone,
    RequestClosed,
    TooLateToExtend,
    UnderLegalHold,
)
from recoverybridge.rights.forms import (
    CorrectionAnswerForm,
    CorrectionDetailsForm,
    DeliveredForm,
    ErasureForm,
    HoldForm,
    PeriodForm,
    ReasonForm,
    RequestForm,
    WithholdForm,
)
from recoverybridge.rights.models import ReplyChannel, RequestKind, RightsRequest

FHIR_JSON = "application/fhir+json"
T = TypeVar("T")


def _found(record: T | None) -> T:
    """The record, or a 404: outside the user's scope looks the same as missing."""
    if record is None:
        raise Http404
    return record


def _person(request: HttpRequest, person_id: int) -> Person:
    return _found(care_queries.person_in_scope(request.user, person_id))


def _request(request: HttpRequest, request_id: int) -> RightsRequest:
    return _found(queries.request_in_scope(request.user, request_id))


def _request_url(found: RightsRequest) -> str:
    return reverse("rights:request", args=[found.pk])


def _refusal(error: Exception) -> str:
    """What to tell a user whose change could not be made (the page keeps what they typed)."""
    said = {
        RequestClosed: _("This request has been answered already: nothing was changed."),
        NothingDelivered: _("Make the copy of the record first: the request is answered by giving it."),
        UnderLegalHold: _("A legal hold keeps this record: it cannot be erased until the hold is lifted."),
        RecordGone: _("This person's record has been erased."),
        actions.OtherRequestsOpen: _(
            "Answer this person's other open requests first: erasing the record would lose them."
        ),
        ExtendedAlready: _("More time has been taken once already: it can be taken only once."),
        TooLateToExtend: _("The answer was due already: more time must be taken before it is due."),
        HeldAlready: _("This record is under a legal hold already."),
        NothingCorrected: _("Nothing was changed: say what you corrected, or refuse with a reason."),
    }
    return next(
        (text for kind, text in said.items() if isinstance(error, kind)), _("That is not possible now.")
    )


# ---------------------------------------------------------------- a person's requests


@staff_page
@require_GET
def person_rights(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    care.record_view(request.user, person, detail="requests about their record")
    context = {
        "person": person,
        "requests": queries.requests_of(person),
        "holds": queries.holds_of(person),
        "held": queries.active_hold(person),
        "is_manager": access.can(request.user, "person.audit", person),
        "hold_form": HoldForm(),
    }
    return render(request, "rights/person.html", context)


@staff_page
@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    initial = {
        "received_on": timezone.localdate(),
        "kind": request.GET.get("kind", RequestKind.ACCESS),
        "reply_by": ReplyChannel.IN_PERSON,
        "language": language_for(person.preferred_language),
    }
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        created = actions.record_request(request.user, person, **form.cleaned_data)
        messages.success(
            request,
            _("Request recorded. It is due on %(date)s and is in your team's work queue.")
            % {"date": formats.date_format(created.due_on, "DATE_FORMAT")},
        )
        return HttpResponseRedirect(_request_url(created))
    care.record_view(request.user, person, detail="new rights request")
    context = {"form": form, "person": person}
    return render(request, "rights/request_form.html", context, status=400 if form.errors else 200)


@staff_page
@require_POST
def place_hold(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            actions.place_hold(request.user, person, reason=form.cleaned_data["reason"])
        except ValueError as error:
            messages.error(request, _refusal(error))
        else:
            messages.success(
                request, _("Legal hold placed: the record will be neither anonymised nor erased.")
            )
    else:
        messages.error(request, _("Say why the record must be kept: the hold was not placed."))
    return HttpResponseRedirect(reverse("rights:person", args=[person.pk]))


@staff_page
@require_POST
def lift_hold(request: HttpRequest, person_id: int, hold_id: int) -> HttpResponse:
    person = _person(request, person_id)
    hold = _found(queries.hold_of(person, hold_id))
    actions.lift_hold(request.user, hold)
    messages.success(request, _("Legal hold lifted."))
    return HttpResponseRedirect(reverse("rights:person", args=[person.pk]))


# ---------------------------------------------------------------- one request


def _forms(found: RightsRequest, data: Any, which: str) -> dict[str, Any]:
    def bound(name: str) -> Any:
        return data if name == which else None

    forms: dict[str, Any] = {
        "extend": ReasonForm(bound("extend"), prefix="extend"),
        "refuse": ReasonForm(bound("refuse"), prefix="refuse"),
    }
    if found.kind == RequestKind.ACCESS and found.person is not None:
        notes = queries.notes_of(found.person)
        initial = {
            "contacts": [str(pk) for pk in found.withheld_contacts],
            "reason": found.withholding_reason,
        }
        forms["withhold"] = WithholdForm(bound("withhold"), notes=notes, initial=initial, prefix="withhold")
        forms["delivered"] = DeliveredForm(bound("delivered"), prefix="delivered")
    if found.kind == RequestKind.ERASURE:
        forms["erase"] = ErasureForm(bound("erase"), prefix="erase")
    return forms


def _apply(user: Any, found: RightsRequest, which: str, form: Any) -> str:
    data = form.cleaned_data
    if which == "extend":
        done = actions.extend_request(user, found, reason=data["reason"])
        return _("More time taken: the answer is now due on %(date)s.") % {
            "date": formats.date_format(done.due_on, "DATE_FORMAT")
        }
    if which == "refuse":
        actions.refuse_request(user, found, reason=data["reason"])
        return _("Request refused, with your reason.")
    if which == "withhold":
        actions.withhold_notes(user, found, contact_ids=form.contact_ids(), reason=data["reason"])
        return _("Saved: the copy withholds the notes you chose, and says so.")
    if which == "delivered":
        actions.complete_access(user, found, answer=data["answer"])
        return _("Request answered: the copy was given.")
    actions.accept_erasure(user, found, ground=data["ground"])
    return _("The record has been erased. The request is kept, without their words.")


@staff_page
@require_http_methods(["GET", "POST"])
def request_page(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _request(request, request_id)
    user = request.user
    which = request.POST.get("form", "") if request.method == "POST" else ""
    forms = _forms(found, request.POST, which)
    if request.method == "POST":
        if which not in forms:
            raise Http404
        form = forms[which]
        if form.is_valid():
            try:
                done = _apply(user, found, which, form)
            except (RequestClosed, RecordGone) as error:
                # Someone answered it meanwhile: show it as it is now, saying so.
                messages.error(request, _refusal(error))
                return HttpResponseRedirect(_request_url(found))
            except ValueError as error:
                form.add_error(None, _refusal(error))
            else:
                messages.success(request, done)
                # An erased person has no page left to go back to: the queue is where the work is.
                target = reverse("workspace:queue") if which == "erase" else _request_url(found)
                return HttpResponseRedirect(target)
    if found.person is not None:
        care.record_view(user, found.person, detail=f"request {found.pk}")
    context = {
        "found": found,
        "person": found.person,
        "forms": forms,
        "may_answer": access.can(user, "rightsrequest.manage", found),
        "copies": queries.copies_disclosed(found),
        "today": timezone.localdate(),
    }
    return render(request, "rights/request.html", context, status=400 if which else 200)


@staff_page
@require_POST
def copy_download(request: HttpRequest, request_id: int, form: str) -> HttpResponse:
    found = _request(request, request_id)
    if form not in actions.COPY_FORMATS:
        raise Http404
    try:
        content = actions.disclose_copy(request.user, found, form=form)
    except (RequestClosed, RecordGone) as error:
        messages.error(request, _refusal(error))
        return HttpResponseRedirect(_request_url(found))
    reference = found.person.reference if found.person else found.pk
    if form == "pdf":
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="record-{reference}.pdf"'
    else:
        response = HttpResponse(content, content_type=FHIR_JSON)
        response["Content-Disposition"] = f'attachment; filename="record-{reference}.fhir.json"'
    return response


@staff_page
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, request_id: int) -> HttpResponse:
    """Accept a correction: the person's details as on record, to change, and what was done."""
    found = _request(request, request_id)
    person = found.person
    if person is None or found.kind != RequestKind.CORRECTION or not found.is_open:
        raise Http404
    data = request.POST if request.method == "POST" else None
    details = CorrectionDetailsForm(
        data, person=person, teams=access.teams_for(request.user), prefix="person"
    )
    answer = CorrectionAnswerForm(data, prefix="answer")
    if data is not None and details.is_valid() and answer.is_valid():
        try:
            actions.accept_correction(
                request.user, found, fields=details.action_kwargs(), answer=answer.cleaned_data["answer"]
            )
        except (ValueError, RequestClosed) as error:
            answer.add_error(None, _refusal(error))
        else:
            messages.success(
                request, _("Correction made. The request and its answer are kept with the record.")
            )
            return HttpResponseRedirect(reverse("rights:person", args=[person.pk]))
    if data is None:
        care.record_view(request.user, person, detail=f"correction request {found.pk}")
    context = {"found": found, "person": person, "details": details, "answer": answer}
    return render(request, "rights/correct.html", context, status=400 if data is not None else 200)


# ---------------------------------------------------------------- accounting of disclosures


def _period(form: PeriodForm) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The form's dates as instants: from the start of `since` to the end of `until`, local time."""
    since, until = form.cleaned_data.get("since"), form.cleaned_data.get("until")

    def start(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    return (
        start(since) if since else None,
        start(until + datetime.timedelta(days=1)) if until else None,
    )


@staff_page
@require_GET
def disclosures(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = PeriodForm(request.GET or None, initial={"language": language_for(person.preferred_language)})
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = _period(form)
    rows = (
        queries.person_disclosures(request.user, person, since=since, until=until) if not form.errors else []
    )
    care.record_view(request.user, person, detail="accounting of disclosures")
    context = {"person": person, "form": form, "rows": rows, "query": request.GET.urlencode()}
    return render(request, "rights/disclosures.html", context, status=400 if form.errors else 200)


@staff_page
@require_GET
def disclosures_pdf(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return HttpResponseRedirect(
            reverse("rights:disclosures", args=[person.pk]) + "?" + request.GET.urlencode()
        )
    since, until = _period(form)
    language = form.cleaned_data.get("language") or language_for(person.preferred_language)
    with translation.override(language):
        rows = queries.person_disclosures(request.user, person, since=since, until=until)
    context = {
        "person": person,
        "rows": rows,
        "since": form.cleaned_data.get("since"),
        "until": form.cleaned_data.get("until"),
        "printed_on": timezone.localdate(),
    }
    pdf = render_pdf("rights/disclosures_pdf.html", context, language)
    care.record_print(request.user, person, detail="accounting of disclosures (PDF)")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="disclosures-{person.reference}.pdf"'
    return response
