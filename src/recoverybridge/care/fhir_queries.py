"""What a receiving organisation may read through the FHIR API, each in a fixed number of queries.

The rule is the referral's own (`ReferralQuerySet.received_by`): referrals sent to the
organisation, not drafts, that an active referral consent naming it covers, or that its own
teams made (internal). Around them the organisation may resolve what their references name:
the ServiceRequest, the Organizations that sent and received them, and, only where an active
consent covers the referral, the Patient (a pseudonymous identifier) and that Consent.
"""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from recoverybridge.care.fhir_http import FHIR_ID
from recoverybridge.care.models import Consent, Person, Referral
from recoverybridge.organisations.models import Organisation


def _covering(now: datetime.datetime | None) -> QuerySet[Consent]:
    return Consent.objects.to_refer(now).filter(
        person_id=OuterRef("person_id"), recipient_id=OuterRef("target_organisation_id")
    )


def received(organisation: Organisation, now: datetime.datetime | None = None) -> QuerySet[Referral]:
    """The referrals the organisation may see now, each with `consent_covers`: whether an active
    consent (not only its being internal) lets it see them."""
    return (
        Referral.objects.received_by([organisation.pk], now)
        .annotate(consent_covers=Exists(_covering(now)))
        .select_related("person", "team__organisation", "target_organisation")
    )


def covered(referral: Referral) -> bool:
    """Whether an active consent (not only its being internal) lets the organisation see it;
    annotated by `received`."""
    return bool(getattr(referral, "consent_covers", False))


def referral_id(value: str) -> int | None:
    """A Task or ServiceRequest id as our primary key, or None when it cannot be one."""
    # isascii: "³" and "٣" are digits to str.isdigit but not to int().
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def received_referral(
    organisation: Organisation, value: str, now: datetime.datetime | None = None
) -> Referral | None:
    pk = referral_id(value)
    if pk is None:
        return None
    return (
        received(organisation, now)
        .select_related("meeting__fellowship", "meeting__location", "fellowship")
        .filter(pk=pk)
        .first()
    )


def covering_consent(referral: Referral, now: datetime.datetime | None = None) -> Consent | None:
    """The newest active consent that lets the referral go to its receiving organisation."""
    if referral.target_organisation is None:
        return None
    return Consent.objects.select_related("person__team__organisation", "recipient").covering(
        referral.person, referral.target_organisation, now
    )


def covered_referrals(organisation: Organisation, now: datetime.datetime | None = None) -> QuerySet[Referral]:
    """Referrals the organisation sees under a consent (internal ones need none, so give none)."""
    return Referral.objects.received_by([organisation.pk], now).filter(Exists(_covering(now)))


def patient(
    organisation: Organisation, reference: str, now: datetime.datetime | None = None
) -> Person | None:
    if not FHIR_ID.fullmatch(reference):
        return None
    return (
        Person.objects.filter(reference=reference, referrals__in=covered_referrals(organisation, now))
        .distinct()
        .first()
    )


def consent(organisation: Organisation, value: str, now: datetime.datetime | None = None) -> Consent | None:
    """An active referral consent naming the organisation, for a person whose referral it sees."""
    pk = referral_id(value)
    if pk is None:
        return None
    people = covered_referrals(organisation, now).values("person_id")
    return (
        Consent.objects.to_refer(now)
        .select_related("person__team__organisation", "recipient")
        .filter(pk=pk, recipient=organisation, person_id__in=people)
        .first()
    )


def organisation(
    organisation: Organisation, value: str, now: datetime.datetime | None = None
) -> Organisation | None:
    """The organisation itself, or one whose referral it received (the requester)."""
    pk = referral_id(value)
    if pk is None:
        return None
    senders = Referral.objects.received_by([organisation.pk], now).values("team__organisation_id")
    return Organisation.objects.filter(Q(pk=organisation.pk) | Q(pk__in=senders)).filter(pk=pk).first()
