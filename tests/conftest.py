import pytest


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production serves hashed names made by collectstatic; tests serve the source files as they are."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Spanish leaves Spanish active in the thread; each test starts from the default."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    """Text messages go to sms.outbox (django-sms's in-memory backend), emptied for each test, as
    pytest-django does for e-mail; a test of the Twilio backend points it at a local server."""
    import sms

    settings.SMS_BACKEND = "locmem"
    sms.outbox = []
    yield
    sms.outbox = []
