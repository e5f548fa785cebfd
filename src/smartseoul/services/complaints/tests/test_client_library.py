"""Done when an Open311 client library works against the platform: ``georeport`` (PyPI) lists the
services, reads a definition, and reads back requests, in JSON and XML, over real HTTP (uvicorn).

``georeport`` has no call for posting, so the post is the plain form POST any Open311 client sends
(the spec's ``application/x-www-form-urlencoded``), with ``requests`` as georeport itself uses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from georeport import GeoReport

from smartseoul.core.bootstrap import Platform
from smartseoul.services.complaints import service

pytestmark = pytest.mark.parametrize("engine_kind", ["sqlite"])  # one engine: HTTP is what is tested


@pytest.fixture
def live_url(platform: Platform) -> Iterator[str]:
    from smartseoul.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/open311/v2"
    finally:
        server.should_exit = True
        thread.join(15)


def test_georeport_lists_posts_and_reads(live_url: str, platform: Platform) -> None:
    with platform.db.session() as session:
        key = service.create_key(session, "georeport", actor="test")
    client = GeoReport(live_url, jurisdiction="seoul.go.kr", api_key=key)
    services = client.get_service_list()
    assert "pothole" in {s["service_code"] for s in services}
    definition = client.get_service_definition("pothole")
    assert [a["code"] for a in definition["attributes"]] == ["size", "hazard"]

    posted = requests.post(
        f"{live_url}/requests.json",
        data={
            "api_key": client.api_key,
            "jurisdiction_id": client.jurisdiction,
            "service_code": "pothole",
            "lat": 37.5665,
            "long": 126.978,
            "description": "시청 앞 도로 파임",
            "attribute[hazard]": "yes",
            "attribute[size]": "large",
        },
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]

    one = client.get_service_request(request_id)
    assert (one["service_code"], one["status"], one["description"]) == (
        "pothole",
        "open",
        "시청 앞 도로 파임",
    )
    listed = client.get_service_requests(service_code="pothole", status="open")
    assert request_id in [r["service_request_id"] for r in listed]

    as_xml = GeoReport(live_url, jurisdiction="seoul.go.kr", output_format="xml")
    xml_services = as_xml.get_service_list()
    assert len(xml_services) == len(services)
    assert as_xml.get_service_definition("pothole")["service_code"] == "pothole"
    assert as_xml.get_service_request(request_id)["service_request_id"] == request_id

    with pytest.raises(requests.HTTPError) as refused:
        GeoReport(live_url, jurisdiction="busan.go.kr").get_service_list()
    assert refused.value.response.status_code == 404
