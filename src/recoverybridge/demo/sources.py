"""Demo feed sources with schedules, so `make demo` shows the editors' feed sources page with
something in each state: the real shared feeds fetched on a daily schedule, one intergroup whose
latest feed dropped most of its meetings (held for an editor), one whose feed is broken.

The two made-up intergroups publish files under var/demo-feeds/ (a file source is read and
compared by its hash; the same pages serve http(s) sources)."""

import json
from pathlib import Path

from recoverybridge.directory.actions import sources
from recoverybridge.directory.models import FeedSource, Fellowship

HELD_SOURCE = "demo-lewes-intergroup"
BROKEN_SOURCE = "demo-rehoboth-district"
SERVICES_SOURCE = "demo-boston-services"
# Lewes, Delaware: a handful of halls around the town.
HALLS = [
    ("St Peter's Church", "2 Church St, Lewes, DE 19958, USA", 38.7746, -75.1393),
    ("Lewes Library", "111 Adams Ave, Lewes, DE 19958, USA", 38.7735, -75.1425),
    ("Fire Hall", "347 Savannah Rd, Lewes, DE 19958, USA", 38.7712, -75.1372),
]


def demo_feed(count: int) -> list[dict[str, object]]:
    return [
        {
            "slug": f"lewes-{number}",
            "name": f"Lewes Group {number + 1}",
            "day": number % 7,
            "time": f"{7 + number % 13:02d}:30",
            "types": ["O", "D"] if number % 2 else ["C", "B"],
            "location": HALLS[number % 3][0],
            "formatted_address": HALLS[number % 3][1],
            "latitude": HALLS[number % 3][2],
            "longitude": HALLS[number % 3][3],
        }
        for number in range(count)
    ]


def load_demo_sources(folder: Path, shared_names: list[str]) -> str:
    """Schedule and fetch the shared feeds (imported before), and make the two demo intergroups
    once. Returns a line saying what was done."""
    fetched = [
        sources.refresh_source(source)
        for source in FeedSource.objects.filter(name__in=shared_names).exclude(location="")
    ]
    if FeedSource.objects.filter(name=HELD_SOURCE).exists():
        return f"Feed sources: {len(fetched)} shared feeds checked; demo intergroups already there."
    folder.mkdir(parents=True, exist_ok=True)
    aa = Fellowship.objects.get(slug="aa")
    lewes_file = folder / "lewes-intergroup.json"
    lewes_file.write_text(json.dumps(demo_feed(24)))
    lewes = FeedSource.objects.create(
        name=HELD_SOURCE,
        format="meeting-guide",
        location=str(lewes_file),
        fellowship=aa,
        refresh_minutes=60,
        contact_email="webmaster@lewes-intergroup.example.org",
    )
    sources.refresh_source(lewes)
    # Their next export lost two thirds of the meetings: held for an editor, nothing changed.
    lewes_file.write_text(json.dumps(demo_feed(24)[:8]))
    held = sources.refresh_source(lewes)

    rehoboth_file = folder / "rehoboth-district.json"
    rehoboth_file.write_text("<html><body>Our new website is coming soon!</body></html>")
    rehoboth = FeedSource.objects.create(
        name=BROKEN_SOURCE,
        format="meeting-guide",
        location=str(rehoboth_file),
        fellowship=aa,
        refresh_minutes=360,
        contact_email="secretary@rehoboth-district.example.org",
    )
    broken = sources.refresh_source(rehoboth)

    # Services beyond meetings (treatment, detox, recovery housing...) from an HSDS file, for
    # /services/ and the referral wizard: made-up Boston-area services and one SMART group.
    services = FeedSource.objects.create(
        name=SERVICES_SOURCE,
        format="hsds",
        location=str(Path(__file__).with_name("recovery_services.json")),
        fellowship=Fellowship.objects.get(slug="smart"),
        refresh_minutes=0,
    )
    sources.refresh_source(services)
    return (
        f"Feed sources: {len(fetched)} shared feeds checked; {HELD_SOURCE}: "
        f"{held.get_outcome_display().lower()}; {BROKEN_SOURCE}: {broken.get_outcome_display().lower()} "
        "(see /editor/sources/); services near Boston at /services/."
    )
