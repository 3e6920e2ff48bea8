import pytest

from tests.care_world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()
