"""The referral loop closes across two systems: Bob refers Pat to Bridge Peer Network with Pat's
consent; Bridge's own FHIR tooling (fhirpy) accepts the Task and later completes it with a
milestone, once refused for updating an old version; Bob signs in through the form and sees, on
Pat's referral, that Bridge completed it and that Pat attends regularly. Screenshots of Bob's
pages at phone and desktop widths in test-artifacts/screenshots/fhir-loop-*.png, axe clean."""

import re

import pytest
from django.utils import timezone
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from recoverybridge.accounts.actions import issue_api_token
from recoverybridge.care import actions, fhir
from recoverybridge.care.models import ConsentPurpose, Referral, ReferralTargetKind
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.care_world import build_world
from tests.web.test_browser import chromium, page, screenshots  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a long staff passphrase"


@pytest.fixture
def world(transactional_db):
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    world.bob.first_name, world.bob.last_name = "Bob", "Baker"
    world.bob.set_password(PASSWORD)
    world.bob.save()
    return world


def test_bridge_closes_the_loop_and_bob_sees_it(live_server, page, world):  # noqa: F811
    actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, scope="The referral"
    )
    referral = actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.OTHER_SERVICE,
        target_organisation=world.bridge,
        reason="Peer support after detox",
        now=timezone.now(),
    )
    token = issue_api_token(world.bridge)
    base = f"{live_server.url}/api/v1/fhir"
    bridge = SyncFHIRClient(base, authorization=f"Bearer {token}")

    # Bridge's system picks up the new referral and accepts it, on the version it read.
    (task,) = bridge.resources("Task").search(status="requested").fetch_all()
    assert task["focus"].to_resource()["reasonCode"][0]["text"] == "Peer support after detox"
    read = f'W/"{task["meta"]["versionId"]}"'
    on_read = SyncFHIRClient(base, authorization=f"Bearer {token}", extra_headers={"If-Match": read})
    on_read.resource("Task", **{**task.serialize(), "status": "accepted"}).save()
    # A colleague's screen still shows the version read: their update is refused, not lost.
    with pytest.raises(MultipleResourcesFound):
        on_read.resource(
            "Task", **{**task.serialize(), "status": "rejected", "statusReason": {"text": "Full"}}
        ).save()
    task.refresh()
    task.patch(status="in-progress")
    milestone = {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": "attending-regularly"}]}
    task.patch(status="completed", businessStatus=milestone)
    assert Referral.objects.get(pk=referral.pk).status == "completed"

    # Bob signs in and finds the loop closed on Pat's referral.
    path = f"/staff/referrals/{referral.pk}/"
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    page.get_by_role("heading", level=1).wait_for()
    assert page.locator(".status", has_text="Completed").count() == 1
    assert page.locator(".badge", has_text="Attending regularly").count() == 1
    screenshots(page, "fhir-loop-referral")
    page.goto(f"{live_server.url}/staff/people/{world.pat.pk}/")
    page.get_by_role("heading", name="Pat Example", level=1).wait_for()
    assert page.locator(".status", has_text="Completed").count() >= 1
    screenshots(page, "fhir-loop-person")
