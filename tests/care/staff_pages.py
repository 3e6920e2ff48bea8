"""Helpers shared by the staff page tests (tests/care/test_pages_*.py)."""

from typing import Any


def serve_plain_static_files(settings: Any) -> None:
    """Production serves hashed names made by collectstatic; tests serve the source files as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
