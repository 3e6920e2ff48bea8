"""RecoveryBridge. Importing the package pins the time zone database, so that every entry point
(gunicorn, manage.py, the task worker, the tests) reads the same one.

Python's `zoneinfo` looks in the system's zone files first and falls back to the `tzdata`
package only when they are missing. Hosts lag behind (a Debian 12 host had 2025b while the
pinned package had 2026f, and British Columbia's rules changed in between: Vancouver in December
2026 came out an hour wrong), so the search path is emptied and `tzdata`, pinned in
requirements/base.txt, is the only source.
"""

import zoneinfo

zoneinfo.reset_tzpath(to=())
zoneinfo.ZoneInfo.clear_cache()
