"""The story for the FHIR tests.

Alice is a peer worker on the Harbour Detox "Navigators" team. Her person, P-7Q2K
(Sam Rivers), is referred to Lighthouse Recovery, a peer organisation, for an AA
meeting it runs, with Sam's consent to share the referral with Lighthouse. Beacon
Housing is another organisation: it has its own token and must see nothing of Sam.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from recoverybridge.accounts.actions import issue_api_token
from recoverybridge.accounts.models import Membership, Role
from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    Person,
    Referral,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from tests.factories import make_meeting


@pytest.fixture
def harbour(db):
    return Organisation.objects.create(name="Harbour Detox", kind=OrganisationKind.TREATMENT)


@pytest.fixture
def lighthouse(db):
    return Organisation.objects.create(name="Lighthouse Recovery", kind=OrganisationKind.PEER_RECOVERY)


@pytest.fixture
def beacon(db):
    return Organisation.objects.create(name="Beacon Housing", kind=OrganisationKind.HOUSING)


@pytest.fixture
def navigators(harbour):
    return Team.objects.create(organisation=harbour, name="Navigators")


@pytest.fixture
def alice(navigators):
    user = get_user_model().objects.create_user("alice", password="correct horse battery staple")
    Membership.objects.create(user=user, team=navigators, role=Role.PEER_WORKER)
    return user


@pytest.fixture
def sam(navigators, alice):
    return Person.objects.create(
        team=navigators,
        reference="P-7Q2K",
        given_name="Sam",
        family_name="Rivers",
        email="sam@example.org",
        navigator=alice,
    )


@pytest.fixture
def sams_consent(sam, lighthouse, alice):
    return Consent.objects.create(
        person=sam,
        purpose=ConsentPurpose.REFERRAL,
        recipient=lighthouse,
        scope="The referral and my first name",
        given_at=timezone.now() - timedelta(days=1),
        expires_at=timezone.now() + timedelta(days=90),
        recorded_by=alice,
    )


@pytest.fixture
def meeting(db):
    return make_meeting(name="Harbour Lights Group")


@pytest.fixture
def referral(sam, navigators, alice, lighthouse, sams_consent, meeting):
    return Referral.objects.create(
        person=sam,
        team=navigators,
        referred_by=alice,
        target_kind=ReferralTargetKind.MEETING,
        meeting=meeting,
        fellowship=meeting.fellowship,
        target_organisation=lighthouse,
        consent=sams_consent,
        reason="Wants a meeting near home after detox",
        status=TaskStatus.REQUESTED,
        authored_on=timezone.now() - timedelta(hours=2),
    )


@pytest.fixture
def lighthouse_token(lighthouse):
    return issue_api_token(lighthouse)


@pytest.fixture
def beacon_token(beacon):
    return issue_api_token(beacon)


@pytest.fixture
def harbour_token(harbour):
    return issue_api_token(harbour)
