"""Fixtures of the outcome tests: the narrative care world (tests/care_world.py), an empty cache
(the self-completion rate limit lives there) and English as the active language."""

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.care_world import World, build_world


@pytest.fixture(autouse=True)
def pages_setup():
    """Start each test with an empty cache (the self-completion rate limit lives there)."""
    cache.clear()
    # Messages are translated: start in English whatever an earlier test's request activated.
    translation.activate("en")
    yield
    translation.deactivate()
    cache.clear()


@pytest.fixture
def world(db) -> World:
    return build_world()
