import pytest
from django.core.cache import cache

from tests.care_world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached lookups live in the cache: each test starts without them (rate limits: tests/conftest.py)."""
    cache.clear()
