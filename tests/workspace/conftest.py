import pytest

from tests.care_world import World, build_world


@pytest.fixture
def world(db) -> World:
    """The care world, with the area that gives Cora, the commissioner, her evaluation reports."""
    world = build_world()
    for organisation in (world.harbour, world.county):
        organisation.area = "East Sussex"
        organisation.save()
    return world
