"""The shared limits' counter (recoverybridge.limits) on both of its backends: the database cache
(the default) and Redis (REDIS_URL). Counts go up one by one and each is handed out once, even to
processes counting at the same moment; a window keeps its end while requests keep coming, and
starts again once it has ended; the cache never holds the address or token counted."""

import datetime
import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection

from recoverybridge import limits
from recoverybridge.limits.counters import CACHE, key
from tests.limits.redis_here import NO_REDIS, REDIS_URL, redis_answers
from tests.servers import database_url

ROOT = Path(__file__).resolve().parents[2]
TABLE = "limit_counters"


@pytest.fixture
def redis_limits(settings):
    """The "limits" cache on Redis, under a prefix of this test's own, emptied afterwards."""
    if not redis_answers():
        pytest.skip(NO_REDIS)
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    client = redis.Redis.from_url(REDIS_URL)
    yield client, prefix
    for name in client.scan_iter(match=f"{prefix}:*"):
        client.delete(name)
    client.close()


@pytest.fixture(params=["database", "redis"])
def backend(request, db):
    if request.param == "redis":
        request.getfixturevalue("redis_limits")
    return request.param


def test_hits_count_up_and_count_reads_without_counting(backend):
    assert limits.count("reports", "192.0.2.1") == 0
    assert [limits.hit("reports", "192.0.2.1", window=3600) for _ in range(4)] == [1, 2, 3, 4]
    assert limits.count("reports", "192.0.2.1") == 4
    assert limits.count("reports", "192.0.2.1") == 4


def test_each_scope_and_each_client_counts_apart(backend):
    limits.hit("reports", "192.0.2.1", window=3600)
    limits.hit("reports", "192.0.2.1", window=3600)
    assert limits.hit("reports", "192.0.2.2", window=3600) == 1
    assert limits.hit("links", "192.0.2.1", window=3600) == 1
    assert limits.count("reports", "192.0.2.1") == 2


def test_the_database_cache_holds_no_address(db):
    limits.hit("reports", "192.0.2.1", window=3600)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key, value FROM {TABLE}")  # noqa: S608 -- a fixed name
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert "192.0.2.1" not in rows[0][0] and "192.0.2.1" not in rows[0][1]
    assert rows[0][0].endswith(key("reports", "192.0.2.1"))


def test_redis_holds_no_address(redis_limits):
    client, prefix = redis_limits
    limits.hit("links", "a-link-token", window=3600)
    (name,) = [name.decode() for name in client.scan_iter(match=f"{prefix}:*")]
    assert "a-link-token" not in name and name.endswith(key("links", "a-link-token"))


def stored_expiry(name: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT expires FROM {TABLE} WHERE cache_key LIKE %s", [f"%{name}"])  # noqa: S608
        return cursor.fetchone()[0]


def test_in_the_database_a_window_keeps_its_end_while_requests_come(db):
    """Django's own DatabaseCache.incr writes the count back with the cache's default expiry (300 s):
    a window of an hour would end five minutes after the last request, or never."""
    limits.hit("reports", "192.0.2.1", window=3600)
    first = stored_expiry(key("reports", "192.0.2.1"))
    for _ in range(3):
        limits.hit("reports", "192.0.2.1", window=3600)
    assert stored_expiry(key("reports", "192.0.2.1")) == first


def test_in_redis_a_window_keeps_its_end_while_requests_come(redis_limits):
    client, prefix = redis_limits
    limits.hit("reports", "192.0.2.1", window=3600)
    (name,) = list(client.scan_iter(match=f"{prefix}:*"))
    client.expire(name, 5000)  # an end no hit would set
    limits.hit("reports", "192.0.2.1", window=3600)
    limits.hit("reports", "192.0.2.1", window=3600)
    assert 3600 < client.ttl(name) <= 5000


def test_in_the_database_a_window_that_ended_starts_again(db):
    for _ in range(3):
        limits.hit("reports", "192.0.2.1", window=3600)
    with connection.cursor() as cursor:  # as if the hour had passed
        ended = connection.ops.adapt_datetimefield_value(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
        cursor.execute(f"UPDATE {TABLE} SET expires = %s", [ended])  # noqa: S608 -- a fixed name
    assert limits.count("reports", "192.0.2.1") == 0
    assert limits.hit("reports", "192.0.2.1", window=3600) == 1
    assert limits.hit("reports", "192.0.2.1", window=3600) == 2


def test_in_redis_a_window_that_ended_starts_again_with_an_end(redis_limits):
    client, prefix = redis_limits
    for _ in range(3):
        limits.hit("reports", "192.0.2.1", window=3600)
    (name,) = list(client.scan_iter(match=f"{prefix}:*"))
    client.delete(name)  # as Redis does when the hour has passed
    assert limits.hit("reports", "192.0.2.1", window=3600) == 1
    assert 0 < client.ttl(name) <= 3600


# ---------------------------------------------------------------- several processes at once

COUNTER = """
import os, sys, time
import django
django.setup()
from recoverybridge import limits
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
print(" ".join(str(limits.hit("together", "one", window=3600)) for _ in range(int(sys.argv[2]))))
"""
PROCESSES = 4
HITS = 150


def count_together(env: dict[str, str], tmp_path: Path) -> list[int]:
    """PROCESSES processes, released at once, each counting HITS times: every count they got."""
    go = tmp_path / "go"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": str(ROOT / "src"),
        "DEBUG": "0",
        "DATABASE_CONN_MAX_AGE": "0",
        **env,
    }
    command = [sys.executable, "-c", COUNTER, str(go), str(HITS)]
    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(PROCESSES)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    go.touch()
    counts: list[int] = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        counts += [int(n) for n in out.split()]
    return counts


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_processes_counting_at_once_each_get_their_own_count_in_the_database(tmp_path):
    """Django's own DatabaseCache.incr reads and writes back: two processes get the same count."""
    env = {"DATABASE_URL": database_url(tmp_path), "REDIS_URL": "", "SECRET_KEY": "counting-test"}
    counts = count_together(env, tmp_path)
    assert sorted(counts) == list(range(1, PROCESSES * HITS + 1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_processes_counting_at_once_each_get_their_own_count_in_redis(tmp_path):
    if not redis_answers():
        pytest.skip(NO_REDIS)
    secret = f"counting-test-{uuid.uuid4().hex}"  # a key of this run's own
    env = {"DATABASE_URL": database_url(tmp_path), "REDIS_URL": REDIS_URL, "SECRET_KEY": secret}
    try:
        counts = count_together(env, tmp_path)
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        client.delete("rb:1:together:" + hashlib.sha256(f"{secret}:one".encode()).hexdigest())
        client.close()
    assert sorted(counts) == list(range(1, PROCESSES * HITS + 1))
