"""Fixtures of the outcome tests: the narrative care world (tests/care_world.py) and English as
the active language. (The self-completion rate limit counts in the database: each test's
transaction takes its counts away.)"""

import pytest
from django.utils import translation

from tests.care_world import World, build_world


@pytest.fixture(autouse=True)
def pages_setup():
    """Messages are translated: start in English whatever an earlier test's request activated."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def world(db) -> World:
    return build_world()
