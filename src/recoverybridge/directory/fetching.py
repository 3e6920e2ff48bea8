"""Fetching a feed source on its schedule: a conditional request, bounded in time and size.

An http(s) source is asked with the validators of what was last applied (If-None-Match,
If-Modified-Since); 304 means nothing to do. The whole fetch, headers and body, must end within
FEED_FETCH_TIMEOUT_SECONDS and send at most FEED_MAX_BYTES, or it fails and changes nothing:
connecting and each read wait at most the timeout, and once the headers are in a watchdog
shuts the connection when the whole time is up, so a server that trickles a byte at a time
cannot hold a worker. A file source is simply read (its hash decides whether it changed).
"""

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from recoverybridge.directory.feeds import loading
from recoverybridge.directory.feeds.records import FeedError

CHUNK = 64 * 1024


@dataclass
class Fetched:
    # 200 or 304 for http(s); None for a file.
    status: int | None
    # None: not modified.
    body: bytes | None
    etag: str = ""
    last_modified: str = ""


def fetch(location: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    if not loading.is_url(location):
        return Fetched(None, loading.read_bytes(location))
    return fetch_url(
        location,
        etag=etag,
        last_modified=last_modified,
        timeout=settings.FEED_FETCH_TIMEOUT_SECONDS,
        limit=settings.FEED_MAX_BYTES,
    )


def fetch_url(url: str, *, etag: str, last_modified: str, timeout: float, limit: int) -> Fetched:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        # file:, ftp: and the rest would let a feed URL read the server's own files.
        raise FeedError(f"only http and https feed URLs are allowed, not {scheme}:")
    headers = {"User-Agent": loading.USER_AGENT, "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked)
    watchdog = Watchdog(timeout)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            watchdog.watch(response)
            body = read_bounded(response, limit, watchdog, url)
            return Fetched(
                response.status,
                body,
                etag=response.headers.get("ETag", "")[:255],
                last_modified=response.headers.get("Last-Modified", "")[:64],
            )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return Fetched(304, None, etag=etag, last_modified=last_modified)
        raise FeedError(f"{url} answered HTTP {error.code} {error.reason}") from error
    except FeedError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as error:
        if watchdog.fired or isinstance(error, TimeoutError) or "timed out" in str(error):
            raise FeedError(f"{url} did not answer within {timeout:g} seconds") from error
        reason = getattr(error, "reason", error)
        raise FeedError(f"cannot fetch {url}: {reason}") from error
    finally:
        watchdog.cancel()


def read_bounded(response: Any, limit: int, watchdog: "Watchdog", url: str) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isdecimal() and int(length) > limit:
        raise FeedError(f"{url} is {int(length)} bytes, more than FEED_MAX_BYTES ({limit} bytes)")
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, ValueError, AttributeError) as error:
            if watchdog.fired:
                raise TimeoutError from error
            raise
        if watchdog.fired:
            raise TimeoutError
        if not chunk:
            if length and length.isdecimal() and size != int(length):
                # http.client ends a cut-off body quietly: half a feed must not pass for a whole one.
                raise FeedError(f"{url} closed the connection after {size} of {int(length)} bytes")
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise FeedError(f"{url} sent more than FEED_MAX_BYTES ({limit} bytes)")
        parts.append(chunk)


class Watchdog:
    """Closes the response once the whole fetch has taken `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.monotonic()
        self.fired = False
        self.timer: threading.Timer | None = None

    def watch(self, response: Any) -> None:
        remaining = max(0.0, self.seconds - (time.monotonic() - self.started))

        def expire() -> None:
            self.fired = True
            # Shutting the socket down wakes a read blocked in another thread; closing alone does not.
            sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
            try:
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
                response.close()
            except Exception:  # noqa: S110 -- closing a connection being read may complain; the reader stops either way
                pass

        self.timer = threading.Timer(remaining, expire)
        self.timer.daemon = True
        self.timer.start()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
