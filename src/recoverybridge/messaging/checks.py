"""Start-up checks: a text provider named without its account is said so, not found out later."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from recoverybridge.messaging.sms_backends import backend_path, texts_available


@register()
def sms_backend_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if texts_available() or settings.SMS_BACKEND == "off":
        return []
    return [
        Warning(
            f"SMS_BACKEND is {backend_path(settings.SMS_BACKEND)} but its account is not set up "
            "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SMS_FROM): no text messages are offered or sent. "
            "Set SMS_BACKEND=off if that is meant.",
            id="messaging.W001",
        )
    ]
