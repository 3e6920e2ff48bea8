"""Replies to our texts, forwarded by Twilio: STOP, START, or anything else.

Twilio posts each reply as a form to /sms/inbound/ (set it as the number's "A message comes in"
webhook, at SITE_URL) and signs it with the account's auth token (X-Twilio-Signature). A
request without a valid signature is refused with 403 and only the refusal is audited, with
nothing of what it said. The answer is TwiML: the confirmation to send back, if any.
"""

from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.messaging import optout
from recoverybridge.messaging.sms_backends import valid_twilio_signature


def twiml(reply: str) -> HttpResponse:
    message = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>',
        content_type="text/xml; charset=utf-8",
    )


@csrf_exempt  # Twilio cannot hold a CSRF token; the signature proves who sent it.
@never_cache
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    # Twilio signs the URL it was told to call, which is ours as SITE_URL says (behind a proxy the
    # request's own idea of its scheme and host may differ).
    url = settings.SITE_URL + request.get_full_path()
    if not valid_twilio_signature(
        request.headers.get("X-Twilio-Signature", ""), url, dict(request.POST.lists())
    ):
        with transaction.atomic():
            audit.record(
                None,
                AuditAction.DENIED,
                None,
                object_type="messaging.inbound",
                detail="reply to a text refused: no valid Twilio signature",
            )
        return HttpResponseForbidden("Not signed.", content_type="text/plain")
    reply = optout.handle_reply(
        request.POST.get("From", ""), request.POST.get("Body", ""), request.POST.get("OptOutType", "")
    )
    return twiml(reply)
