"""Fixtures of the outcome tests: the narrative care world (tests/care_world.py), the source
static files (no collectstatic manifest in tests), an empty cache (the self-completion rate
limit lives there) and English as the active language."""

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.care_world import World, build_world


@pytest.fixture(autouse=True)
def pages_setup(settings):
    """Serve the source static files (no collectstatic manifest in tests) and start each test
    with an empty cache (the self-completion rate limit lives there)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    # Messages are translated: start in English whatever an earlier test's request activated.
    translation.activate("en")
    yield
    translation.deactivate()
    cache.clear()


@pytest.fixture
def world(db) -> World:
    return build_world()
