"""Ada the administrator manages organisations, teams and memberships in the admin, and
finds no person records there (least privilege)."""

from django.contrib import admin

from recoverybridge.accounts.models import Membership
from recoverybridge.care.models import Consent, Person, Referral
from recoverybridge.organisations.models import Organisation, Team


def test_admin_has_organisations_and_memberships_but_no_person_records():
    registered = admin.site._registry
    assert {Organisation, Team, Membership} <= set(registered)
    assert not {Person, Consent, Referral} & set(registered)


def test_administrator_opens_the_organisation_pages(client, world):
    client.force_login(world.ada)
    assert client.get("/admin/organisations/organisation/").status_code == 200
    page = client.get(f"/admin/organisations/organisation/{world.harbour.pk}/change/")
    assert page.status_code == 200
    assert b"api_token_hash" not in page.content
    assert client.get("/admin/accounts/membership/").status_code == 200
