"""Which volunteer members to offer a person who asked for contact with a member: a pure
function of the request and the volunteers' offers, so that it can be tested on its own
(tests/volunteers/test_matching.py, with hypothesis) and measured (bench/volunteers.py).

Never offered: a volunteer who is not active, who is at capacity, or who is outside what the
person stated: their language, the gender they want to meet (women or men only), welcoming
people on MOUD when they are on it, in person within the volunteer's reach or online as they
prefer, and a time the volunteer can meet when the person named times.

The fellowship and approach the person chose are not filters but the strongest part of the
fit: information parity (DESIGN.md) asks that every kind of group reachable be shown, so when
volunteers of at least two approaches are within reach, at least two approaches are offered.
The person chooses; the ranking only suggests.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Ranking weights: the group they chose first, then being near, free when they are, not busy.
SAME_FELLOWSHIP = 40.0
SAME_APPROACH = 25.0
NEAR = 20.0
TIMES = 10.0
ONLINE = 5.0
SPARE = 10.0
EARTH_KM = 6371.0

IN_PERSON = "in_person"
ONLINE_ONLY = "online"
EITHER = "either"


@dataclass(frozen=True)
class Offer:
    """What a volunteer offers, as the matcher reads it."""

    id: int
    active: bool
    capacity: int
    load: int  # open introductions now
    fellowships: frozenset[int]
    approaches: frozenset[str]
    languages: frozenset[str]
    gender: str  # "woman", "man", "another" or ""
    moud_welcoming: bool
    latitude: float | None
    longitude: float | None
    reach_km: float
    online: bool
    availability: frozenset[str] = frozenset()  # empty: any time


@dataclass(frozen=True)
class Need:
    """What the person asked for."""

    language: str
    fellowship: int | None = None
    approaches: tuple[str, ...] = ()  # in order of preference
    gender: str = "any"  # "any", "women" or "men" (the group gender they asked for)
    on_moud: bool = False
    attendance: str = EITHER
    latitude: float | None = None
    longitude: float | None = None
    times: frozenset[str] = frozenset()  # empty: any time


@dataclass(frozen=True)
class Reason:
    code: str  # see volunteers.queries.REASONS for the words
    value: float | str = ""


@dataclass(frozen=True)
class Match:
    offer: Offer
    score: float
    reasons: tuple[Reason, ...] = field(default=())
    distance_km: float | None = None

    @property
    def approach(self) -> str:
        return min(self.offer.approaches) if self.offer.approaches else ""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _reach(need: Need, offer: Offer) -> tuple[bool, float | None, bool]:
    """(within reach, distance in km when in person, by meeting online)."""
    distance = None
    if None not in (need.latitude, need.longitude, offer.latitude, offer.longitude):
        distance = distance_km(need.latitude, need.longitude, offer.latitude, offer.longitude)  # type: ignore[arg-type]
    near = distance is not None and distance <= offer.reach_km
    if need.attendance == IN_PERSON:
        return near, distance, False
    if need.attendance == ONLINE_ONLY:
        return offer.online, None, offer.online
    return near or offer.online, distance if near else None, offer.online and not near


def eligible(need: Need, offer: Offer) -> bool:
    """Whether the volunteer may be offered at all (the hard rules above)."""
    return _fit(need, offer) is not None


def _fit(need: Need, offer: Offer) -> Match | None:
    if not offer.active or offer.load >= offer.capacity:
        return None
    if need.language not in offer.languages:
        return None
    if need.gender == "women" and offer.gender != "woman":
        return None
    if need.gender == "men" and offer.gender != "man":
        return None
    if need.on_moud and not offer.moud_welcoming:
        return None
    if need.times and offer.availability and not (need.times & offer.availability):
        return None
    reachable, distance, by_video = _reach(need, offer)
    if not reachable:
        return None
    score = 0.0
    reasons = [Reason("language", need.language)]
    if need.fellowship is not None and need.fellowship in offer.fellowships:
        score += SAME_FELLOWSHIP
        reasons.append(Reason("fellowship"))
    if need.approaches and offer.approaches & set(need.approaches):
        # The first approach they named counts most.
        best = min(need.approaches.index(a) for a in offer.approaches if a in need.approaches)
        score += SAME_APPROACH / (1 + best)
        reasons.append(Reason("approach"))
    if need.on_moud:
        reasons.append(Reason("moud"))
    if need.gender in ("women", "men"):
        reasons.append(Reason("gender"))
    if distance is not None:
        score += NEAR * (1 - distance / max(offer.reach_km, 1))
        reasons.append(Reason("near", round(distance, 1)))
    if by_video:
        score += ONLINE
        reasons.append(Reason("online"))
    if need.times and offer.availability:
        score += TIMES
        reasons.append(Reason("times"))
    spare = (offer.capacity - offer.load) / offer.capacity
    score += SPARE * spare
    if offer.load == 0:
        reasons.append(Reason("free"))
    return Match(offer, round(score, 3), tuple(reasons), distance)


def rank(need: Need, offers: Iterable[Offer], limit: int = 5) -> list[Match]:
    """The best `limit` volunteers for the need, best first, each with the reasons; with at
    least two approaches among them whenever the eligible volunteers have two (and limit >= 2)."""
    fits = [m for m in (_fit(need, offer) for offer in offers) if m is not None]
    fits.sort(key=lambda m: (-m.score, m.offer.id))
    chosen = fits[:limit]
    if limit >= 2 and len({m.approach for m in chosen}) < 2:
        shown = {m.approach for m in chosen}
        other = next((m for m in fits[limit:] if m.approach not in shown), None)
        if other is not None:
            chosen[-1] = other
    return chosen


def approaches_within_reach(need: Need, offers: Sequence[Offer]) -> set[str]:
    """The approaches of every eligible volunteer (what information parity asks be shown)."""
    return {m.approach for m in (_fit(need, offer) for offer in offers) if m is not None}
