"""Where text messages go: a django-sms backend, named by SMS_BACKEND.

django-sms brings the console, file and in-memory (tests) backends; this module adds the one
that really sends, through Twilio's REST API (one form POST per message, so no SDK is needed),
and the check of the signature Twilio puts on the replies it forwards to us.

Errors never carry the number or the body: Twilio's error texts echo the number, so only its
numeric code is kept.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from sms.backends.base import BaseSmsBackend

# Short names for SMS_BACKEND; a dotted path to any django-sms backend works too.
ALIASES = {
    "console": "sms.backends.console.SmsBackend",
    "file": "sms.backends.filebased.SmsBackend",
    "locmem": "sms.backends.locmem.SmsBackend",
    "twilio": "recoverybridge.messaging.sms_backends.TwilioBackend",
    "off": "recoverybridge.messaging.sms_backends.NoTexts",
}
# Twilio's code for "the recipient replied STOP to your number" (its own opt-out list).
TWILIO_UNSUBSCRIBED = 21610


def backend_path(name: str) -> str:
    return ALIASES.get(name, name)


def texts_available() -> bool:
    """Whether texts can be sent at all: the backend is set up (a provider with its account)."""
    backend = import_string(backend_path(settings.SMS_BACKEND))
    configured = getattr(backend, "configured", None)
    return bool(configured()) if configured is not None else True


class ProviderError(Exception):
    """The provider did not take the message. `permanent`: sending it again will not help (a
    number it refuses, a recipient who opted out with it, our account refused); otherwise it
    was down, slow or busy, and a later try may work."""

    def __init__(self, summary: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(summary)
        self.summary = summary[:120]
        self.permanent = permanent
        self.code = code


class NoTexts(BaseSmsBackend):
    """SMS_BACKEND=off: this site sends no text messages, and offers none."""

    @staticmethod
    def configured() -> bool:
        return False

    def send_messages(self, messages: Iterable[Any]) -> int:
        raise ImproperlyConfigured("Text messages are switched off (SMS_BACKEND=off).")


class TwilioBackend(BaseSmsBackend):
    """Sends each message with POST {TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json.
    The SID Twilio gives a message is left on it as `provider_id`."""

    @staticmethod
    def configured() -> bool:
        return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.DEFAULT_FROM_SMS)

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        if not self.configured():
            raise ImproperlyConfigured(
                "The Twilio SMS backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and SMS_FROM."
            )
        url = settings.TWILIO_API_URL.rstrip("/")
        if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
            raise ImproperlyConfigured("TWILIO_API_URL must be an http(s) URL.")
        sid = settings.TWILIO_ACCOUNT_SID
        self.url = f"{url}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
        credentials = f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()
        self.authorization = "Basic " + base64.b64encode(credentials).decode("ascii")

    def send_messages(self, messages: Iterable[Any]) -> int:
        sent = 0
        for message in messages:
            for recipient in message.recipients:
                message.provider_id = self.post(recipient, message.originator, message.body)
                sent += 1
        return sent

    def post(self, to: str, sender: str, body: str) -> str:
        # A Messaging Service (its SID starts MG) picks the sending number itself.
        fields = {
            "To": to,
            "Body": body,
            "MessagingServiceSid" if sender.startswith("MG") else "From": sender,
        }
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.url,
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Authorization": self.authorization, "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as answer:  # noqa: S310
                return str(json.loads(answer.read() or b"{}").get("sid", ""))[:64]
        except urllib.error.HTTPError as error:
            raise _refusal(error) from None
        except TimeoutError:
            raise ProviderError("Twilio timed out", permanent=False) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise ProviderError("Twilio timed out", permanent=False) from None
            raise ProviderError(
                f"Twilio unreachable ({type(error.reason).__name__})", permanent=False
            ) from None
        except (OSError, ValueError) as error:
            raise ProviderError(f"Twilio unreachable ({type(error).__name__})", permanent=False) from None


def _refusal(error: urllib.error.HTTPError) -> ProviderError:
    """Twilio's error answer ({"code": 21211, "message": ..., "status": 400}) as a ProviderError:
    its code only. 429 (too many requests) and 5xx are passing; other 4xx are final."""
    try:
        code = int(json.loads(error.read() or b"{}").get("code"))
    except (ValueError, TypeError, AttributeError, OSError):
        code = None
    passing = error.code == 429 or error.code >= 500
    summary = f"Twilio {code} (HTTP {error.code})" if code else f"Twilio HTTP {error.code}"
    return ProviderError(summary, permanent=not passing, code=code)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, Iterable[str]]) -> str:
    """The X-Twilio-Signature of a form POST: HMAC-SHA1 with the auth token over the full URL
    followed by each parameter's name and its values, sorted by name and value, a repeated value
    once (Twilio's documented scheme, as its SDKs compute it)."""
    payload = url + "".join(name + value for name in sorted(params) for value in sorted(set(params[name])))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def valid_twilio_signature(signature: str, url: str, params: Mapping[str, Iterable[str]]) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(token, url, params), signature)
