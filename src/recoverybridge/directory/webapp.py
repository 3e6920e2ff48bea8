"""The finder as an installable web app: its manifest, its service worker (served from the site's
root so that it may answer for the finder's pages), and the pages it keeps for use offline.

Saved meetings are kept in the visitor's own browser (static/js/keep.js): nothing about them is
sent to the server or stored here. What the service worker may keep is decided in sw.js by a list
of the finder's public paths; staff pages, private links and the API are never among them.
"""

import hashlib
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

THEME_COLOUR = "#0b5cab"  # the header's brand blue (static/css/site.css --brand)


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, in the visitor's language."""
    search = reverse("directory:search")
    body = {
        "id": search,
        "name": _("RecoveryBridge: find a recovery meeting"),
        "short_name": "RecoveryBridge",
        "description": _(
            "Every kind of mutual-aid group in one place, in person and online. Saved meetings open "
            "without internet."
        ),
        "lang": get_language() or "en",
        "dir": "ltr",
        "start_url": search,
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        ],
        "shortcuts": [{"name": _("Saved meetings"), "url": reverse("directory:saved")}],
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=1),
        content_type="application/manifest+json; charset=utf-8",
    )
    response["Vary"] = "Cookie, Accept-Language"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """sw.js from the root, so its scope is the whole site; the files it keeps are named by their
    static URLs (hashed in production), and its version follows them: a deploy that changes a file
    installs a new worker, which drops the old copies."""
    shell = [
        static("css/site.css"),
        static("js/site.js"),
        static("js/keep.js"),
        static("vendor/htmx/htmx.min.js"),
        static("icons/icon.svg"),
        static("icons/icon-192.png"),
    ]
    context = {
        "shell": json.dumps(shell),
        # STATIC_URL itself: production's hashed storage has no manifest entry for "" to name it.
        "static_prefix": json.dumps(settings.STATIC_URL),
        "offline_url": json.dumps(reverse("directory:offline")),
        "saved_url": json.dumps(reverse("directory:saved")),
    }
    draft = render_to_string("directory/sw.js", {**context, "version": ""})
    context["version"] = hashlib.sha256(draft.encode()).hexdigest()[:12]
    response = HttpResponse(
        render_to_string("directory/sw.js", context), content_type="text/javascript; charset=utf-8"
    )
    # Browsers look for a new worker at least daily; this makes every look reach the server.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def saved(request: HttpRequest) -> HttpResponse:
    """The meetings this browser saved (listed by keep.js from the browser's own storage)."""
    return render(request, "directory/saved.html")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a finder page it has no copy of, without a connection."""
    return render(request, "directory/offline.html")
