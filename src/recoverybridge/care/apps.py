from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "recoverybridge.care"
    verbose_name = _("Care coordination")

    def ready(self) -> None:
        from recoverybridge.care.messages import consent_still_active
        from recoverybridge.messaging.outbox import before_delivery

        # A message to a person leaves only while their consent for its channel is active.
        before_delivery.connect(consent_still_active, dispatch_uid="care.consent_still_active")
