"""Whether a Redis answers where the tests look for one (127.0.0.1:6379, or TEST_REDIS_URL)."""

import os
import socket
from urllib.parse import urlsplit

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers() -> bool:
    place = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((place.hostname or "127.0.0.1", place.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


NO_REDIS = f"no Redis answers at {REDIS_URL} (set TEST_REDIS_URL to test the Redis backend)"
