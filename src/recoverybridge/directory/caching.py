"""Validators and a short cache for the directory's public answers, in one middleware.

The finder's pages, the search API, its iCalendar and the feeds out are the same for every
anonymous visitor who asks the same thing in the same language, until the directory changes
(its version token, directory/version.py) or, for answers that count from "now" (starting
soon, next occurrences, schedule offsets), until the next minute. So each such answer gets

- an `ETag` from what it depends on: this release of the code, the directory's token, the
  minute (for answers that count from now), the language, the host and the full path with
  its query, and the htmx headers that choose a fragment;
- `Last-Modified`: when the directory last changed (or the minute began, if later);
- `Cache-Control: public, max-age=PUBLIC_CACHE_SECONDS` and `Vary` on what picks the
  language (Accept-Language, the language cookie) and the fragment (HX-Request, HX-Target).

A conditional request whose validators still match is a 304 before the view runs: one query
(the token) and no search. The answer itself is kept a short while in this process under the
same key, so the next visitor asking the same thing is served without searching again.

Only for anonymous visitors: a request with a session, a pending message or credentials is
left alone (signed-in pages show a staff menu and are never shared), and an answer that sets
a cookie (a CSRF token) is marked private and not kept.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from recoverybridge.directory import version

# The public answers, by URL pattern (unique, unlike ninja's operation names), and whether
# each counts from the current time (next occurrences, "starting soon", UTC offsets).
PUBLIC_ROUTES: dict[str, bool] = {
    "": True,  # the finder
    "other-kinds/": True,
    "meetings/<id:meeting_id>/": True,
    "which-group/": False,
    "api/v1/meetings": True,
    "api/v1/meetings.ics": True,
    "api/v1/meetings/<int:meeting_id>": True,
    "api/v1/meetings/<int:meeting_id>.ics": False,
    "api/v1/fellowships": False,
    "api/v1/attributes": False,
    "api/v1/feeds/meeting-guide.json": False,
    "api/v1/feeds/hsds/services": True,
    "api/v1/feeds/hsds/services/<service_id>": True,
    "api/v1/feeds/hsds/organizations": False,
}
VARY = ("Accept-Language", "Cookie", "HX-Request", "HX-Target")
# Answers kept per process, most recently used first out last; a search page is ~50 KB.
KEPT_ANSWERS = 256
KEPT_ANSWER_MAX_BYTES = 512 * 1024
SOURCE = Path(__file__).resolve().parent.parent


@cache
def release() -> str:
    """What the code, templates, translations and static file names of this release hash to.

    Read once per process (about 3 MB): a deploy changes every ETag, and two workers of the
    same release agree."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix in (".py", ".html", ".mo", ".json", ".txt") and "static" not in path.parts:
            digest.update(str(path.relative_to(SOURCE)).encode())
            digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        digest.update(manifest.read_bytes())
    for name in ("MAP_TILE_URL", "MAP_TILE_ATTRIBUTION", "SITE_URL"):
        digest.update(str(getattr(settings, name, "")).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime
    key: str


def validators(
    request: HttpRequest, state: version.State, counts_from_now: bool, now: datetime | None = None
) -> Validators:
    """The answer's validators, from the directory's state read before the view runs."""
    now = now or datetime.now(UTC)
    seconds = settings.PUBLIC_CACHE_SECONDS
    minute = int(now.timestamp()) // seconds if counts_from_now else 0
    parts = [
        release(),
        str(state.token),
        str(minute),
        get_language() or "",
        request.scheme or "",
        request.get_host(),
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
    ]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    changed = state.changed_at or datetime(2000, 1, 1, tzinfo=UTC)
    if counts_from_now:
        changed = max(changed, datetime.fromtimestamp(minute * seconds, UTC))
    return Validators(f'W/"{key}"', changed, key)


def is_anonymous(request: HttpRequest) -> bool:
    """No session (signed in or not), no message waiting to be shown, no credentials.

    Decided from the request's cookies and headers alone, so a 304 reads no session."""
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
        and "Authorization" not in request.headers
    )


@dataclass(frozen=True)
class Kept:
    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]


_kept: OrderedDict[str, Kept] = OrderedDict()
_kept_lock = threading.Lock()


def _keep(key: str, response: HttpResponse) -> None:
    if len(response.content) > KEPT_ANSWER_MAX_BYTES:
        return
    kept = Kept(response.status_code, response.content, tuple(response.headers.items()))
    with _kept_lock:
        _kept[key] = kept
        while len(_kept) > KEPT_ANSWERS:
            _kept.popitem(last=False)


def _kept_answer(key: str) -> HttpResponse | None:
    with _kept_lock:
        kept = _kept.get(key)
        if kept is None:
            return None
        _kept.move_to_end(key)
    response = HttpResponse(kept.content, status=kept.status)
    for name, value in kept.headers:
        response[name] = value
    return response


def forget_kept_answers() -> None:
    """Benchmarks and tests time or count the first answer."""
    with _kept_lock:
        _kept.clear()


def _stamp(response: HttpResponseBase, found: Validators) -> None:
    response["ETag"] = found.etag
    response["Last-Modified"] = http_date(found.last_modified.timestamp())
    response["Cache-Control"] = f"public, max-age={settings.PUBLIC_CACHE_SECONDS}"
    patch_vary_headers(response, VARY)


_GZIP = GZipMiddleware(lambda request: HttpResponse())


class PublicCacheMiddleware:
    """ETag, Last-Modified, Cache-Control and 304s for PUBLIC_ROUTES (see the module's text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self._answer(request)
        if getattr(request, "public_validators", None) is not None and response.get(
            "Cache-Control", ""
        ).startswith("public"):
            # Compressed only here: a public answer holds no secret (no CSRF token, nobody's data),
            # so compression cannot leak one (BREACH); staff pages stay uncompressed.
            response = _GZIP.process_response(request, response)
        return response

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        try:
            response = self.get_response(request)
        finally:
            read = getattr(request, "directory_state_read", None)
            if read is not None:
                version.forget_read(read)
        found: Validators | None = getattr(request, "public_validators", None)
        if found is None or response.status_code != 200 or response.has_header("Cache-Control"):
            return response
        if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            # A cookie (the CSRF token) is this visitor's alone: the browser may keep it, no one else.
            response["Cache-Control"] = "private, no-cache"
            return response
        _stamp(response, found)
        if not response.streaming and not getattr(request, "public_answer_kept", False):
            assert isinstance(response, HttpResponse)
            _keep(found.key, response)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if request.method != "GET" or match is None or match.route not in PUBLIC_ROUTES:
            return None
        if not is_anonymous(request):
            return None
        state = version.current_state()
        if state is None:
            return None
        # The search reads the same token (its kept counts): one query, and the same directory.
        request.directory_state_read = version.read_for_request(state)  # type: ignore[attr-defined]
        found = validators(request, state, PUBLIC_ROUTES[match.route])
        request.public_validators = found  # type: ignore[attr-defined]
        not_modified = get_conditional_response(
            request, etag=found.etag, last_modified=int(found.last_modified.timestamp())
        )
        if not_modified is not None:  # a 304, or a 412 for a failed If-Match
            if not_modified.status_code == 304:
                _stamp(not_modified, found)
            return not_modified
        kept = _kept_answer(found.key)
        if kept is not None:
            request.public_answer_kept = True  # type: ignore[attr-defined]
        return kept
