"""Open311 GeoReport v2 as a client sees it: every resource in JSON and XML (parsed back), the
spec's fields, filters and limits, and errors in the spec's format with the right HTTP status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.services.complaints import service
from smartseoul.services.complaints.models import ServiceRequest

GANGNAM_STATION = ("37.4981", "127.0286")  # inside Gangnam-gu (11230 in the city data)
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def parse_xml(data: bytes) -> ET.Element:
    """Our own responses, parsed back (trusted input)."""
    return ET.fromstring(data)  # noqa: S314


@pytest.fixture
def api_key(platform: Platform) -> str:
    with platform.db.session() as session:
        return service.create_key(session, "test client", actor="test")


def post(client: Any, key: str | None, fmt: str = "json", **fields: str) -> Any:
    data = {"service_code": "illegal_parking", "lat": GANGNAM_STATION[0], "long": GANGNAM_STATION[1]}
    data.update(fields)
    if key is not None:
        data["api_key"] = key
    return client.post(f"/open311/v2/requests.{fmt}", data=data)


def test_discovery_services_and_definitions(client: Any) -> None:
    """One app per engine for the read-only resources (an app start is the slow part)."""
    check_services(client)
    check_service_definition(client)
    check_discovery(client)


def check_services(client: Any) -> None:
    listed = client.get("/open311/v2/services.json", headers={"Accept-Language": "en"})
    assert listed.status_code == 200
    services = listed.json()
    assert len(services) >= 20
    assert all(set(s) == SERVICE_FIELDS for s in services)
    parking = next(s for s in services if s["service_code"] == "illegal_parking")
    assert (parking["service_name"], parking["metadata"], parking["type"]) == (
        "Illegal parking",
        True,
        "realtime",
    )

    xml = client.get("/open311/v2/services.xml", headers={"Accept-Language": "ko"})
    assert xml.headers["content-type"].startswith("text/xml")
    root = parse_xml(xml.content)
    assert root.tag == "services"
    names = {s.findtext("service_code"): s.findtext("service_name") for s in root.findall("service")}
    assert names["illegal_parking"] == "불법 주정차"
    assert len(names) == len(services)


def check_service_definition(client: Any) -> None:
    body = client.get("/open311/v2/services/noise.json").json()
    assert body["service_code"] == "noise"
    attribute = body["attributes"][0]
    assert set(attribute) == {
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    }
    assert (attribute["code"], attribute["datatype"], attribute["required"]) == (
        "noise_source",
        "singlevaluelist",
        True,
    )
    assert {"key": "construction", "name": "Construction / 공사장"} in attribute["values"]

    root = parse_xml(client.get("/open311/v2/services/noise.xml").content)
    assert root.tag == "service_definition"
    keys = [v.findtext("key") for v in root.findall("attributes/attribute/values/value")]
    assert "construction" in keys

    missing = client.get("/open311/v2/services/no_such_thing.xml")
    assert missing.status_code == 404
    error = parse_xml(missing.content).find("error")
    assert error is not None
    assert error.findtext("code") == "404"


def test_post_in_every_form_then_read_back(client: Any, api_key: str) -> None:
    check_post_and_read_back(client, api_key)
    check_xml_post_and_json_body(client, api_key)


def check_post_and_read_back(client: Any, api_key: str) -> None:
    created = post(client, api_key, description="소화전 앞 주차", **{"attribute[plate]": "12가3456"})
    assert created.status_code == 201, created.text
    receipt = created.json()[0]
    request_id, token = receipt["service_request_id"], receipt["token"]
    assert receipt["service_notice"] == "delivery pending"

    one = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert len(one) == 1
    assert set(one[0]) == REQUEST_FIELDS
    assert (one[0]["status"], one[0]["service_code"], one[0]["description"]) == (
        "open",
        "illegal_parking",
        "소화전 앞 주차",
    )
    assert one[0]["lat"] == pytest.approx(37.4981)
    assert one[0]["long"] == pytest.approx(127.0286)
    assert "email" not in one[0]  # contact details are never public

    by_token = client.get(f"/open311/v2/tokens/{token}.json").json()
    assert by_token == [{"service_request_id": request_id, "token": token}]

    root = parse_xml(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text == request_id  # type: ignore[union-attr]

    listed = client.get(
        "/open311/v2/requests.json", params={"service_code": "illegal_parking", "status": "open"}
    )
    assert request_id in [r["service_request_id"] for r in listed.json()]
    closed_only = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert request_id not in [r["service_request_id"] for r in closed_only]


def check_xml_post_and_json_body(client: Any, api_key: str) -> None:
    created = post(client, api_key, fmt="xml", service_code="graffiti")
    assert created.status_code == 201
    assert parse_xml(created.content).find("request/service_request_id") is not None
    as_json = client.post(
        "/open311/v2/requests.json",
        json={"api_key": api_key, "service_code": "graffiti", "lat": 37.5665, "long": 126.978},
    )
    assert as_json.status_code == 201, as_json.text


BAD_POSTS = [
    ({"service_code": "no_such"}, 404, "service_code"),
    ({"lat": "north"}, 400, "lat must be a number"),
    ({"lat": "91"}, 400, "lat must lie between"),
    ({"long": ""}, 400, "long is required"),
    ({"lat": "35.1796", "long": "129.0756"}, 400, "outside Seoul"),
    ({"service_code": "noise"}, 400, "attribute[noise_source] is required"),
    ({"service_code": "noise", "attribute[noise_source]": "dragon"}, 400, "must be one of"),
    ({"attribute[colour]": "red"}, 400, "not an attribute"),
    ({"jurisdiction_id": "busan.go.kr"}, 404, "jurisdiction_id"),
    ({"email": "not-an-address"}, 400, "email"),
    ({"media_url": "ftp://x/y.jpg"}, 400, "media_url"),
    ({"description": "a\x00b"}, 400, "NUL"),  # PostgreSQL cannot store it: refused on both
    ({"service_code": "x" * 40}, 404, "service_code"),
]


def test_refusals_are_open311_errors(client: Any, platform: Platform, api_key: str) -> None:
    check_bad_posts(client, api_key)
    check_api_key_refusals(client, platform, api_key)


def check_bad_posts(client: Any, api_key: str) -> None:
    for fields, status, words in BAD_POSTS:
        refused = post(client, api_key, **fields)
        assert refused.status_code == status, fields
        body = refused.json()
        assert body == [{"code": status, "description": body[0]["description"]}]
        assert words in body[0]["description"], body
    xml = post(client, api_key, fmt="xml", lat="north")
    assert xml.status_code == 400
    assert parse_xml(xml.content).findtext("error/description") == "lat must be a number, not 'north'"
    assert client.get("/open311/v2/requests.json").json() == []  # nothing refused was stored


def check_api_key_refusals(client: Any, platform: Platform, api_key: str) -> None:
    assert post(client, None).status_code == 403
    assert post(client, "o311_deadbeef_nope").status_code == 403
    assert post(client, "ssk_x_y").status_code == 403
    with platform.db.session() as session:
        assert service.revoke_key(session, api_key.split("_")[1], actor="test")
    refused = post(client, api_key)
    assert refused.status_code == 403
    assert "revoked" in refused.json()[0]["description"]


def test_listing_filters_window_and_errors(client: Any, platform: Platform, api_key: str) -> None:
    first = post(client, api_key).json()[0]["service_request_id"]
    second = post(client, api_key, service_code="pothole", **{"attribute[hazard]": "no"}).json()[0][
        "service_request_id"
    ]
    with platform.db.session() as session:  # a complaint from 100 days ago falls outside the default window
        old = session.get(ServiceRequest, int(first))
        assert old is not None
        old.requested_at = utcnow() - timedelta(days=100)
    ids = [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert second in ids
    assert first not in ids
    by_ids = client.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{first},{second}"}
    ).json()
    assert {r["service_request_id"] for r in by_ids} == {first, second}
    start = (utcnow() - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (utcnow() - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    windowed = client.get("/open311/v2/requests.json", params={"start_date": start, "end_date": end}).json()
    assert [r["service_request_id"] for r in windowed] == [first]

    too_wide = client.get(
        "/open311/v2/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_wide.status_code == 400
    assert "90 days" in too_wide.json()[0]["description"]
    for params in ({"status": "pending"}, {"start_date": "yesterday"}, {"service_request_id": "1,x"}):
        assert client.get("/open311/v2/requests.json", params=params).status_code == 400
    assert client.get("/open311/v2/requests/999999.json").status_code == 404
    assert client.get("/open311/v2/requests/abc.xml").status_code == 404
    assert client.get("/open311/v2/tokens/unknown-token.json").status_code == 404
    assert client.get("/open311/v2/services.csv").status_code == 404


def check_discovery(client: Any) -> None:
    body = client.get("/open311/v2/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["specification"].endswith("GeoReport_v2")
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    root = parse_xml(client.get("/open311/v2/discovery.xml").content)
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "application/json",
        "text/xml",
    ]
