import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Place lookups and the report rate limit live in the cache: each test starts without them."""
    cache.clear()
    yield
    cache.clear()
