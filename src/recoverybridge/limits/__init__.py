"""Limits shared by every web process and server: rate limits and other counts kept across
requests, in the "limits" cache (settings.CACHES), never in one process's memory.

`hit(scope, who, window=...)` counts one more request and answers the count in the window;
`count(scope, who)` answers it without counting. Who is kept only as a keyed hash.
The cache is the database (`backends.DatabaseCounterCache`) unless REDIS_URL names a Redis.
"""

from recoverybridge.limits.counters import count, hit

__all__ = ["count", "hit"]
