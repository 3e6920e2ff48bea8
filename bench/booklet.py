"""Build time of a printed booklet of about 2,000 meetings, and what serving it costs.

    .venv/bin/python bench/booklet.py [--meetings 2000] [--directory 30000] [--runs 2]
    DATABASE_URL=postgres://... .venv/bin/python bench/booklet.py

Builds the synthetic directory (`generate_directory`, the demo's cities and fellowship mix) in a
fresh database (var/bench/booklet.sqlite3 without DATABASE_URL), picks the town whose meeting
count is nearest `--meetings`, defines its booklet as an editor would, and times each step of a
build (reading the area, composing the entries with their QR codes, WeasyPrint's layout of the
tagged PDF, writing it), regular and large print, English and Spanish. Then the download path:
the check that the stored PDF is current while the directory is unchanged, the same check after a
change elsewhere (the area's fingerprint read again), and a conditional request (304), through
Django's test client.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def pick_town(target: int) -> tuple[str, int]:
    from django.db.models import Count

    from recoverybridge.directory.models import Meeting

    counts = (
        Meeting.objects.exclude(location__city="")
        .values_list("location__city")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    city, n = min(counts, key=lambda row: abs(row[1] - target))
    return city, n


def timed(label: str, runs: int, step):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    print(f"  {label:<46} {statistics.median(times) * 1000:>9,.0f} ms (best {min(times) * 1000:,.0f})")
    return result


def build_once(booklet, runs: int) -> None:
    from django.utils import timezone, translation

    from recoverybridge.directory import booklets

    now = timezone.now()
    gathered = timed("read the area (4 queries) and fingerprint", runs, lambda: booklets.gather(booklet))
    locale = booklets.booklet_locale(booklet.language, gathered.rows)

    def compose() -> dict:
        with translation.override(locale):
            return booklets.compose(booklet, gathered, now)

    timed("compose entries with their QR codes", runs, compose)
    html = timed("compose and render the HTML", runs, lambda: booklets.render_html(booklet, gathered, now))
    from weasyprint import HTML

    document = timed(
        "WeasyPrint layout (PDF/UA-1, tagged)", runs, lambda: HTML(string=html).render(pdf_variant="pdf/ua-1")
    )
    pdf = timed("write the PDF", runs, lambda: document.write_pdf(pdf_variant="pdf/ua-1"))
    built = timed("whole build (booklets.build)", runs, lambda: booklets.build(booklet, now=now))
    print(f"  -> {built.meetings:,} meetings, {built.pages:,} pages, {len(pdf) / 1e6:.1f} MB")


def serving(booklet, runs: int) -> None:
    from django.test import Client

    from recoverybridge.directory import booklets
    from recoverybridge.directory.actions import booklets as actions
    from recoverybridge.directory.models import Meeting

    actions.rebuild(booklet.pk)
    booklet = booklets.booklet_by_id(booklet.pk)
    client = Client()
    url = f"/booklets/{booklet.slug}.pdf"
    print(f"Serving {url}")
    timed("freshness check, directory unchanged", runs * 10, lambda: booklets.freshness(booklet))
    response = timed("GET, current (stored PDF sent)", runs * 5, lambda: client.get(url))
    etag = response["ETag"]
    timed("conditional GET (304)", runs * 10, lambda: client.get(url, HTTP_IF_NONE_MATCH=etag))
    # A change elsewhere moves the token: the area's fingerprint is read again, once.
    outside = Meeting.objects.exclude(location__city=booklet.city).first()

    def changed_elsewhere():
        outside.save(update_fields=["updated_at"])
        return booklets.freshness(booklets.booklet_by_id(booklet.pk))

    check = timed("freshness check after a change elsewhere", runs * 5, changed_elsewhere)
    assert check.current, "a change outside the area must not make the booklet stale"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--directory", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from bench.page_database import fresh_page_database

    vendor = fresh_page_database("booklet")
    from django.contrib.auth.models import Group, Permission, User
    from django.core.management import call_command

    from recoverybridge.directory.actions import booklets as actions
    from recoverybridge.directory.generate import generate_directory

    call_command("load_vocabulary", verbosity=0)
    generate_directory(args.directory, args.seed)
    city, count = pick_town(args.meetings)
    editor = User.objects.create_user("bench-editor")
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    editor.groups.add(editors)
    print(f"{vendor}: directory of {args.directory:,} meetings; booklet of {city} ({count:,} meetings)")
    print(f"load average before: {load()}, {os.cpu_count()} cores")
    for language, large in (("en", False), ("en", True), ("es", False)):
        booklet = actions.define_booklet(
            editor,
            {
                "title": city,
                "area_kind": "city",
                "city": city,
                "language": language,
                "large_print": large,
                "paper": "A4",
            },
        )
        print(f"{booklet.slug}:")
        build_once(booklet, args.runs)
    serving(booklet, args.runs)
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
