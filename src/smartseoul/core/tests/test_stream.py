"""Live events reach the control room's screens as Server-Sent Events."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio

from conftest import make_account, token_for
from smartseoul.city.events import CrimeReportSimulated
from smartseoul.core.bootstrap import Platform


def _report(district: str = "11230") -> CrimeReportSimulated:
    return CrimeReportSimulated(
        district_code=district,
        district_ko="강남구",
        district_en="Gangnam-gu",
        police_station_ko="강남서",
        crime="theft",
        lat=37.51,
        lon=127.05,
    )


def _read_event(lines: Any) -> dict[str, Any]:
    for line in lines:
        if line.startswith("data: "):
            payload: dict[str, Any] = json.loads(line[6:])
            return payload
    raise AssertionError("stream ended without an event")


def _wait_until_fanned_out(client: Any, event_id: str) -> None:
    deadline = time.monotonic() + 10
    while all(item["id"] != event_id for item in client.app.state.stream_hub.recent):
        assert time.monotonic() < deadline, "the hub never received the event"
        client.portal.call(anyio.sleep, 0.01)


def test_an_event_on_the_bus_reaches_an_open_stream(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "stream.operator", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, operator)}"}
    earlier = _report("11680")
    client.portal.call(platform.bus.publish, earlier)
    with client.stream("GET", "/api/v1/stream/events", headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        backlog = _read_event(lines)
        assert backlog["id"] == str(earlier.id)
        live = _report()
        client.portal.call(platform.bus.publish, live)
        payload = _read_event(lines)
    assert payload["id"] == str(live.id)
    assert payload["type"] == "city.report.simulated.v1"
    assert payload["data"]["district_code"] == "11230"
    assert payload["summary"]["ko"].startswith("강남구")
    assert payload["summary"]["en"].startswith("Gangnam-gu")


def test_a_reconnecting_screen_gets_only_what_it_missed(client: Any, platform: Platform) -> None:
    operator = make_account(platform.db, "stream.operator2", ["operator"])
    headers = {"Authorization": f"Bearer {token_for(client, operator)}"}
    seen, missed = _report(), _report("11110")
    client.portal.call(platform.bus.publish, seen)
    client.portal.call(platform.bus.publish, missed)
    _wait_until_fanned_out(client, str(missed.id))
    with client.stream(
        "GET", "/api/v1/stream/events", headers={**headers, "Last-Event-ID": str(seen.id)}
    ) as response:
        first = _read_event(response.iter_lines())
    assert first["id"] == str(missed.id)
