"""The WSGI app freezes what it loads at start-up out of the garbage collector, views included."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc
import recoverybridge.wsgi
from recoverybridge.directory import views

# Frozen objects are in the permanent generation, which gc.get_objects() does not list.
print(any(obj is views.search for obj in gc.get_objects()))
"""


def test_views_are_loaded_before_the_freeze_so_full_collections_skip_them(collected_static):
    env = {
        "STATIC_ROOT": str(collected_static),
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "SECRET_KEY": "test-only-not-secret",
        "DEBUG": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    found = subprocess.run(  # noqa: S603 -- this interpreter with a fixed script
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == "False"
