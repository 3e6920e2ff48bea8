"""Start-up checks: production settings refuse to start without collected static files, rather
than answering every page with a 500 (a missing manifest entry) once running."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage

MANIFEST_STORAGES = (
    "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
)


# Not under the staticfiles tag: collectstatic runs those checks, and this one must let it run.
COLLECTED = "collected_static"


# A deployment check: migrate (which runs before collectstatic when deploying) must not be stopped
# by it; `check --deploy` and the WSGI start-up run it.
@checks.register(COLLECTED, deploy=True)
def static_files_collected(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.STORAGES["staticfiles"]["BACKEND"] not in MANIFEST_STORAGES:
        return []
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        return []
    return [
        checks.Error(
            f"Static files have not been collected into {settings.STATIC_ROOT}.",
            hint="Run `manage.py collectstatic --no-input` before starting with DEBUG=0 "
            "(docs/operations.md).",
            id="operations.E001",
        )
    ]
