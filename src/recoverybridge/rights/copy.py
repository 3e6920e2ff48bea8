"""A person's copy of their record (UK GDPR Article 15, HIPAA 45 CFR 164.524): everything the
service holds about them, minus what the law lets it withhold, as a readable PDF (English or
Spanish, WeasyPrint as care.takeaway) and as a FHIR Bundle (rights.fhir). Both are built from one
`RecordCopy`, so they always hold the same things.

What is withheld, and why (docs/privacy.md, "Access"):
- other people's personal data: the names and contact details of related people (family members
  and concerned others: UK DPA 2018 Schedule 2 paragraph 16; HIPAA 164.524(a)(3)(iii)), only the
  relationship stays; and other people's records in which this person is named as a related
  person (those are theirs);
- contact notes a manager has judged, on a health professional's opinion, would be likely to
  cause serious harm to the person or someone else if seen (UK DPA 2018 Schedule 3 paragraph 5;
  HIPAA 164.524(a)(3)(i)): listed by date with their text withheld, never silently dropped.
A note being "confidential" (shown only to its author and the team's managers) is not on its own
a ground to withhold it: it is included unless withheld as above.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse, QuestionnaireResponseItem

from recoverybridge.care.models import Consent, Contact, Episode, Person, Referral, RelatedPerson
from recoverybridge.outcomes import fhir as outcomes_fhir
from recoverybridge.outcomes import instruments
from recoverybridge.outcomes.models import CheckIn, Response, ResponseStatus
from recoverybridge.rights import queries
from recoverybridge.rights.models import RightsRequest


@dataclass
class NoteRow:
    contact: Contact
    withheld: bool

    @property
    def worker(self) -> str:
        return self.contact.worker.get_full_name() or self.contact.worker.get_username()


@dataclass
class AnswerRow:
    depth: int
    text: str
    answer: str


@dataclass
class ResponseCopy:
    response: Response
    title: str
    answers: list[AnswerRow]
    scores: list[tuple[str, str]]
    # The QuestionnaireResponse and its score Observations, for the Bundle.
    resources: list[Any] = field(repr=False)


@dataclass
class RecordCopy:
    request: RightsRequest
    person: Person
    language: str
    produced_at: datetime.datetime
    related: list[RelatedPerson]
    named_in_others: int
    consents: list[Consent]
    episodes: list[Episode]
    referrals: list[Referral]
    notes: list[NoteRow]
    responses: list[ResponseCopy]
    check_ins: list[CheckIn]
    requests: list[RightsRequest]
    disclosures: list[queries.Disclosure]

    @property
    def withheld_notes(self) -> int:
        return sum(1 for row in self.notes if row.withheld)


def _answer_text(answer: Any) -> str:
    if answer.valueCoding is not None:
        return answer.valueCoding.display or answer.valueCoding.code or ""
    if answer.valueBoolean is not None:
        return _("Yes") if answer.valueBoolean else _("No")
    for value in (answer.valueInteger, answer.valueDecimal):
        if value is not None:
            return f"{value:g}" if isinstance(value, float) else str(value)
    return ""


def _answer_rows(items: list[QuestionnaireResponseItem] | None, depth: int = 0) -> list[AnswerRow]:
    rows: list[AnswerRow] = []
    for item in items or []:
        answers = ", ".join(_answer_text(a) for a in item.answer or [])
        rows.append(AnswerRow(depth, item.text or item.linkId or "", answers))
        rows.extend(_answer_rows(item.item, depth + 1))
    return rows


def _response_copy(response: Response, language: str) -> ResponseCopy:
    try:
        instrument = instruments.get(response.instrument, response.instrument_version)
    except KeyError:  # a file no longer shipped: the stored names are all there is
        return ResponseCopy(response, response.instrument, [], [], [])
    answered: QuestionnaireResponse = outcomes_fhir.questionnaire_response(response, language)
    observations: list[Observation] = outcomes_fhir.score_observations(response, language)
    scores = [
        (obs.code.text or "", f"{obs.valueQuantity.value:g}")
        for obs in observations
        if obs.valueQuantity is not None and obs.valueQuantity.value is not None
    ]
    return ResponseCopy(
        response, instrument.title(language), _answer_rows(answered.item), scores, [answered, *observations]
    )


def record_copy(request: RightsRequest, *, now: datetime.datetime | None = None) -> RecordCopy:
    """Everything in the person's record, as of `now`, for their access request, with labels in
    the request's language."""
    person = request.person
    if person is None:
        raise ValueError("the record was erased: there is nothing to copy")
    withheld = set(request.withheld_contacts)
    referrals = list(
        Referral.objects.filter(person=person)
        .select_related(
            "team__organisation",
            "person",
            "meeting__fellowship",
            "meeting__location",
            "fellowship",
            "target_organisation",
            "referred_by",
        )
        .prefetch_related("options__meeting__fellowship", "assisted_steps", "follow_ups")
        .order_by("authored_on", "pk")
    )
    responses = Response.objects.filter(person=person, status=ResponseStatus.COMPLETED)
    with translation.override(request.language):
        return RecordCopy(
            request=request,
            person=person,
            language=request.language,
            produced_at=now or timezone.now(),
            related=list(person.related_people.order_by("pk")),
            named_in_others=RelatedPerson.objects.filter(as_person=person).count(),
            consents=list(person.consents.select_related("recipient").order_by("given_at", "pk")),
            episodes=list(person.episodes.order_by("started_on", "pk")),
            referrals=referrals,
            notes=[
                NoteRow(contact, contact.pk in withheld)
                for contact in person.contacts.select_related("worker", "episode").order_by("at", "pk")
            ],
            responses=[
                _response_copy(response, request.language)
                for response in responses.select_related("person").order_by("completed_at", "pk")
            ],
            check_ins=list(person.check_ins.prefetch_related("meetings").order_by("at", "pk")),
            requests=queries.requests_of(person),
            disclosures=queries.disclosures(person.pk),
        )


def render_pdf(template: str, context: dict[str, Any], language: str) -> bytes:
    """A template rendered to PDF in `language` (WeasyPrint, with the fonts the system has)."""
    with translation.override(language):
        html = render_to_string(template, {"language": language, **context})
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def copy_pdf(copy: RecordCopy) -> bytes:
    return render_pdf("rights/record.html", {"copy": copy, "person": copy.person}, copy.language)
