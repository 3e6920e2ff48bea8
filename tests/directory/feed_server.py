"""A local HTTP server publishing feeds as intergroups' web servers do, for the refresh tests.

Each path serves a body with an ETag and a Last-Modified; a request that sends them back
(If-None-Match, If-Modified-Since) is answered 304 Not Modified. A path can also be made slow
(the headers come, then the body trickles), oversized, or failing. Every request is kept.
"""

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Published:
    body: bytes
    etag: str
    last_modified: str
    # "", "trickle" (a byte a second after the headers), "hang" (headers, then nothing),
    # "cut" (half the body, then the connection closes),
    # "no-validators" (no ETag or Last-Modified), or an HTTP status to answer with.
    behaviour: str | int = ""


@dataclass
class Seen:
    path: str
    if_none_match: str
    if_modified_since: str


@dataclass
class FeedServer:
    url: str = ""
    feeds: dict[str, Published] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    version: int = 0

    def publish(self, path: str, data: Any, behaviour: str | int = "") -> str:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.version += 1
        self.feeds[path] = Published(
            body,
            etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"',
            last_modified=formatdate(1_700_000_000 + self.version, usegmt=True),
            behaviour=behaviour,
        )
        return self.url + path

    def requests_for(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


def handler_for(state: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            state.seen.append(
                Seen(
                    self.path,
                    self.headers.get("If-None-Match", ""),
                    self.headers.get("If-Modified-Since", ""),
                )
            )
            feed = state.feeds.get(self.path)
            if feed is None:
                self.send_error(404)
                return
            if isinstance(feed.behaviour, int):
                self.send_error(feed.behaviour)
                return
            validators = feed.behaviour != "no-validators"
            if validators and (
                self.headers.get("If-None-Match") == feed.etag
                or (
                    not self.headers.get("If-None-Match")
                    and self.headers.get("If-Modified-Since") == feed.last_modified
                )
            ):
                self.send_response(304)
                self.send_header("ETag", feed.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(feed.body)))
            if validators:
                self.send_header("ETag", feed.etag)
                self.send_header("Last-Modified", feed.last_modified)
            self.end_headers()
            if feed.behaviour == "trickle":
                try:
                    for byte in feed.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(1)
                except OSError:
                    return  # the client gave up, as it should
            elif feed.behaviour == "cut":
                self.wfile.write(feed.body[: len(feed.body) // 2])
                self.close_connection = True
            elif feed.behaviour == "hang":
                time.sleep(30)
            else:
                self.wfile.write(feed.body)

    return Handler


@pytest.fixture
def feed_server():
    state = FeedServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
