"""Place lookup for the search page: "Lewes", "19958" or "Sussex" -> a point to search around.

Matched only against locations the directory already knows (postal code,
city, region path, formatted address), so no geocoding service is called. The
point is the median of the matching coordinates: robust to a stray record
with a wrong position. Answers are cached, since the same few places are
asked for again and again and a text match scans the location table.
"""

import hashlib
from dataclasses import dataclass
from statistics import median

from django.core.cache import cache
from django.db.models import Q

from recoverybridge.directory.models import Location

MAX_SAMPLES = 500
CACHE_SECONDS = 600
MAX_QUERY_LENGTH = 120


@dataclass(frozen=True)
class Place:
    label: str
    latitude: float
    longitude: float


def _located() -> "Q":
    return Q(latitude__isnull=False, longitude__isnull=False)


def _points(query: Q) -> list[tuple[float, float, str]]:
    rows = Location.objects.filter(_located(), query).values_list("latitude", "longitude", "city")
    return [(lat, lon, city) for lat, lon, city in rows[:MAX_SAMPLES] if lat is not None and lon is not None]


def find_place(text: str) -> Place | None:
    """The best match for `text`, most specific kind of match first; None when nothing matches."""
    wanted = " ".join(text.split())[:MAX_QUERY_LENGTH]
    if not wanted:
        return None
    key = "place:" + hashlib.sha256(wanted.casefold().encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    place = _lookup(wanted)
    cache.set(key, place or False, CACHE_SECONDS)
    return place


def region_query(name: str, prefix: str = "") -> Q:
    """Locations in the region `name` at any level of their path ("Sussex" in "England > Sussex > Lewes"),
    or under that path when `name` is one ("England > Sussex"). `prefix` reaches the path from a
    related model ("location__")."""
    path = f"{prefix}region_path"
    return (
        Q(**{f"{path}__iexact": name})
        | Q(**{f"{path}__iendswith": f"> {name}"})
        | Q(**{f"{path}__icontains": f"> {name} >"})
        | Q(**{f"{path}__istartswith": f"{name} >"})
    )


def _lookup(wanted: str) -> Place | None:
    compact = wanted.replace(" ", "")
    attempts = [
        Q(postal_code__iexact=wanted) | Q(postal_code__iexact=compact),
        Q(city__iexact=wanted),
        region_query(wanted),
        Q(formatted_address__icontains=wanted),
    ]
    for query in attempts:
        points = _points(query)
        if points:
            cities = [city for _, _, city in points if city]
            label = wanted if not cities else max(set(cities), key=cities.count)
            if cities and label.casefold() != wanted.casefold():
                label = f"{wanted} ({label})"
            return Place(
                label=label,
                latitude=median(lat for lat, _, _ in points),
                longitude=median(lon for _, lon, _ in points),
            )
    return None
