import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
application = get_wsgi_application()

# Everything loaded at start-up (modules, URL patterns, templates) is long-lived: freezing it
# keeps the collector's full passes to what requests allocate. A dense search builds tens of
# thousands of tuples, and those passes were the search page's tail latency (bench/pages.py:
# p95 about 110 ms -> 60 ms at 200k meetings, p50 unchanged).
gc.collect()
gc.freeze()
