"""Searching near a place: exact distances, the antimeridian, the poles, and where online meetings go."""

import math
from datetime import UTC, datetime

import pytest

from recoverybridge.directory.queries import MeetingSearch, bounding_box, search_meetings
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def search(**params):
    return search_meetings(MeetingSearch.model_validate(params), now=NOW)


def names(result):
    return [hit.meeting.name for hit in result.hits]


def hand_haversine(lat1, lon1, lat2, lon2):
    r = 6371.0088
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def test_nearest_meetings_come_first_with_great_circle_distances():
    here = (38.7746, -75.1393)  # Lewes, Delaware
    make_meeting(name="Rehoboth", location=make_location(latitude=38.7209, longitude=-75.0760))
    make_meeting(name="Lewes", location=make_location(latitude=38.7750, longitude=-75.1400))
    make_meeting(name="Milford", location=make_location(latitude=38.9126, longitude=-75.4280))
    make_meeting(name="Baltimore", location=make_location(latitude=39.2904, longitude=-76.6122))

    result = search(lat=here[0], lon=here[1], radius_km=40)

    assert names(result) == ["Lewes", "Rehoboth", "Milford"]
    for hit in result.hits:
        loc = hit.meeting.location
        expected = hand_haversine(here[0], here[1], loc.latitude, loc.longitude)
        assert hit.distance_km == pytest.approx(expected, abs=1e-6)
    assert result.hits[2].distance_km == pytest.approx(29.4, abs=0.2)


def test_fiji_meetings_either_side_of_the_antimeridian_are_both_found():
    # Taveuni straddles 180°: two meetings 20 km apart, one at +179.9, one at -179.9.
    make_meeting(
        name="West of 180", location=make_location(latitude=-16.8, longitude=179.9, timezone="Pacific/Fiji")
    )
    make_meeting(
        name="East of 180", location=make_location(latitude=-16.8, longitude=-179.9, timezone="Pacific/Fiji")
    )
    make_meeting(
        name="Apia, Samoa",
        location=make_location(latitude=-13.8333, longitude=-171.7667, timezone="Pacific/Apia"),
    )

    from_west = search(lat=-16.8, lon=179.95, radius_km=25)
    from_east = search(lat=-16.8, lon=-179.95, radius_km=25)

    assert sorted(names(from_west)) == sorted(names(from_east)) == ["East of 180", "West of 180"]
    assert all(hit.distance_km < 25 for hit in from_west.hits)


def test_the_box_splits_at_the_antimeridian():
    _, _, lons = bounding_box(-16.8, 179.95, 25)
    assert len(lons) == 2
    assert lons[0][1] == 180.0 and lons[1][0] == -180.0
    assert lons[0][0] > 179 and lons[1][1] < -179


def test_near_a_pole_every_longitude_is_searched():
    _, lat_max, lons = bounding_box(89.9, 0.0, 50)
    assert lons == [(-180.0, 180.0)] and lat_max == 90.0
    make_meeting(
        name="Across the pole", location=make_location(latitude=89.8, longitude=170.0, timezone="UTC")
    )
    make_meeting(name="Too far south", location=make_location(latitude=88.0, longitude=0.0, timezone="UTC"))

    result = search(lat=89.9, lon=0.0, radius_km=50)

    assert names(result) == ["Across the pole"]
    assert result.hits[0].distance_km == pytest.approx(hand_haversine(89.9, 0, 89.8, 170), abs=1e-6)


def test_online_meetings_of_local_groups_are_listed_after_the_in_person_ones_without_a_distance():
    town = make_location(latitude=38.7746, longitude=-75.1393, approximate=True)
    make_meeting(
        name="Zoom from Lewes", attendance_mode="online", location=town, conference_url="https://zoom.us/j/1"
    )
    make_meeting(name="Hall in Lewes", location=make_location())
    make_meeting(name="Online from nowhere", attendance_mode="online", conference_url="https://zoom.us/j/2")
    make_meeting(
        name="Online far away",
        attendance_mode="online",
        location=make_location(latitude=51.5, longitude=-0.12),
    )

    near = search(lat=38.7746, lon=-75.1393, radius_km=25)
    assert names(near) == ["Hall in Lewes", "Zoom from Lewes"]
    assert near.hits[1].distance_km is None

    every_online = search(lat=38.7746, lon=-75.1393, radius_km=25, mode="online")
    assert sorted(names(every_online)) == ["Online far away", "Online from nowhere", "Zoom from Lewes"]
    assert all(hit.distance_km is None for hit in every_online.hits)

    in_person_only = search(lat=38.7746, lon=-75.1393, radius_km=25, mode="in_person")
    assert names(in_person_only) == ["Hall in Lewes"]


def test_a_meeting_without_coordinates_is_not_in_a_place_search_but_is_listed_without_one():
    make_meeting(name="Unknown place", location=make_location(latitude=None, longitude=None))
    assert names(search(lat=38.7746, lon=-75.1393)) == []
    assert names(search()) == ["Unknown place"]
