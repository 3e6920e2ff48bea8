"""The dashboards and the person timeline run a fixed number of queries however much data
there is (no N+1): measured with a little data, then held to that number with much more."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recoverybridge.care import actions
from recoverybridge.care.models import ConsentPurpose, EpisodeKind, ReferralTargetKind
from recoverybridge.directory.models import Fellowship
from tests.care_world import make_person
from tests.factories import make_meeting


def add_history(world, person, n: int) -> None:
    """n referrals (with options, assisted steps and follow-ups, some overdue), contacts,
    consents and episodes."""
    smart = Fellowship.objects.get(slug="smart")
    meetings = [make_meeting("smart", name=f"SMART {person.reference} {i}") for i in range(2)]
    long_ago = timezone.now() - timedelta(days=30)
    for i in range(n):
        referral = actions.create_referral(
            world.bob,
            person,
            target_kind=ReferralTargetKind.FELLOWSHIP,
            fellowship=smart,
            presented=meetings,
            chosen=meetings[:1],
            now=long_ago + timedelta(days=i),
        )
        actions.record_assisted_step(world.bob, referral, kind="accompanied", on=date(2026, 10, 1))
        actions.log_contact(world.bob, person, kind="phone", at=long_ago, note="open")
        actions.log_contact(world.alice, person, kind="phone", at=long_ago, note="closed", confidential=True)
        actions.give_consent(world.bob, person, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge)
        actions.start_episode(world.bob, person, kind=EpisodeKind.DETOX, started_on=date(2026, 9, 1 + i % 28))
    actions.add_related_person(world.bob, person, name="Kim", relationship="partner")


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["bob", "alice", "sam"])
def test_dashboard_queries_do_not_grow_with_the_caseload(
    world, client, username, django_assert_max_num_queries
):
    client.force_login(world.user(username))
    world.pat.navigator = world.bob
    world.pat.save()
    add_history(world, world.pat, 1)
    urls = ["/staff/", "/staff/?show=team", "/staff/queue/"]
    if username != "bob":
        urls.append("/staff/team/")  # the managers' start page
    small = {url: count_queries(client, url) for url in urls}
    for n in range(30):
        person = make_person(world.detox, f"RB-MANY{n:04d}", f"Many{n}", navigator=world.bob)
        add_history(world, person, 2)
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            response = client.get(url)
        assert response.status_code == 200


@pytest.mark.parametrize("username", ["bob", "alice"])
def test_timeline_queries_do_not_grow_with_the_record(world, client, username, django_assert_max_num_queries):
    client.force_login(world.user(username))
    add_history(world, world.pat, 1)
    url = f"/staff/people/{world.pat.pk}/"
    small = count_queries(client, url)
    add_history(world, world.pat, 25)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("Accompanied to a meeting") == 26
