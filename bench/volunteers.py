"""Matching introduction requests to volunteer members.

    .venv/bin/python bench/volunteers.py [--volunteers 10000] [--requests 1000] [--page-requests 100]
    DATABASE_URL=postgres://... .venv/bin/python bench/volunteers.py

Two measurements, on one seeded population of volunteers around ten cities (a fifth of them
online too, a tenth paused, most with one or two introductions open):
- the matcher alone (`volunteers.matching.rank`, a pure function): `--requests` requests, each
  ranked against every volunteer, p50/p95 per request and the total;
- what the worker's page reads (`volunteers.queries.suggestions`: the active volunteers with
  their load from the database, then the matcher) for `--page-requests` of those requests,
  p50/p95 and queries per request.
Without DATABASE_URL it uses a fresh SQLite file (var/bench/volunteers.sqlite3). Prints a
Markdown section for docs/benchmarks.md.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

CITIES = [
    (51.507, -0.128),
    (53.480, -2.242),
    (52.486, -1.890),
    (40.713, -74.006),
    (34.052, -118.244),
    (41.878, -87.630),
    (19.433, -99.133),
    (40.417, -3.704),
    (-34.604, -58.382),
    (43.651, -79.347),
]
APPROACHES = {
    "aa": "twelve-step",
    "na": "twelve-step",
    "smart": "secular",
    "lifering": "secular",
    "celebrate-recovery": "faith-based",
    "wellbriety": "indigenous",
    "mars": "medication-assisted",
    "recovery-dharma": "other",
}
LANGUAGES = ["en", "en", "en", "es", "es", "pl"]
PARTS = ["morning", "afternoon", "evening", "weekend"]


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def volunteer_fields(rng: random.Random) -> dict:
    lat, lon = rng.choice(CITIES)
    slugs = rng.sample(sorted(APPROACHES), rng.choice([1, 1, 2]))
    capacity = rng.choice([1, 2, 3])
    return {
        "slugs": slugs,
        "approaches": sorted({APPROACHES[s] for s in slugs}),
        "languages": sorted(set(rng.sample(LANGUAGES, 2))),
        "gender": rng.choice(["woman", "man", "another", ""]),
        "moud_welcoming": rng.random() < 0.6,
        "latitude": lat + rng.gauss(0, 0.15),
        "longitude": lon + rng.gauss(0, 0.15),
        "reach_km": rng.choice([5, 10, 20, 40]),
        "online": rng.random() < 0.2,
        "availability": rng.sample(PARTS, rng.choice([0, 1, 2, 3])),
        "capacity": capacity,
        "status": "paused" if rng.random() < 0.1 else "active",
        "load": rng.randrange(0, capacity + 1),
    }


def need_fields(rng: random.Random) -> dict:
    lat, lon = rng.choice(CITIES)
    slug = rng.choice(sorted(APPROACHES))
    return {
        "slug": slug,
        "language": rng.choice(LANGUAGES),
        "gender": rng.choice(["any", "any", "any", "women", "men"]),
        "on_moud": rng.random() < 0.3,
        "attendance": rng.choice(["either", "either", "in_person", "online"]),
        "latitude": lat + rng.gauss(0, 0.1),
        "longitude": lon + rng.gauss(0, 0.1),
        "times": frozenset(rng.sample(PARTS, rng.choice([0, 1, 2]))),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--page-requests", type=int, default=100)
    args = parser.parse_args()
    from bench.page_database import fresh_page_database

    vendor = fresh_page_database("volunteers")
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from tests.care_world import build_world

    from recoverybridge.care import actions as care
    from recoverybridge.care.models import ConsentPurpose, IntroductionRequest, ReferralTargetKind
    from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
    from recoverybridge.directory.vocabulary import load_vocabulary
    from recoverybridge.volunteers import matching, queries
    from recoverybridge.volunteers.models import Introduction, Volunteer

    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    fellowships = {f.slug: f for f in Fellowship.objects.filter(slug__in=APPROACHES)}
    rng = random.Random(15)
    population = [volunteer_fields(rng) for _ in range(args.volunteers)]
    wanted = [need_fields(rng) for _ in range(args.requests)]

    # 1. The matcher alone.
    offers = [
        matching.Offer(
            id=i,
            active=v["status"] == "active",
            capacity=v["capacity"],
            load=v["load"],
            fellowships=frozenset(fellowships[s].pk for s in v["slugs"]),
            approaches=frozenset(v["approaches"]),
            languages=frozenset(v["languages"]),
            gender=v["gender"],
            moud_welcoming=v["moud_welcoming"],
            latitude=v["latitude"],
            longitude=v["longitude"],
            reach_km=float(v["reach_km"]),
            online=v["online"],
            availability=frozenset(v["availability"]),
        )
        for i, v in enumerate(population, start=1)
    ]
    needs = [
        matching.Need(
            language=n["language"],
            fellowship=fellowships[n["slug"]].pk,
            approaches=(APPROACHES[n["slug"]],),
            gender=n["gender"],
            on_moud=n["on_moud"],
            attendance=n["attendance"],
            latitude=n["latitude"],
            longitude=n["longitude"],
            times=n["times"],
        )
        for n in wanted
    ]
    times, found, parity = [], 0, 0
    started = time.perf_counter()
    for need in needs:
        t = time.perf_counter()
        ranked = matching.rank(need, offers, limit=5)
        times.append((time.perf_counter() - t) * 1000)
        found += bool(ranked)
        parity += len({m.approach for m in ranked}) >= 2
    pure_total = time.perf_counter() - started
    pure = percentiles(times)

    # 2. The page's read, from the database.
    world = build_world()
    bob = world.bob
    users = User.objects.bulk_create(User(username=f"volunteer{i}") for i in range(len(population)))
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(
            user=user,
            organisation=world.bridge,
            first_name=f"V{i}",
            approaches=v["approaches"],
            languages=v["languages"],
            gender=v["gender"],
            moud_welcoming=v["moud_welcoming"],
            latitude=v["latitude"],
            longitude=v["longitude"],
            reach_km=v["reach_km"],
            online=v["online"],
            availability=v["availability"],
            capacity=v["capacity"],
            status=v["status"],
            joined_at=timezone.now(),
        )
        for i, (user, v) in enumerate(zip(users, population, strict=True))
    )
    Volunteer.fellowships.through.objects.bulk_create(
        Volunteer.fellowships.through(volunteer_id=volunteer.pk, fellowship_id=fellowships[s].pk)
        for volunteer, v in zip(volunteers, population, strict=True)
        for s in v["slugs"]
    )
    pat = world.pat
    care.give_consent(bob, pat, purpose=ConsentPurpose.INTRODUCTION)
    referral = care.create_referral(
        bob, pat, target_kind=ReferralTargetKind.FELLOWSHIP, fellowship=fellowships["aa"], introduction="meet"
    )
    consent = pat.consents.get(purpose=ConsentPurpose.INTRODUCTION)
    request = IntroductionRequest.objects.get(referral=referral)
    # The open introductions that make each volunteer's load (on the one request: load is a count).
    Introduction.objects.bulk_create(
        Introduction(
            request=request,
            volunteer=volunteer,
            consent=consent,
            chosen_name="x",
            language="en",
            channel="email",
            created_by=bob,
            created_at=timezone.now(),
            expires_at=timezone.now(),
            state="connected",
        )
        for volunteer, v in zip(volunteers, population, strict=True)
        for _ in range(v["load"])
    )
    page_times, counts = [], []
    for n in wanted[: args.page_requests]:
        pat.latitude, pat.longitude = n["latitude"], n["longitude"]
        pat.save(update_fields=["latitude", "longitude"])
        request.language, request.group_gender, request.on_moud = n["language"], n["gender"], n["on_moud"]
        request.attendance, request.fellowship = n["attendance"], fellowships[n["slug"]]
        request.approach = APPROACHES[n["slug"]]
        request.save()
        request.referral.person = pat
        with CaptureQueriesContext(connection) as queries_made:
            t = time.perf_counter()
            queries.suggestions(bob, request, times=n["times"])
            page_times.append((time.perf_counter() - t) * 1000)
        counts.append(len(queries_made))
    page = percentiles(page_times)

    print(f"## Matching volunteers ({vendor})\n")
    print(f"{args.volunteers:,} volunteers, {args.requests:,} requests.\n")
    print("| what | requests | p50 ms | p95 ms | total s | queries per request |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| matcher alone (`matching.rank`) | {args.requests:,} | {pure[0]:.1f} | {pure[1]:.1f} | {pure_total:.1f} | 0 |"
    )
    print(
        f"| the arrange page's read (`queries.suggestions`) | {args.page_requests:,} | {page[0]:.1f} | {page[1]:.1f} "
        f"| {sum(page_times) / 1000:.1f} | {max(counts)} |"
    )
    print(
        f"\n{found:,} of {args.requests:,} requests found at least one volunteer; {parity:,} were offered two approaches or more."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
