"""The matcher (volunteers.matching.rank), a pure function: properties that hold for any
request and any set of volunteers, and the reasons it gives."""

from hypothesis import given, settings
from hypothesis import strategies as st

from recoverybridge.volunteers import matching
from recoverybridge.volunteers.matching import Need, Offer, distance_km, eligible, rank

APPROACHES = ["twelve-step", "secular", "faith-based", "medication-assisted"]
LANGUAGES = ["en", "es", "pl"]
PARTS = ["morning", "afternoon", "evening", "weekend"]
# Around Lewes: a few km to a few hundred apart.
lat = st.floats(50.0, 52.0)
lon = st.floats(-1.0, 1.0)


@st.composite
def offers(draw, ident: int) -> Offer:
    capacity = draw(st.integers(1, 3))
    placed = draw(st.booleans())
    return Offer(
        id=ident,
        active=draw(st.booleans()),
        capacity=capacity,
        load=draw(st.integers(0, capacity + 1)),
        fellowships=frozenset(draw(st.sets(st.integers(1, 4), max_size=2))),
        approaches=frozenset(draw(st.sets(st.sampled_from(APPROACHES), min_size=1, max_size=2))),
        languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))),
        gender=draw(st.sampled_from(["woman", "man", "another", ""])),
        moud_welcoming=draw(st.booleans()),
        latitude=draw(lat) if placed else None,
        longitude=draw(lon) if placed else None,
        reach_km=draw(st.sampled_from([5.0, 20.0, 80.0])),
        online=draw(st.booleans()),
        availability=frozenset(draw(st.sets(st.sampled_from(PARTS), max_size=3))),
    )


@st.composite
def pools(draw) -> list[Offer]:
    size = draw(st.integers(0, 25))
    return [draw(offers(i)) for i in range(1, size + 1)]


needs = st.builds(
    Need,
    language=st.sampled_from(LANGUAGES),
    fellowship=st.one_of(st.none(), st.integers(1, 4)),
    approaches=st.lists(st.sampled_from(APPROACHES), max_size=2, unique=True).map(tuple),
    gender=st.sampled_from(["any", "women", "men"]),
    on_moud=st.booleans(),
    attendance=st.sampled_from([matching.IN_PERSON, matching.ONLINE_ONLY, matching.EITHER]),
    latitude=lat,
    longitude=lon,
    times=st.sets(st.sampled_from(PARTS), max_size=2).map(frozenset),
)


def within_stated_preferences(need: Need, offer: Offer) -> bool:
    """The rules written out again, independently of the matcher's code."""
    if need.language not in offer.languages:
        return False
    if (need.gender == "women" and offer.gender != "woman") or (
        need.gender == "men" and offer.gender != "man"
    ):
        return False
    if need.on_moud and not offer.moud_welcoming:
        return False
    if need.times and offer.availability and not need.times & offer.availability:
        return False
    near = (
        offer.latitude is not None
        and distance_km(need.latitude, need.longitude, offer.latitude, offer.longitude) <= offer.reach_km
    )
    if need.attendance == matching.IN_PERSON:
        return near
    if need.attendance == matching.ONLINE_ONLY:
        return offer.online
    return near or offer.online


@settings(max_examples=120, deadline=None)
@given(need=needs, pool=pools(), limit=st.integers(1, 6))
def test_never_paused_over_capacity_or_outside_their_preferences(need, pool, limit):
    for found in rank(need, pool, limit=limit):
        offer = found.offer
        assert offer.active, offer
        assert offer.load < offer.capacity, offer
        assert within_stated_preferences(need, offer), (need, offer)


@settings(max_examples=120, deadline=None)
@given(need=needs, pool=pools(), limit=st.integers(2, 6))
def test_two_approaches_are_offered_whenever_two_are_within_reach(need, pool, limit):
    reachable = [o for o in pool if o.active and o.load < o.capacity and within_stated_preferences(need, o)]
    found = rank(need, pool, limit=limit)
    assert len(found) == min(limit, len(reachable))
    kinds_within_reach = {min(o.approaches) for o in reachable}
    if len(kinds_within_reach) >= 2:
        assert len({m.approach for m in found}) >= 2, (kinds_within_reach, found)


@settings(max_examples=80, deadline=None)
@given(need=needs, pool=pools())
def test_the_ranking_is_by_score_and_stable(need, pool):
    found = rank(need, pool, limit=len(pool) + 1)
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert rank(need, list(reversed(pool)), limit=len(pool) + 1) == found
    assert all(eligible(need, m.offer) for m in found)
    assert all(m.reasons and m.reasons[0].code == "language" for m in found)


def offer(ident: int, **fields) -> Offer:
    defaults = dict(
        id=ident,
        active=True,
        capacity=2,
        load=0,
        fellowships=frozenset({1}),
        approaches=frozenset({"twelve-step"}),
        languages=frozenset({"en"}),
        gender="woman",
        moud_welcoming=True,
        latitude=50.87,
        longitude=0.01,
        reach_km=20.0,
        online=False,
    )
    defaults.update(fields)
    return Offer(**defaults)


def test_the_group_they_chose_ranks_first_and_the_reasons_say_why():
    need = Need(language="en", fellowship=2, approaches=("secular",), latitude=50.873, longitude=0.009)
    same_group = offer(1, fellowships=frozenset({2}), approaches=frozenset({"secular"}), latitude=50.95)
    nearer = offer(2)
    first, second = rank(need, [nearer, same_group])
    assert first.offer.id == 1
    assert {r.code for r in first.reasons} >= {"language", "fellowship", "approach", "near", "free"}
    assert second.offer.id == 2 and "fellowship" not in {r.code for r in second.reasons}


def test_information_parity_swaps_in_another_approach_when_the_top_are_all_alike():
    need = Need(language="en", fellowship=1, approaches=("twelve-step",), latitude=50.873, longitude=0.009)
    alike = [offer(i) for i in range(1, 6)]
    secular = offer(9, fellowships=frozenset({3}), approaches=frozenset({"secular"}), load=1)
    found = rank(need, [*alike, secular], limit=3)
    assert [m.offer.id for m in found] == [1, 2, 9]


def test_a_busy_volunteer_ranks_below_a_free_one():
    need = Need(language="en", latitude=50.87, longitude=0.01)
    busy, free = offer(1, load=1), offer(2)
    assert [m.offer.id for m in rank(need, [busy, free])] == [2, 1]
