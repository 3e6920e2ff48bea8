"""A response as FHIR R4: a QuestionnaireResponse plus one Observation per score, in a
collection Bundle, built with `fhir.resources.R4B` (validated before it leaves).

The person appears only by pseudonymous identifier (Person.reference), as in `care.fhir`.
`questionnaire` is the canonical URL with the version the response was answered in
(`url|version`), so a receiver can score it against the same file.
"""

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from recoverybridge.care.fhir import PERSON_SYSTEM, SYSTEM_BASE
from recoverybridge.outcomes import instruments
from recoverybridge.outcomes.instruments import Instrument, Item
from recoverybridge.outcomes.models import Response

RESPONSE_SYSTEM = f"{SYSTEM_BASE}/sid/outcome-response"
SCORE_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/outcome-score"
FLAG_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/outcome-flag"
TIME_POINT_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/outcome-time-point"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _answer(item: Item, value: Any, language: str) -> dict[str, Any]:
    if item.type == "choice":
        option = item.option(value)
        coding = {"system": f"{SYSTEM_BASE}/CodeSystem/answer", "code": value}
        if option is not None:
            coding["display"] = option.label(language)
        return {"valueCoding": coding}
    if item.type == "boolean":
        return {"valueBoolean": value}
    if item.type == "decimal":
        return {"valueDecimal": value}
    return {"valueInteger": value}


def _items(instrument: Instrument, answers: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """Answered items in the Questionnaire's order and nesting (groups kept), texts in `language`."""

    def walk(items: tuple[Item, ...], source: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if item.type == "group" and item.repeats:
                for row in source.get(item.link_id, []):
                    children = walk(item.children, row)
                    if children:
                        out.append({"linkId": item.link_id, "text": item.label(language), "item": children})
            elif item.type == "group":
                children = walk(item.children, source)
                if children:
                    out.append({"linkId": item.link_id, "text": item.label(language), "item": children})
            elif item.link_id in source:
                out.append(
                    {
                        "linkId": item.link_id,
                        "text": item.label(language),
                        "answer": [_answer(item, source[item.link_id], language)],
                    }
                )
        return out

    return walk(instrument.items, answers)


def questionnaire_response(response: Response, language: str = "en") -> QuestionnaireResponse:
    """The response, with question and answer texts in `language` (the codes are the same)."""
    instrument = instruments.get(response.instrument, response.instrument_version)
    subject = {"type": "Patient", "identifier": {"system": PERSON_SYSTEM, "value": response.person.reference}}
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"response-{response.pk}",
        "identifier": {"system": RESPONSE_SYSTEM, "value": str(response.pk)},
        "questionnaire": f"{instrument.url}|{instrument.version}",
        "status": response.status,
        "subject": subject,
        "authored": _instant(response.completed_at or response.started_at),
        "item": _items(instrument, response.answers, language),
    }
    if language != "en":
        data["language"] = language
    if response.collected_by_id is None:
        data["source"] = subject  # self-completed
    return QuestionnaireResponse.model_validate(data)


def score_observations(response: Response, language: str = "en") -> list[Observation]:
    """One Observation per score that has a value, derived from the QuestionnaireResponse (the
    score's name in `language`)."""
    instrument = instruments.get(response.instrument, response.instrument_version)
    flags = set(response.scores.get("flags", []))
    observations = []
    for rule in instrument.rules:
        value = response.scores.get(rule.name)
        if value is None or response.completed_at is None:
            continue
        data: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"response-{response.pk}-{rule.name}",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": {
                "coding": [
                    {
                        "system": SCORE_SYSTEM,
                        "code": f"{instrument.id}/{rule.name}",
                        "display": rule.label(language),
                    }
                ],
                "text": rule.label(language),
            },
            "subject": {
                "type": "Patient",
                "identifier": {"system": PERSON_SYSTEM, "value": response.person.reference},
            },
            "effectiveDateTime": _instant(response.completed_at),
            "valueQuantity": {"value": value},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/response-{response.pk}"}],
        }
        if rule.flag and rule.flag in flags:
            data["interpretation"] = [{"coding": [{"system": FLAG_SYSTEM, "code": rule.flag}]}]
        if rule.name in response.scores.get("prorated", []):
            data["note"] = [{"text": "Prorated: at most the declared number of items were unanswered."}]
        observations.append(Observation.model_validate(data))
    return observations


def response_bundle(response: Response) -> Bundle:
    """The QuestionnaireResponse and its score Observations as a collection Bundle."""
    resources = [questionnaire_response(response), *score_observations(response)]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": _instant(response.completed_at or response.started_at),
            "entry": [
                {"fullUrl": f"{SYSTEM_BASE}/{r.get_resource_type()}/{r.id}", "resource": r.model_dump()}
                for r in resources
            ],
        }
    )
