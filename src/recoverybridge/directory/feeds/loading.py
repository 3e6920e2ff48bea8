"""Reading a feed from a file or an http(s) URL and decoding its JSON.

Every failure is a FeedError whose message says what went wrong in terms the
person running the import can act on (which file, which HTTP status, where the
JSON breaks).
"""

import importlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from recoverybridge.directory.feeds.records import FeedError, ParsedFeed

USER_AGENT = "RecoveryBridge feed importer"


def is_url(location: str) -> bool:
    return "://" in location


def read_bytes(location: str) -> bytes:
    """The feed's bytes, at most settings.FEED_MAX_BYTES of them."""
    limit = settings.FEED_MAX_BYTES
    if is_url(location):
        return fetch(location, limit)
    path = Path(location)
    if not path.is_file():
        raise FeedError(f"no such file: {location}")
    if path.stat().st_size > limit:
        raise FeedError(f"{location} is larger than FEED_MAX_BYTES ({limit} bytes)")
    try:
        return path.read_bytes()
    except OSError as error:
        raise FeedError(f"cannot read {location}: {error.strerror}") from error


def fetch(url: str, limit: int) -> bytes:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        # file:, ftp: and the rest would let a feed URL read the server's own files.
        raise FeedError(f"only http and https feed URLs are allowed, not {scheme}:")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=settings.FEED_FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            body: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as error:
        raise FeedError(f"{url} answered HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise FeedError(f"cannot fetch {url}: {error.reason}") from error
    except TimeoutError as error:
        raise FeedError(
            f"{url} did not answer within {settings.FEED_FETCH_TIMEOUT_SECONDS:g} seconds"
        ) from error
    if len(body) > limit:
        raise FeedError(f"{url} sent more than FEED_MAX_BYTES ({limit} bytes)")
    return body


def decode_json(body: bytes, origin: str) -> Any:
    if not body.strip():
        raise FeedError(f"{origin} is empty")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FeedError(f"{origin} is not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise FeedError(
            f"{origin} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError:
        # No feed nests this deep: refused as a whole, with the reason, not a traceback.
        raise FeedError(f"{origin} nests arrays or objects too deeply to be a feed") from None


def load_json(location: str) -> Any:
    return decode_json(read_bytes(location), location)


FORMATS = ("meeting-guide", "bmlt", "hsds")


def parser_for(format: str) -> Callable[..., ParsedFeed]:
    """The format's `parse` function, imported only when asked for."""
    if format not in FORMATS:
        raise FeedError(f"unknown feed format {format}; known: {', '.join(FORMATS)}")
    module_name = f"recoverybridge.directory.feeds.{format.replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FeedError(f"the {format} parser is not available ({module_name}: {error})") from error
    parse: Callable[..., ParsedFeed] = module.parse
    return parse


def read_feed(format: str, location: str, *, formats: str | None = None) -> ParsedFeed:
    """Read, decode and parse a feed; a BMLT feed may come with its GetFormats file."""
    if formats and format != "bmlt":
        raise FeedError("--formats is only for BMLT feeds")
    parse = parser_for(format)
    data = load_json(location)
    if format == "bmlt":
        return parse(data, load_json(formats) if formats else None)
    return parse(data)
