"""The CapabilityStatement (GET metadata): exactly what this FHIR endpoint does, no more.

`RESOURCES` is the one list of resources, interactions and search parameters; the statement is
built from it, docs/fhir.md lists the same (a test compares them), and tests/fhir exercises each
interaction it names and is refused one it does not.
"""

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from recoverybridge.care.fhir_http import FHIR_JSON, JSON_PATCH, MERGE_PATCH, PLAIN_JSON
from recoverybridge.care.fhir_search import SEARCH_PARAMETERS

# type -> (interactions, versioning, documentation)
RESOURCES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "Task": (
        ("read", "search-type", "update", "patch"),
        "versioned-update",
        "A referral's Task, for the organisation it is sent to (owner). The receiving organisation "
        "may change status, businessStatus and statusReason (update with If-Match, required; patch "
        "with If-Match, honoured).",
    ),
    "ServiceRequest": (
        ("read",),
        "versioned",
        "What a referral asks for; the focus and basedOn of its Task.",
    ),
    "Patient": (
        ("read",),
        "versioned",
        "The person, by pseudonymous identifier only, while an active consent covers the referral; "
        "otherwise references to the person carry the identifier alone.",
    ),
    "Consent": (
        ("read",),
        "versioned",
        "The person's active consent to disclose the referral to the receiving organisation.",
    ),
    "Organization": (
        ("read",),
        "versioned",
        "The calling organisation, and the organisations whose referrals it receives.",
    ),
}
SOFTWARE = "RecoveryBridge"
# The day this statement last changed in substance.
DATE = "2026-12-03"


def statement(base: str) -> CapabilityStatement:
    resources: list[dict[str, Any]] = []
    for kind, (interactions, versioning, documentation) in RESOURCES.items():
        resource: dict[str, Any] = {
            "type": kind,
            "documentation": documentation,
            "interaction": [{"code": code} for code in interactions],
            "versioning": versioning,
            "readHistory": False,
            "updateCreate": False,
            "conditionalCreate": False,
            "conditionalRead": "full-support",
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "referencePolicy": ["literal", "logical"],
        }
        if "search-type" in interactions:
            resource["searchParam"] = [
                {"name": name, "definition": definition, "type": kind_of, "documentation": text}
                for name, (kind_of, definition, text) in SEARCH_PARAMETERS.items()
            ]
        resources.append(resource)
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": DATE,
            "publisher": SOFTWARE,
            "kind": "instance",
            "software": {"name": SOFTWARE},
            "implementation": {
                "description": "RecoveryBridge referral exchange for receiving organisations",
                "url": base,
            },
            "fhirVersion": "4.0.1",
            "format": ["json", FHIR_JSON, PLAIN_JSON],
            "patchFormat": [JSON_PATCH, MERGE_PATCH, FHIR_JSON, PLAIN_JSON],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Search is strict: an unsupported parameter is a 400 OperationOutcome unless "
                        "the request says Prefer: handling=lenient. Results take _count (0 for the "
                        "total alone), _offset, _summary=count and _total."
                    ),
                    "security": {
                        "cors": False,
                        "description": (
                            "Each receiving organisation calls with its own API token (Authorization: "
                            "Bearer rb_...), issued by RecoveryBridge; it sees only referrals sent to "
                            "it, and only while the person's consent covers them (or its own teams "
                            "made them). Every read, change and refusal is audited."
                        ),
                    },
                    "resource": resources,
                }
            ],
        }
    )
