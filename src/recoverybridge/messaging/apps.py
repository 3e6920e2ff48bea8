from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "recoverybridge.messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from recoverybridge.messaging import checks  # noqa: F401  (registers the start-up checks)
