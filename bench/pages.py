"""The search page at 200k meetings: server time, page weight, and our approach against tsml-ui's.

    .venv/bin/python bench/pages.py [--meetings 200000] [--runs 200] [--database-url URL] [--server-only]

1. Builds (or reuses) a directory of N meetings with `generate_directory`: by default
   SQLite in var/bench/pages-N.sqlite3; with --database-url postgres://... a PostgreSQL
   database (created if missing, regenerated when it does not hold N meetings).
2. Server time: p50/p95/p99 of GET / (the full search page, in-process
   django.test.Client) for representative searches. Place lookups are cached
   by the page; the first, uncached lookup of each place is reported apart.
   Each timed run searches (the answers kept by directory/caching.py are
   forgotten first); then the same search repeated with a warm cache: asked
   again with its ETag (If-None-Match: a 304, no search) and asked again
   without one (the answer kept in the process), p50 and p95 of each.
3. Page weight: HTML of a results page + our CSS and JS + htmx (the list
   view), and + Leaflet (the map view), raw and gzip-compressed as whitenoise
   serves them. Map tiles are excluded (none are configured by default).
4. In one Chromium run against gunicorn (DEBUG off, collected static files) on the same
   database: time to first result on our page (navigation start to the first result in the DOM),
   and the tsml-ui approach: download the whole Meeting Guide feed of the same
   directory (/api/v1/feeds/meeting-guide.json), JSON.parse it and filter it in
   JavaScript for the same search; its size and time. Then "Near me, starting soon" on a
   375 px page with the position in London: from the tap to the first result, and the same
   search opened again with a warm cache (from the browser's cache or a 304: no search).

Prints a Markdown section for docs/benchmarks.md.
"""

import argparse
import gzip
import importlib
import importlib.util
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC = ROOT / "src" / "recoverybridge" / "static"
LIST_ASSETS = ["css/site.css", "js/site.js", "vendor/htmx/htmx.min.js"]
MAP_ASSETS = [*LIST_ASSETS, "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build(meetings: int, database_url: str, env: dict[str, str]) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        fresh = not database.exists()
        database.parent.mkdir(parents=True, exist_ok=True)
    else:
        ensure_postgres_database(database_url)
        fresh = False
    # A directory built before a migration (a new index) gets it, with fresh statistics.
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    if not database_url.startswith("sqlite:///"):
        fresh = postgres_meetings(database_url) != meetings
    if not fresh:
        return
    print(f"building {meetings:,} meetings in {database_url} ...", file=sys.stderr)
    subprocess.run(
        [*manage, "generate_directory", "--meetings", str(meetings), "--seed", "7"], env=env, check=True
    )


def ensure_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def postgres_meetings(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM directory_meeting").fetchone()
        return int(row[0]) if row else 0


def searches() -> list[tuple[str, dict[str, str]]]:
    return [
        ("city", {"where": "London"}),
        ("city + weekday + evening", {"where": "Chicago", "when": "3", "time": "evening"}),
        ("city + in person + women", {"where": "New York", "mode": "in_person", "attribute": "women"}),
        ("city + online + MOUD", {"where": "Sydney", "mode": "online", "moud": "on"}),
        ("starting soon, online", {"when": "now", "mode": "online"}),
        ("postcode-less region + secular", {"where": "Madrid", "approach": "secular"}),
        # No place and no time window: the "Which group is for me?" quick links and "online, anywhere".
        ("welcomes people on MOUD, anywhere", {"moud": "on"}),
        ("online, anywhere", {"mode": "online"}),
        ("12-step, anywhere", {"approach": "twelve-step"}),
    ]


def has_caching() -> bool:
    return importlib.util.find_spec("recoverybridge.directory.caching") is not None


def server_times(runs: int) -> tuple[list[tuple[str, float, float, float, float, int]], str]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    import recoverybridge.wsgi  # noqa: F401  -- start up as the production server does (gc.freeze)
    from recoverybridge.directory import queries

    # Answers kept per process (directory/caching.py; the getattr measures commits from before it).
    caching = importlib.import_module("recoverybridge.directory.caching") if has_caching() else None
    forget_kept_answers = getattr(caching, "forget_kept_answers", lambda: None)

    setup_test_environment()  # lets the test client's host in
    # Hashed static names need collectstatic; the page's HTML is the same size either way.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    client = Client()
    rows = []
    sample_html = ""
    for label, query in searches():
        query = {**query, "tz": "America/New_York"}
        cache.clear()
        # A search with no place keeps its counts per process (queries._reused_wide_counts); the
        # getattr lets this script measure commits from before that too.
        getattr(queries, "forget_kept_counts", lambda: None)()
        started = time.perf_counter()
        response = client.get("/", query)
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (label, response.status_code, response.content[:500])
        timings = []
        for _ in range(runs):
            forget_kept_answers()
            started = time.perf_counter()
            response = client.get("/", query)
            timings.append((time.perf_counter() - started) * 1000)
        if label == "city":
            sample_html = response.content.decode()
        count = response.content.decode().count('class="result"')
        warm = []
        kept = []
        etag = response.get("ETag")
        for _ in range(runs if etag else 0):
            started = time.perf_counter()
            again = client.get("/", query, headers={"If-None-Match": etag})
            elapsed = (time.perf_counter() - started) * 1000
            if again.status_code == 200:  # a new minute: answers that count from now changed
                etag = again["ETag"]
                continue
            assert again.status_code == 304, (label, again.status_code)
            warm.append(elapsed)
            started = time.perf_counter()
            again = client.get("/", query)
            kept.append((time.perf_counter() - started) * 1000)
            assert again.status_code == 200, label
        rows.append(
            (
                label,
                cold,
                statistics.median(timings),
                percentile(timings, 0.95),
                percentile(timings, 0.99),
                count,
                *(
                    (
                        statistics.median(warm),
                        percentile(warm, 0.95),
                        statistics.median(kept),
                        percentile(kept, 0.95),
                    )
                    if warm
                    else (math.nan,) * 4
                ),
            )
        )
    return rows, sample_html


def weight(html: str, assets: list[str]) -> tuple[int, int]:
    raw = len(html.encode())
    packed = len(gzip.compress(html.encode()))
    for asset in assets:
        data = (STATIC / asset).read_bytes()
        raw += len(data)
        packed += len(gzip.compress(data))
    return raw, packed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TSML_FILTER = """
async ([url, lat, lon, radiusKm, day]) => {
  const started = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  const downloaded = performance.now();
  const meetings = JSON.parse(text);
  const parsed = performance.now();
  const rad = (d) => d * Math.PI / 180;
  const km = (a, b, c, d) => {
    const h = Math.sin(rad(c - a) / 2) ** 2 + Math.cos(rad(a)) * Math.cos(rad(c)) * Math.sin(rad(d - b) / 2) ** 2;
    return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
  };
  const found = meetings.filter((m) => {
    if (m.day !== day && !(Array.isArray(m.day) && m.day.includes(day))) return false;
    if (m.latitude === undefined || m.latitude === null) return false;
    return km(lat, lon, Number(m.latitude), Number(m.longitude)) <= radiusKm;
  });
  found.sort((a, b) => String(a.time).localeCompare(String(b.time)));
  const done = performance.now();
  return {bytes: text.length, count: meetings.length, found: found.length,
          download_ms: downloaded - started, parse_ms: parsed - downloaded,
          filter_ms: done - parsed, total_ms: done - started};
}
"""


NEAR_ME_LONDON = {"latitude": 51.5072, "longitude": -0.1276}


def start_production_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """gunicorn with DEBUG off and the collected, hashed static files, as production runs it."""
    port = free_port()
    server_env = {**env, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=server_env,
        check=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "recoverybridge.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urlopen(base + "/which-group/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    return server, base


def near_me_runs(browser, base: str, runs: int = 5) -> dict[str, float]:
    """ "Near me, starting soon" on a phone: from the tap to the first result (or the answer that
    there is none) on screen; then the same search opened again with a warm cache."""
    taps, reloads, counts = [], [], set()
    revalidated: list[bool] = []
    transfers: list[int] = []
    for _ in range(runs):
        context = browser.new_context(
            viewport={"width": 375, "height": 740},
            geolocation=NEAR_ME_LONDON,
            permissions=["geolocation"],
            timezone_id="Europe/London",
        )
        page = context.new_page()
        page.goto(base + "/")
        button = page.locator("#near-me")
        button.wait_for(state="visible")
        page.evaluate("window.__tapped = performance.now()")
        button.click()
        page.wait_for_selector("#results li.result, #results .empty")
        taps.append(page.evaluate("performance.now() - window.__tapped"))
        counts.add(page.locator("#results li.result").count())
        # The same search again, as a visitor coming back to it (a link, the address bar): the
        # browser may answer from its cache (max-age) or revalidate with the ETag (a 304).
        url = page.url
        page.goto(base + "/which-group/")
        page.goto(url, wait_until="commit")
        page.wait_for_selector("#results li.result, #results .empty")
        reloads.append(page.evaluate("performance.now()"))
        entry = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.transferSize, n.encodedBodySize]; })()"
        )
        # transferSize 0: from the browser's cache; under the body's size: headers only (a 304).
        revalidated.append(entry[0] < entry[1])
        transfers.append(entry[0])
        context.close()
    return {
        "near_me_tap_ms": statistics.median(taps),
        "near_me_reload_ms": statistics.median(reloads),
        "near_me_results": ",".join(str(c) for c in sorted(counts)),
        "near_me_revalidated": sum(revalidated),
        "near_me_reload_transfer": statistics.median(transfers),
    }


def browser_run(env: dict[str, str]) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    server, base = start_production_server(env)
    try:
        query = urlencode({"where": "London", "when": "1", "tz": "Europe/London"})
        lat, lon = _place("London")
        out: dict[str, float] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{base}/?{query}")  # warm the server's place cache and the browser's assets
            ours = []
            for _ in range(5):
                page.goto(f"{base}/?{query}", wait_until="commit")
                page.wait_for_selector("li.result")
                ours.append(page.evaluate("performance.now()"))
            out["ours_first_result_ms"] = statistics.median(ours)
            out["ours_transfer_bytes"] = page.evaluate(
                "performance.getEntriesByType('navigation')[0].encodedBodySize"
                " + performance.getEntriesByType('resource').reduce((s, e) => s + e.encodedBodySize, 0)"
            )
            page.goto(f"{base}/which-group/")
            tsml = page.evaluate(TSML_FILTER, ["/api/v1/feeds/meeting-guide.json", lat, lon, 25, 1])
            out.update({f"tsml_{key}": value for key, value in tsml.items()})
            out.update(near_me_runs(browser, base))
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


def _place(name: str) -> tuple[float, float]:
    from recoverybridge.directory.places import find_place

    place = find_place(name)
    assert place is not None
    return place.latitude, place.longitude


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", help="default: SQLite in var/bench/pages-N.sqlite3")
    parser.add_argument(
        "--server-only", action="store_true", help="server times only: no page weight or Chromium run"
    )
    parser.add_argument("--browser-only", action="store_true", help="the Chromium runs only")
    args = parser.parse_args()

    database_url = (
        args.database_url or f"sqlite:///{ROOT / 'var' / 'bench' / f'pages-{args.meetings}.sqlite3'}"
    )
    vendor = "SQLite" if database_url.startswith("sqlite:") else "PostgreSQL"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only"),
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    build(args.meetings, database_url, env)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")})

    if args.browser_only:
        import django

        django.setup()
        print_browser(browser_run(env))
        return
    load = os.getloadavg()[0]
    rows, html = server_times(args.runs)
    print(
        f"### Search page at {args.meetings:,} meetings ({vendor}, in-process client, {args.runs} runs each;"
        f" load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)\n"
    )
    print(
        "| search | first request (place, counts not cached) ms | p50 ms | p95 ms | p99 ms | results on page"
        " | again with its ETag (304) p50 / p95 ms | again, kept answer p50 / p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, cold, p50, p95, p99, count, warm50, warm95, kept50, kept95 in rows:
        print(
            f"| {label} | {cold:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {count}"
            f" | {warm50:.1f} / {warm95:.1f} | {kept50:.1f} / {kept95:.1f} |"
        )
    print()
    if args.server_only:
        return
    list_raw, list_gz = weight(html, LIST_ASSETS)
    map_raw, map_gz = weight(html, MAP_ASSETS)
    browser = browser_run(env)

    print("| page weight (HTML + CSS + JS, no map tiles) | raw KB | gzip KB |")
    print("|---|---|---|")
    print(f"| list view | {list_raw / 1024:.0f} | {list_gz / 1024:.0f} |")
    print(f"| map view (+ Leaflet) | {map_raw / 1024:.0f} | {map_gz / 1024:.0f} |")
    print()
    print_browser(browser)


def print_browser(browser: dict) -> None:
    print(
        "| in Chromium, same directory, 'London, Monday, 25 km' | bytes downloaded | time to first result ms |"
    )
    print("|---|---|---|")
    print(
        f"| ours: server search, HTML page | {browser['ours_transfer_bytes'] / 1024:.0f} KB"
        f" | {browser['ours_first_result_ms']:.0f} |"
    )
    print(
        f"| tsml-ui approach: whole Meeting Guide feed ({browser['tsml_count']:,} meetings), parse, filter"
        f" ({browser['tsml_found']} found) | {browser['tsml_bytes'] / 1024 / 1024:.1f} MB"
        f" | {browser['tsml_total_ms']:.0f} (download {browser['tsml_download_ms']:.0f},"
        f" JSON.parse {browser['tsml_parse_ms']:.0f}, filter {browser['tsml_filter_ms']:.0f}) |"
    )
    print()
    print("| in Chromium at 375 px, geolocation in London | time ms | answers |")
    print("|---|---|---|")
    print(
        f"| 'Near me, starting soon': from the tap to the first result on screen (median of 5)"
        f" | {browser['near_me_tap_ms']:.0f} | {browser['near_me_results']} results on the page |"
    )
    print(
        f"| the same search again, warm cache: navigation to the first result (median of 5)"
        f" | {browser['near_me_reload_ms']:.0f} | {browser['near_me_revalidated']} of 5 from the cache or"
        f" a 304: median {browser['near_me_reload_transfer']:.0f} bytes crossed the network |"
    )


if __name__ == "__main__":
    main()
