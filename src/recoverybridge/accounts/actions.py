"""Changes to accounts: an organisation's API token for the FHIR Task API.

A token is shown once when issued; only its SHA-256 is stored (Organisation.api_token_hash).
A token is 256 random bits, so a plain hash (no salt, no slow KDF) is enough and lets a request
find its organisation with one indexed lookup (`access.organisation_for_token`).
"""

import secrets

from django.db import transaction

from recoverybridge.accounts.access import API_TOKEN_PREFIX, hash_token
from recoverybridge.audit.actions import record
from recoverybridge.audit.models import AuditAction
from recoverybridge.organisations.models import Organisation


def issue_api_token(organisation: Organisation) -> str:
    """A new token for the organisation, replacing any earlier one (which stops working at once)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        replaced = bool(organisation.api_token_hash)
        organisation.api_token_hash = hash_token(token)
        organisation.save(update_fields=["api_token_hash"])
        record(
            None,
            AuditAction.UPDATE,
            organisation,
            detail="API token replaced" if replaced else "API token issued",
        )
    return token


def revoke_api_token(organisation: Organisation) -> None:
    with transaction.atomic():
        organisation.api_token_hash = ""
        organisation.save(update_fields=["api_token_hash"])
        record(None, AuditAction.UPDATE, organisation, detail="API token revoked")
