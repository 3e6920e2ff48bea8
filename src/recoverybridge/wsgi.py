import gc
import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from recoverybridge.operations.checks import COLLECTED

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to start on the ones that would break every page.
_errors = [
    message
    for message in checks.run_checks(tags=[COLLECTED], include_deployment_checks=True)
    if message.is_serious()
]
if _errors:
    raise ImproperlyConfigured("\n".join(f"{error.msg} {error.hint}" for error in _errors))

# Everything loaded at start-up (modules, URL patterns, templates) is long-lived: freezing it
# keeps the collector's full passes to what requests allocate. A dense search builds tens of
# thousands of tuples, and those passes were the search page's tail latency (bench/pages.py:
# p95 about 110 ms -> 60 ms at 200k meetings, p50 unchanged). The URLconf is loaded first: it
# imports every view and what they import (the evaluation app's numerical libraries too), which
# otherwise happened on the first request, after the freeze, and left some 100,000 long-lived
# objects for every full pass to walk (about 50 ms each).
get_resolver().url_patterns  # noqa: B018 -- loading it is the point
gc.collect()
gc.freeze()
