"""The person's copy of their record as a FHIR R4 collection Bundle (built with fhir.resources' R4B
models, so it is validated before it leaves): Patient, RelatedPerson (relationship only), Consent,
EpisodeOfCare, ServiceRequest and Task (care.fhir), Encounter (contacts, the note as narrative),
QuestionnaireResponse and Observation (outcomes.fhir) and Observation (check-ins).

Unlike a referral's Bundle, this one is for the person themselves, so it carries their name and
contact details. What `rights.copy` withholds stays out: related people's names and contacts; a
withheld note's text (its Encounter is labelled REDACTED).
"""

from datetime import UTC, datetime
from html import escape
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from recoverybridge.care import fhir as care_fhir
from recoverybridge.care.fhir import ACT_CODE_SYSTEM, PERSON_SYSTEM, SYSTEM_BASE
from recoverybridge.care.models import ContactKind, Episode, EpisodeEnd, EpisodeKind, Person
from recoverybridge.outcomes.fhir import OBSERVATION_CATEGORY
from recoverybridge.outcomes.models import CheckIn
from recoverybridge.rights.copy import NoteRow, RecordCopy

EXTENSION = f"{SYSTEM_BASE}/StructureDefinition"
EPISODE_KIND_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/episode-kind"
CONTACT_KIND_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/contact-kind"
CHECK_IN_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/check-in"
REDACTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}
# Contacts away from the person (phone, video, message) are virtual encounters; the rest ambulatory.
VIRTUAL = {ContactKind.PHONE, ContactKind.VIDEO, ContactKind.MESSAGE}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _narrative(text: str) -> dict[str, str]:
    return {"status": "additional", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>'}


def patient(person: Person) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": person.reference,
        "identifier": [{"system": PERSON_SYSTEM, "value": person.reference}],
        "managingOrganization": care_fhir.organisation_reference(person.team.organisation),
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": person.preferred_language}]}}
        ],
        "extension": [
            {"url": f"{EXTENSION}/on-moud", "valueBoolean": person.on_moud},
            {"url": f"{EXTENSION}/spiritual-preference", "valueCode": person.spiritual_preference},
            {"url": f"{EXTENSION}/attendance-preference", "valueCode": person.attendance_preference},
            {"url": f"{EXTENSION}/group-gender-preference", "valueCode": person.group_gender_preference},
        ],
    }
    name = {
        key: value
        for key, value in (
            ("given", [person.given_name] if person.given_name else None),
            ("family", person.family_name),
        )
        if value
    }
    if name:
        data["name"] = [name]
    if person.date_of_birth:
        data["birthDate"] = person.date_of_birth.isoformat()
    telecom = [
        {"system": kind, "value": value}
        for kind, value in (("email", person.email), ("phone", person.phone))
        if value
    ]
    if telecom:
        data["telecom"] = telecom
    if person.postcode:
        data["address"] = [{"text": person.postcode}]
    return data


def episode_of_care(episode: Episode, person: Person) -> dict[str, Any]:
    kind = EpisodeKind(episode.kind)
    period = {"start": episode.started_on.isoformat()}
    if episode.ended_on:
        period["end"] = episode.ended_on.isoformat()
    data: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": f"episode-{episode.pk}",
        "status": "finished" if episode.ended_on else "active",
        "type": [
            {"coding": [{"system": EPISODE_KIND_SYSTEM, "code": kind.value, "display": str(kind.label)}]}
        ],
        "patient": care_fhir.person_reference(person),
        "managingOrganization": care_fhir.organisation_reference(person.team.organisation),
        "period": period,
    }
    if episode.end_reason:
        data["extension"] = [
            {
                "url": f"{EXTENSION}/episode-end-reason",
                "valueString": str(EpisodeEnd(episode.end_reason).label),
            }
        ]
    return data


def encounter(row: NoteRow, person: Person) -> dict[str, Any]:
    contact = row.contact
    kind = ContactKind(contact.kind)
    data: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": f"contact-{contact.pk}",
        "status": "finished",
        "class": {"system": ACT_CODE_SYSTEM, "code": "VR" if kind in VIRTUAL else "AMB"},
        "type": [
            {"coding": [{"system": CONTACT_KIND_SYSTEM, "code": kind.value, "display": str(kind.label)}]}
        ],
        "subject": care_fhir.person_reference(person),
        "period": {"start": _instant(contact.at)},
        "participant": [{"individual": {"display": row.worker}}],
    }
    if contact.duration_minutes:
        data["length"] = {
            "value": contact.duration_minutes,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        }
    if contact.episode_id:
        data["episodeOfCare"] = [{"reference": f"EpisodeOfCare/episode-{contact.episode_id}"}]
    if row.withheld:
        data["meta"] = {"security": [REDACTED]}
    elif contact.note:
        data["text"] = _narrative(contact.note)
    return data


def check_in_observations(check_in: CheckIn, person: Person) -> list[dict[str, Any]]:
    values = (
        ("meetings-this-week", check_in.meetings_count),
        ("mood", check_in.mood),
        ("cravings", check_in.cravings),
    )
    return [
        {
            "resourceType": "Observation",
            "id": f"check-in-{check_in.pk}-{code}",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": {"coding": [{"system": CHECK_IN_SYSTEM, "code": code}], "text": code},
            "subject": care_fhir.person_reference(person),
            "effectiveDateTime": _instant(check_in.at),
            "valueInteger": value,
        }
        for code, value in values
        if value is not None
    ]


def record_bundle(copy: RecordCopy) -> Bundle:
    """The whole copy as one collection Bundle, validated."""
    person = copy.person
    resources: list[Any] = [patient(person)]
    resources += [
        {
            "resourceType": "RelatedPerson",
            "id": f"related-{related.pk}",
            "patient": care_fhir.person_reference(person),
            "relationship": [{"text": related.relationship}],
        }
        for related in copy.related
    ]
    resources += [care_fhir.consent(consent) for consent in copy.consents]
    resources += [episode_of_care(episode, person) for episode in copy.episodes]
    for referral in copy.referrals:
        resources += [care_fhir.service_request(referral), care_fhir.task(referral)]
    resources += [encounter(row, person) for row in copy.notes]
    for response in copy.responses:
        resources += response.resources
    for check_in in copy.check_ins:
        resources += check_in_observations(check_in, person)
    entries = []
    for resource in resources:
        kind, key = (
            (resource["resourceType"], resource["id"])
            if isinstance(resource, dict)
            else (resource.get_resource_type(), resource.id)
        )
        entries.append({"fullUrl": f"{SYSTEM_BASE}/{kind}/{key}", "resource": resource})
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "identifier": {"system": f"{SYSTEM_BASE}/sid/record-copy", "value": f"request-{copy.request.pk}"},
            "timestamp": _instant(copy.produced_at),
            "entry": entries,
        }
    )
