import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Place lookups live in the cache: each test starts without them (rate limits: tests/conftest.py)."""
    cache.clear()
    yield
    cache.clear()
