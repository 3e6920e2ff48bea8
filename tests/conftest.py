import pytest

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing():
    """Argon2id at its smallest costs (tests/hashers.py) whenever production hashes with Argon2
    first: each of the suite's passwords costs milliseconds instead of half a second. Production's
    choice is still what is tested (accounts/test_security.py); servers started as processes
    (gunicorn, manage.py) keep production's costs."""
    from django.conf import settings
    from django.test import override_settings

    if settings.PASSWORD_HASHERS[0] != ARGON2:
        yield
        return
    with override_settings(
        PASSWORD_HASHERS=["tests.hashers.QuickArgon2PasswordHasher", *settings.PASSWORD_HASHERS]
    ):
        yield


@pytest.fixture(autouse=True, scope="session")
def _quick_serialized_rollback():
    """Transactional tests get the migrated rows back in one INSERT per table (tests/restore.py)."""
    from tests import restore

    restore.install()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production serves hashed names made by collectstatic; tests serve the source files as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_limits(request, django_db_blocker):
    """Rate limits count in the "limits" cache, a database table: a test's transaction takes its
    counts away, but the flush after a transactional test (a live server, gunicorn) leaves the
    table alone, so its counts are emptied here for the next test."""
    yield
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.core.cache import caches

        with django_db_blocker.unblock():
            caches["limits"].clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Spanish leaves Spanish active in the thread; each test starts from the default."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_kept_public_answers():
    """Public answers are kept per process under the directory's version token, which a test's
    rollback restores: each test starts without the last test's answers."""
    from recoverybridge.directory.caching import forget_kept_answers

    forget_kept_answers()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """Static files collected as production collects them (manage.py collectstatic), once per
    run, into a folder of their own: production settings refuse to start without them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "0", "STATIC_ROOT": str(root)}
    manage = Path(__file__).resolve().parents[1] / "manage.py"
    subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
        [sys.executable, str(manage), "collectstatic", "--no-input", "-v0"], env=env, check=True
    )
    return root


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    """Text messages go to sms.outbox (django-sms's in-memory backend), emptied for each test, as
    pytest-django does for e-mail; a test of the Twilio backend points it at a local server."""
    import sms

    settings.SMS_BACKEND = "locmem"
    sms.outbox = []
    yield
    sms.outbox = []


def pytest_collection_modifyitems(config, items):
    """A transactional test that flushes without restoring (serialized_rollback) lets Django make
    the content types again, and the next restoring test then fails on them (an error that shows
    only in some orders of the suite): every transactional test here restores."""
    plain = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("django_db")) is not None
        and marker.kwargs.get("transaction")
        and not marker.kwargs.get("serialized_rollback")
    ]
    if plain:
        raise pytest.UsageError(f"mark these django_db(transaction=True, serialized_rollback=True): {plain}")
