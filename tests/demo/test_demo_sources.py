"""`make demo` shows feed sources on schedules: the shared feeds fetched, one intergroup's
import held for an editor, one failing; and running it again adds nothing."""

import json

import pytest
from django.utils import timezone

from recoverybridge.demo.sources import BROKEN_SOURCE, HELD_SOURCE, SERVICES_SOURCE, load_demo_sources
from recoverybridge.directory import queries
from recoverybridge.directory.actions import imports
from recoverybridge.directory.models import FeedAttempt, Fellowship, HeldImport, Service
from tests.directory.test_import_pipeline import record

pytestmark = pytest.mark.django_db


def test_demo_sources_show_every_state_and_load_once(tmp_path):
    shared = tmp_path / "sussexaa.json"
    shared.write_text(json.dumps([record("a"), record("b", day=2)]))
    imports.register_feed_source(
        "sussexaa", "meeting-guide", str(shared), fellowship=Fellowship.objects.get(slug="aa")
    )

    line = load_demo_sources(tmp_path / "demo-feeds", ["sussexaa"])
    assert "held for an editor" in line and "failed" in line
    troubles = {h.source.name: h.trouble for h in queries.source_health(timezone.now())}
    assert troubles[BROKEN_SOURCE] == queries.Trouble.FAILING
    assert troubles[HELD_SOURCE] == queries.Trouble.HELD
    assert troubles["sussexaa"] == queries.Trouble.NONE
    assert HeldImport.objects.get().dropped == 16
    # Services beyond meetings, for /services/ and the referral wizard: every category has one.
    demo_services = Service.objects.filter(feed_source__name=SERVICES_SOURCE)
    assert demo_services.count() == 7
    assert {"treatment", "detox", "recovery-housing", "harm-reduction", "recovery-community"} <= set(
        demo_services.values_list("category", flat=True)
    )

    attempts = FeedAttempt.objects.count()
    assert "already there" in load_demo_sources(tmp_path / "demo-feeds", ["sussexaa"])
    assert HeldImport.objects.count() == 1
    assert FeedAttempt.objects.count() == attempts + 1  # the shared feed checked again
    assert Service.objects.count() == 7
