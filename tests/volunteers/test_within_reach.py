"""The arrange page narrows the volunteers in the database before the matcher ranks them
(queries.within_reach): the narrowing never changes what the matcher offers."""

import random

from django.contrib.auth.models import User
from django.utils import timezone

from recoverybridge.volunteers import matching, queries
from recoverybridge.volunteers.models import Volunteer

PLACES = [(50.87, 0.01), (51.5, -0.13), (40.7, -74.0), (-33.9, 151.2), (64.1, 179.9), (64.1, -179.9)]


def test_narrowing_in_the_database_keeps_every_volunteer_the_matcher_would_offer(volunteers):
    rng = random.Random(15)
    bridge = volunteers.world.bridge
    for i in range(120):
        lat, lon = rng.choice(PLACES)
        Volunteer.objects.create(
            user=User.objects.create(username=f"v{i}"),
            organisation=bridge,
            first_name=f"V{i}",
            approaches=[rng.choice(["twelve-step", "secular", "faith-based"])],
            languages=rng.sample(["en", "es"], rng.choice([1, 2])),
            gender=rng.choice(["woman", "man", "another", ""]),
            moud_welcoming=rng.random() < 0.5,
            latitude=lat + rng.gauss(0, 0.2),
            longitude=max(-180, min(180, lon + rng.gauss(0, 0.2))),
            reach_km=rng.choice([5, 20, 60]),
            online=rng.random() < 0.2,
            capacity=rng.choice([1, 2]),
            status=rng.choice(["active", "active", "paused"]),
            joined_at=timezone.now(),
        )
    everyone = Volunteer.objects.restrict(volunteers.world.bob, "match")
    all_offers = queries.offers(everyone)
    narrower = 0
    for _ in range(60):
        lat, lon = rng.choice(PLACES)
        need = matching.Need(
            language=rng.choice(["en", "es"]),
            approaches=(rng.choice(["twelve-step", "secular"]),),
            gender=rng.choice(["any", "women", "men"]),
            on_moud=rng.random() < 0.4,
            attendance=rng.choice(["either", "in_person", "online"]),
            latitude=lat + rng.gauss(0, 0.1),
            longitude=lon + rng.gauss(0, 0.1),
        )
        narrowed = queries.offers(queries.within_reach(everyone, need))
        assert len(narrowed) <= len(all_offers)
        narrower += len(narrowed) < len(all_offers) / 2
        assert matching.rank(need, narrowed, limit=8) == matching.rank(need, all_offers, limit=8), need
    assert narrower > 30  # the narrowing does narrow
