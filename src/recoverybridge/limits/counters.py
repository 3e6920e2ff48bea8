"""Counting requests in the shared "limits" cache (see the package's docstring)."""

import hashlib

from django.conf import settings
from django.core.cache import caches

CACHE = "limits"


def key(scope: str, who: str) -> str:
    """The counter's name: a keyed hash of who (an address, a link's token), so that the cache
    holds no personal data and no usable token."""
    return f"{scope}:" + hashlib.sha256(f"{settings.SECRET_KEY}:{who}".encode()).hexdigest()


def hit(scope: str, who: str, *, window: int) -> int:
    """Count one more request of `who` and answer how many there were in the window (from the
    first of them, `window` seconds long), this one included, whichever process counted them."""
    cache = caches[CACHE]
    name = key(scope, who)
    for _attempt in range(2):
        try:
            counted = int(cache.incr(name))  # atomic on both backends: Redis INCR, a locked row
        except ValueError:  # the first of a window: start it (another process may just have)
            cache.add(name, 0, window)
            continue
        if counted == 1:
            # Redis's INCR of a key that expired just after the backend checked that it exists
            # makes a key that never expires: give the window's first count its expiry again.
            cache.touch(name, window)
        return counted
    cache.set(name, 1, window)  # the new window ended at once (a window of a second or less)
    return 1


def count(scope: str, who: str) -> int:
    """How many requests of `who` were counted in the current window, without counting one."""
    return int(caches[CACHE].get(key(scope, who), 0))
