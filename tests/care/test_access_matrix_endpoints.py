"""The permission matrix over the API endpoints and exports: every role, signed in, against
referrals of a person on their own team, another team of their organisation and another
organisation; and every organisation's API token against every referral. Anything not in
the allowed table must be refused, and a refusal must show nothing of the referral."""

import pytest

from recoverybridge.accounts.actions import issue_api_token
from recoverybridge.care import actions
from recoverybridge.care.models import ConsentPurpose, ReferralTargetKind
from tests.care.test_access_matrix import SEES

BASE = "/api/v1/fhir"


@pytest.fixture
def referrals(world):
    """Each person referred to another organisation, with consent:
    Pat (Detox) and Quinn (Community) to Bridge; Rowan (Bridge) to Harbour."""
    made = {}
    for name, worker, recipient in (
        ("pat", world.bob, world.bridge),
        ("quinn", world.dave, world.bridge),
        ("rowan", world.nina, world.harbour),
    ):
        person = world.person(name)
        actions.give_consent(worker, person, purpose=ConsentPurpose.REFERRAL, recipient=recipient)
        made[name] = actions.create_referral(
            worker,
            person,
            target_kind=ReferralTargetKind.OTHER_SERVICE,
            target_organisation=recipient,
        )
    return made


# Who, signed in, may export which person's referral: their own teams' people (SEES), and
# referrals received by their organisation (Harbour's care staff receive Rowan's; Bridge's Nina
# receives Pat's and Quinn's).
RECEIVES = {
    "alice": {"rowan"},
    "bob": {"rowan"},
    "carol": {"rowan"},
    "dave": {"rowan"},
    "sam": {"rowan"},
    "nina": {"pat", "quinn"},
}
STAFF_CELLS = [(u, p) for u in SEES for p in ("pat", "quinn", "rowan")]


@pytest.mark.parametrize(("username", "person_name"), STAFF_CELLS)
def test_staff_export_of_a_referral(client, world, referrals, username, person_name):
    client.force_login(world.user(username))
    referral = referrals[person_name]
    allowed = person_name in SEES[username][1] | RECEIVES.get(username, set())
    response = client.get(f"{BASE}/referrals/{referral.pk}/bundle")
    assert response.status_code == (200 if allowed else 404), response.content
    if not allowed:
        assert world.person(person_name).reference.encode() not in response.content


def test_anonymous_export_is_refused(client, referrals):
    assert client.get(f"{BASE}/referrals/{referrals['pat'].pk}/bundle").status_code == 401


# organisation: people whose referrals its token reaches
TOKEN_SEES = {"harbour": {"rowan"}, "bridge": {"pat", "quinn"}, "county": set()}
TOKEN_CELLS = [(o, p) for o in TOKEN_SEES for p in ("pat", "quinn", "rowan")]


@pytest.mark.parametrize(("org_name", "person_name"), TOKEN_CELLS)
def test_organisation_tokens(client, world, referrals, org_name, person_name):
    token = issue_api_token(getattr(world, org_name))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    referral = referrals[person_name]
    allowed = person_name in TOKEN_SEES[org_name]
    expected = 200 if allowed else 404
    assert client.get(f"{BASE}/Task/{referral.pk}", **auth).status_code == expected
    assert client.get(f"{BASE}/referrals/{referral.pk}/bundle", **auth).status_code == expected
    listed = client.get(f"{BASE}/Task", **auth).json()
    ids = {entry["resource"]["id"] for entry in listed.get("entry", [])}
    assert (str(referral.pk) in ids) is allowed


def test_revoking_consent_closes_every_endpoint_at_once(client, world, referrals):
    token = issue_api_token(world.bridge)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    pat = referrals["pat"]
    assert client.get(f"{BASE}/Task/{pat.pk}", **auth).status_code == 200
    actions.revoke_consent(world.bob, pat.consent)
    assert client.get(f"{BASE}/Task/{pat.pk}", **auth).status_code == 404
    assert client.get(f"{BASE}/referrals/{pat.pk}/bundle", **auth).status_code == 404
    client.force_login(world.nina)
    assert client.get(f"{BASE}/referrals/{pat.pk}/bundle").status_code == 404
    # The referring team still sees it, but the export (a disclosure) is refused.
    client.force_login(world.bob)
    assert client.get(f"{BASE}/referrals/{pat.pk}/bundle").status_code == 403
