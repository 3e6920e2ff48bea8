import pytest

from tests.care_world import World, build_world


@pytest.fixture
def world(db) -> World:
    world = build_world()
    world.alice.first_name, world.alice.last_name = "Alice", "Adams"
    world.alice.save()
    return world
