"""The meetings JSON API: response shape, bad parameters, constant query count, OpenAPI."""

from datetime import time

import pytest

from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
URL = "/api/v1/meetings"


def test_a_search_near_lewes_returns_the_meeting_with_everything_a_person_needs(client):
    meeting = make_meeting(
        name="Lewes Women's Group",
        group_name="Lewes Group",
        attributes=("women", "wheelchair-access"),
        moud_stance="welcoming",
        moud_source="Group secretary",
        notes="Side door",
        conference_phone="+1 302 555 0100",
    )

    body = client.get(
        URL, {"lat": 38.77, "lon": -75.14, "radius_km": 10, "at": "2026-06-10T12:00:00Z"}
    ).json()

    assert body["count"] == 1
    result = body["results"][0]
    assert result["id"] == meeting.pk
    assert result["fellowship"] == {"slug": "aa", "name": "Alcoholics Anonymous", "approach": "twelve-step"}
    assert (
        result["weekday"] == 1
        and result["start_time"] == "19:00:00"
        and result["timezone"] == "America/New_York"
    )
    assert result["next_occurrence"] == "2026-06-15T19:00:00-04:00"
    assert 0 < result["distance_km"] < 1
    assert {a["slug"] for a in result["attributes"]} == {"women", "wheelchair-access"}
    assert result["location"]["region"] == [] and result["location"]["latitude"] == 38.7746
    assert result["moud"] == {"stance": "welcoming", "source": "Group secretary", "verified_on": None}
    assert result["conference_phone"] == "+1 302 555 0100" and result["group"] == "Lewes Group"
    assert {f["value"] for f in body["facets"]["approach"]} >= {"twelve-step", "secular", "indigenous"}


def test_repeated_day_and_fellowship_parameters_combine(client):
    make_meeting(name="AA Monday", weekday=1)
    make_meeting(name="AA Tuesday", weekday=2)
    make_meeting(name="NA Tuesday", fellowship="na", weekday=2)
    make_meeting(name="SMART Friday", fellowship="smart", weekday=5)

    body = client.get(f"{URL}?day=1&day=5&fellowship=aa&fellowship=smart&sort=name").json()

    assert [r["name"] for r in body["results"]] == ["AA Monday", "SMART Friday"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=91&lon=0", "lat"),
        ("lat=0&lon=200", "lon"),
        ("lat=0&lon=0&radius_km=-5", "radius_km"),
        ("lat=0&lon=0&radius_km=40000", "radius_km"),
        ("lat=12", "lon"),
        ("day=9", "day"),
        ("day=1&day=monday", "day"),
        ("start_after=25:00", "start_after"),
        ("start_before=7pm", "start_before"),
        ("starting_within=-10", "starting_within"),
        ("attribute=no-such-thing", "attribute"),
        ("fellowship=no-such-fellowship", "fellowship"),
        ("approach=astrology", "approach"),
        ("mode=telepathy", "mode"),
        ("sort=random", "sort"),
        ("sort=distance", "sort"),
        ("at=2026-03-08T10:00:00", "at"),
        ("at=yesterday", "at"),
        ("language=spanish", "language"),
        ("language=xx", "language"),
        ("radius_km=10", "radius_km"),
        ("radius_km=10&mode=online", "radius_km"),
        ("q=side%00door", "q"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, query, parameter):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["parameter"] for e in errors] == [parameter]
    assert errors[0]["reason"]


def test_one_meeting_by_id_and_a_json_404_for_an_unknown_one(client):
    meeting = make_meeting(name="Found")
    assert client.get(f"{URL}/{meeting.pk}").json()["name"] == "Found"
    missing = client.get(f"{URL}/{meeting.pk + 1000}")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["parameter"] == "id"


@pytest.mark.parametrize("path", ["abc", "abc.ics", "-1", "1.5", "%00"])
def test_a_meeting_id_that_is_not_a_number_is_a_json_400_naming_the_id(client, path):
    response = client.get(f"{URL}/{path}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["parameter"] == "id" and "whole number" in error["reason"]


@pytest.mark.parametrize("path", ["99999999999999999999", "99999999999999999999.ics"])
def test_an_id_too_large_for_the_database_is_no_meeting(client, path):
    response = client.get(f"{URL}/{path}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["parameter"] == "id"


def test_an_unknown_language_lists_the_languages_the_directory_knows(client):
    make_meeting(name="AA en español", attributes=("language-es",))

    reason = client.get(URL, {"language": "xx"}).json()["errors"][0]["reason"]

    assert "'xx'" in reason and "es" in reason.replace(",", " ").split()
    assert "/api/v1/attributes" in reason
    assert client.get(URL, {"language": "es"}).json()["count"] == 1
    # A language in the vocabulary that no meeting is held in is simply no results.
    assert client.get(URL, {"language": "ja"}).json()["count"] == 0


def test_a_radius_with_a_place_is_fine_and_a_place_without_one_uses_25_km(client):
    make_meeting(name="Lewes")
    assert client.get(URL, {"lat": 38.77, "lon": -75.14, "radius_km": 5}).json()["count"] == 1
    assert client.get(URL, {"lat": 38.77, "lon": -75.14}).json()["count"] == 1


def test_fellowships_and_attributes_with_spanish_names(client):
    fellowships = client.get("/api/v1/fellowships").json()
    assert {"slug": "smart", "approach": "secular"}.items() <= next(
        f for f in fellowships if f["slug"] == "smart"
    ).items()
    attributes = {a["slug"]: a for a in client.get("/api/v1/attributes").json()}
    assert attributes["women"]["name_es"] == "Mujeres"
    assert attributes["language-es"]["language_code"] == "es"


def _meetings(count):
    for i in range(count):
        make_meeting(
            name=f"Meeting {i}",
            weekday=i % 7,
            start_time=time(7 + i % 12, 0),
            attributes=("women", "open"),
            location=make_location(latitude=38.77 + i * 0.001, longitude=-75.14),
        )


@pytest.mark.parametrize("count", [3, 40])
def test_the_number_of_queries_does_not_grow_with_the_results(client, django_assert_max_num_queries, count):
    _meetings(count)
    with django_assert_max_num_queries(6):
        body = client.get(URL, {"lat": 38.77, "lon": -75.14, "radius_km": 25, "attribute": "women"}).json()
    assert body["count"] == count
    # Without a place: one more, the directory's version token (its counts are kept per version).
    with django_assert_max_num_queries(8):
        body = client.get(URL, {"attribute": "open", "page_size": 100}).json()
    assert len(body["results"]) == count


def test_the_openapi_document_describes_the_search_and_its_parameters(client):
    document = client.get("/api/openapi.json").json()
    search = document["paths"]["/api/v1/meetings"]["get"]
    parameters = {p["name"] for p in search["parameters"]}
    assert {
        "lat",
        "lon",
        "radius_km",
        "day",
        "start_after",
        "starting_within",
        "at",
        "attribute",
        "sort",
    } <= parameters
    assert "400" in search["responses"] and "200" in search["responses"]
    assert "/api/v1/meetings/{meeting_id}.ics" in document["paths"]
