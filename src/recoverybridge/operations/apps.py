from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running it as production runs it: start-up checks and what the logs may hold."""

    name = "recoverybridge.operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from recoverybridge.operations import checks  # noqa: F401 -- registers the checks
