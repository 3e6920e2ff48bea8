from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "recoverybridge.outcomes"
    verbose_name = _("Outcomes")

    def ready(self) -> None:
        # Registers the system check that loads and validates every Questionnaire file, so a
        # malformed instrument stops `runserver`, `migrate` and `check` with its file and reason.
        from recoverybridge.outcomes import checks  # noqa: F401
