"""BMLT's semantic API, read side: the requests crouton makes, answered in a root server's shapes.

crouton's requests are taken from its source (bmlt-enabled/crouton, croutonjs/src/js/crouton-core.js,
`meetingSearch`, `getServiceBodies`, `getMasterFormats`); the shapes are checked against a real
root server's answer (tests/fixtures/bmlt/real, see tests/fixtures/README.md).
"""

import json
import re
from datetime import time
from pathlib import Path

import pytest

from recoverybridge.directory.feeds import bmlt
from recoverybridge.directory.models import Fellowship
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
REAL = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "bmlt"
    / "real"
    / "meeting-search-42.867970-day2.json"
)
URL = "/main_server/client_interface/{kind}/"
# crouton's data_field_key list, as meetingSearch builds it.
CROUTON_FIELDS = (
    "location_postal_code_1,duration_time,start_time,time_zone,weekday_tinyint,service_body_bigint,"
    "longitude,latitude,location_province,location_municipality,location_street,location_info,"
    "location_text,location_neighborhood,formats,format_shared_id_list,comments,meeting_name,"
    "location_sub_province,worldid_mixed,root_server_uri,id_bigint"
)
JSONP = re.compile(r"^/\*\*/(?P<callback>[\w$.]+)\((?P<body>.*)\);$", re.DOTALL)


@pytest.fixture
def directory():
    syracuse = make_location(
        name="YMCA",
        address="340 Montgomery St.",
        city="Syracuse",
        state="NY",
        postal_code="13202",
        formatted_address="340 Montgomery St., Syracuse, NY 13202, USA",
        latitude=43.047635,
        longitude=-76.1498864,
    )
    auburn = make_location(
        name="United Methodist Church",
        address="99 South St",
        city="Auburn",
        state="NY",
        postal_code="13021",
        formatted_address="99 South St, Auburn, NY 13021, USA",
        latitude=42.923231,
        longitude=-76.566373,
    )
    return {
        "new way": make_meeting(
            "na", ("open", "wheelchair-access"), syracuse, name="A New Way of Life", weekday=1,
            start_time=time(17, 30), end_time=time(18, 30),
        ),
        "ties": make_meeting(
            "na", ("basic-text",), auburn, name="Ties That Bind Us Together", weekday=1,
            start_time=time(18, 30), end_time=None,
        ),
        "online": make_meeting(
            "na", ("closed",), None, name="Night Owls Online", attendance_mode="online", weekday=3,
            start_time=time(23, 0), end_time=time(0, 30), conference_url="https://zoom.us/j/123",
        ),
        "aa": make_meeting("aa", ("open",), syracuse, name="Syracuse AA", weekday=1, start_time=time(12, 0)),
    }  # fmt: skip


def get(client, kind: str = "json", **params):
    return client.get(URL.format(kind=kind), params)


def jsonp(response):
    match = JSONP.match(response.content.decode())
    assert match, response.content[:200]
    return match["callback"], json.loads(match["body"])


def test_croutons_meeting_search_is_answered_as_a_root_server_answers_it(client, directory):
    na = Fellowship.objects.get(slug="na")
    response = client.get(
        URL.format(kind="jsonp"),
        {
            "switcher": "GetSearchResults",
            "get_used_formats": "",
            "lang_enum": "en",
            "data_field_key": CROUTON_FIELDS,
            "services[]": [str(na.pk)],
            "recursive": "1",
            "sort_keys": "weekday_tinyint,start_time",
            "callback": "jQuery3600_1712",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    callback, data = jsonp(response)
    assert callback == "jQuery3600_1712"
    meetings, formats = data["meetings"], data["formats"]
    assert [m["meeting_name"] for m in meetings] == [
        "A New Way of Life",
        "Ties That Bind Us Together",
        "Night Owls Online",
    ]
    for meeting in meetings:
        assert list(meeting) == CROUTON_FIELDS.split(",")
        assert all(isinstance(value, str) for value in meeting.values())
    first = meetings[0]
    assert (first["weekday_tinyint"], first["start_time"], first["duration_time"]) == (
        "2",
        "17:30:00",
        "01:00:00",
    )
    assert first["time_zone"] == "America/New_York"
    assert first["service_body_bigint"] == str(na.pk)
    assert (first["location_street"], first["location_municipality"]) == ("340 Montgomery St.", "Syracuse")
    assert meetings[2]["duration_time"] == "01:30:00"  # 23:00 to 00:30
    # Each key string in a meeting's formats is in `formats`, as crouton's enrichMeetings looks it up.
    keys = {f["key_string"] for f in formats}
    for meeting in meetings:
        assert set(filter(None, meeting["formats"].split(","))) <= keys
    assert set(first["formats"].split(",")) == {"O", "WC"}


def test_the_shapes_match_a_real_root_servers(client, directory):
    real = json.loads(REAL.read_text(encoding="utf-8"))
    fields = ",".join(real["meetings"][0])
    data = get(client, switcher="GetSearchResults", get_used_formats="1", data_field_key=fields).json()
    assert [list(m) for m in data["meetings"]] == [list(real["meetings"][0])] * len(data["meetings"])
    assert {tuple(f) for f in data["formats"]} == {tuple(real["formats"][0])}
    # And what a full answer holds is what our own BMLT importer reads back, without a rejection.
    full = get(client, switcher="GetSearchResults").json()
    parsed = bmlt.parse(full)
    assert parsed.rejections == []
    by_name = {record.name: record for record in parsed.records}
    assert by_name["A New Way of Life"].weekday == 1
    assert by_name["Night Owls Online"].attendance_mode == "online"
    assert by_name["Ties That Bind Us Together"].location.address == "99 South St"


def test_crouton_distance_search(client, directory):
    data = get(
        client,
        switcher="GetSearchResults",
        lat_val="42.9232",
        long_val="-76.5664",
        geo_width_km="10",
        sort_results_by_distance="1",
    ).json()
    assert [m["meeting_name"] for m in data] == ["Ties That Bind Us Together"]
    assert float(data[0]["distance_in_km"]) < 0.1
    # geo_width in miles; a negative width is the nearest N, nearest first.
    nearest = get(client, switcher="GetSearchResults", lat_val="42.9232", long_val="-76.5664", geo_width="-2",
                  sort_results_by_distance="1").json()  # fmt: skip
    assert next(m["meeting_name"] for m in nearest) == "Ties That Bind Us Together"
    assert len(nearest) == 2


def test_common_filters(client, directory):
    na = Fellowship.objects.get(slug="na")

    def names(**params):
        return sorted(m["meeting_name"] for m in get(client, switcher="GetSearchResults", **params).json())

    assert names(weekdays="4") == ["Night Owls Online"]
    assert names(**{"weekdays[]": ["-2"], "services[]": [str(na.pk)]}) == ["Night Owls Online"]
    assert names(venue_types="2") == ["Night Owls Online"]
    assert "Night Owls Online" not in names(venue_types="-2")
    open_id = get(client, switcher="GetFormats").json()
    open_id = next(f["id"] for f in open_id if f["key_string"] == "O")
    assert names(**{"formats[]": [open_id]}) == ["A New Way of Life", "Syracuse AA"]
    assert names(**{"meeting_ids[]": [str(directory["ties"].pk)]}) == ["Ties That Bind Us Together"]
    formats_only = get(client, switcher="GetSearchResults", get_formats_only="1", services=str(na.pk)).json()
    assert set(formats_only) == {"formats"}


def test_service_bodies_are_the_fellowships(client, directory):
    na = Fellowship.objects.get(slug="na")
    _callback, bodies = jsonp(
        get(client, "jsonp", switcher="GetServiceBodies", callback="cb", **{"services[]": [str(na.pk)]})
    )
    assert bodies == [
        {
            "id": str(na.pk),
            "parent_id": "0",
            "name": na.name,
            "description": na.description,
            "type": "WS",
            "url": na.website or "http://testserver/",
            "helpline": "",
            "world_id": "",
        }
    ]
    assert len(get(client, switcher="GetServiceBodies").json()) == Fellowship.objects.count()


def test_formats_in_the_language_asked_for(client, directory):
    spanish = {f["key_string"]: f for f in get(client, switcher="GetFormats", lang_enum="es").json()}
    assert spanish["O"]["name_string"] == "Abierta"
    assert spanish["O"]["world_id"] == "OPEN"
    assert spanish["O"]["lang"] == "es"
    assert spanish["ES"]["world_id"] == "LANG"


@pytest.mark.parametrize(
    ("params", "kind", "reason"),
    [
        ({"switcher": "GetNAWSDump"}, "json", "switcher: one of"),
        ({"switcher": "GetSearchResults", "weekdays[]": "9"}, "json", "weekdays"),
        ({"switcher": "GetSearchResults", "weekdays": "x"}, "json", "is not a number"),
        ({"switcher": "GetSearchResults", "lat_val": "91", "long_val": "0"}, "json", "latitude"),
        (
            {"switcher": "GetSearchResults", "lat_val": "1", "long_val": "1", "geo_width": "nan"},
            "json",
            "geo_width",
        ),
        ({"switcher": "GetSearchResults", "sort_keys": "password"}, "json", "sort_keys"),
        ({"switcher": "GetFormats", "callback": "alert(document.cookie)"}, "jsonp", "callback"),
        ({"switcher": "GetFormats"}, "xml", "only json and jsonp"),
    ],
)
def test_bad_requests_are_400s_that_say_why(client, directory, params, kind, reason):
    response = client.get(URL.format(kind=kind), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in (jsonp(response)[1] if body.startswith("/**/") else response.json())["error"]
