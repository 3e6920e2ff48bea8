import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production serves hashed names made by collectstatic; tests serve the source files as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Place lookups and the report rate limit live in the cache: each test starts without them."""
    cache.clear()
    yield
    cache.clear()
