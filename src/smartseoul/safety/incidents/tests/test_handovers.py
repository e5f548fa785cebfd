"""Hand-over to an agency's real HTTP endpoint: signed, retried with backoff, never silently dropped.

The agency is a real HTTP server on 127.0.0.1 that answers 503 a set number of times; the worker is
the same ``deliver_once`` the running platform calls, driven with an explicit clock so that the
backoff is checked without waiting for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from conftest import make_account, run_async, token_for
from smartseoul.core.bootstrap import Platform, bootstrap
from smartseoul.core.bus import InProcessBus
from smartseoul.core.db import utcnow
from smartseoul.safety.alerts import cap
from smartseoul.safety.incidents import handovers, runtime, service
from smartseoul.safety.incidents.events import HandoverChanged
from smartseoul.safety.incidents.models import DeliveryAttempt, Handover, Incident

SECRET = "agency-secret-for-tests-0123456789"


@dataclass
class Agency:
    """A test agency endpoint: fails ``failures`` times with 503, then answers 200."""

    failures: int
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def agency_endpoint() -> Iterator[Agency]:
    agency = Agency(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            agency.received.append((dict(self.headers.items()), body))
            failing = len(agency.received) <= agency.failures
            self.send_response(503 if failing else 200)
            self.end_headers()
            self.wfile.write(b"busy" if failing else b"ok")

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    agency.url = f"http://127.0.0.1:{server.server_address[1]}/incoming"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield agency
    finally:
        server.shutdown()
        server.server_close()


def _incident_and_handover(platform: Platform, url: str) -> tuple[int, int]:
    with platform.db.session() as session:
        agency = handovers.add_agency(
            session,
            code="police-jongno",
            kind="police",
            name_ko="종로경찰서",
            name_en="Jongno police",
            district_codes=["11010"],
            actor="test",
            webhook_url=url,
            secret=SECRET,
        )
        item = service.Intake(
            source="operator",
            kind="fight",
            priority=2,
            title_ko="싸움",
            title_en="fight",
            ref="test",
            lat=37.5720,
            lon=126.9860,
        )
        incident = service.intake(session, platform.settings, item).incident
        handover, _ = handovers.create_handover(session, platform.settings, incident, agency, "op")
        return incident.id, handover.id


async def _deliver(platform: Platform, now: datetime) -> tuple[int, list[Any]]:
    published: list[Any] = []
    original = platform.bus.publish

    async def capture(event: Any) -> None:
        published.append(event)
        await original(event)

    platform.bus.publish = capture  # type: ignore[method-assign]
    try:
        async with httpx.AsyncClient() as client:
            tried = await runtime.deliver_once(platform, client, now)
    finally:
        platform.bus.publish = original  # type: ignore[method-assign]
    return tried, published


def test_failing_twice_is_delivered_on_the_third_try_and_the_desk_shows_it(
    platform: Platform, agency_endpoint: Agency, client: Any
) -> None:
    incident_id, handover_id = _incident_and_handover(platform, agency_endpoint.url)
    backoff = platform.settings.incidents_handover_backoff_s
    start = utcnow()

    tried, events = run_async(_deliver(platform, start))
    assert tried == 1
    assert [e.status for e in events if isinstance(e, HandoverChanged)] == ["retrying"]
    # not due yet: the first retry waits the backoff
    assert run_async(_deliver(platform, start + timedelta(seconds=backoff / 2)))[0] == 0
    tried, _ = run_async(_deliver(platform, start + timedelta(seconds=backoff + 0.1)))
    assert tried == 1
    # the second retry waits twice as long
    assert run_async(_deliver(platform, start + timedelta(seconds=backoff * 2)))[0] == 0
    tried, events = run_async(_deliver(platform, start + timedelta(seconds=backoff * 3 + 0.2)))
    assert tried == 1
    assert [e.status for e in events if isinstance(e, HandoverChanged)] == ["delivered"]

    assert len(agency_endpoint.received) == 3
    for headers, body in agency_endpoint.received:
        assert handovers.verify(SECRET, headers, body)
        assert not handovers.verify("another-secret", headers, body)
        assert json.loads(body)["incident"]["id"] == incident_id
        assert cap.validation_errors(json.loads(body)["cap"].encode()) == []
    assert {h["Idempotency-Key"] for h, _ in agency_endpoint.received} == {f"handover-{handover_id}"}

    operator = make_account(platform.db, "desk.op", ["operator"])
    token = token_for(client, operator)
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {token}"})
    assert shown.status_code == 200, shown.text
    (handover,) = shown.json()["handovers"]
    assert handover["status"] == "delivered"
    assert handover["attempts"] == 3
    assert [(a["ok"], a["status_code"]) for a in handover["delivery_attempts"]] == [
        (False, 503),
        (False, 503),
        (True, 200),
    ]
    as_cap = client.get(f"/api/v1/handovers/{handover_id}.cap", headers={"Authorization": f"Bearer {token}"})
    assert as_cap.headers["content-type"] == "application/cap+xml"
    assert cap.validation_errors(as_cap.content) == []
    assert b"<addresses>police-jongno</addresses>" in as_cap.content
    texts = [entry["text"] for entry in shown.json()["timeline"]]
    assert any("attempt 1" in t and "failed" in t for t in texts)
    assert any("delivered by webhook (attempt 3)" in t for t in texts)


def test_an_endpoint_that_stays_down_becomes_a_visible_dead_letter(
    platform: Platform, agency_endpoint: Agency
) -> None:
    agency_endpoint.failures = 10_000
    _, handover_id = _incident_and_handover(platform, agency_endpoint.url)
    now = utcnow()
    last: list[Any] = []
    for _ in range(platform.settings.incidents_handover_max_attempts):
        tried, last = run_async(_deliver(platform, now))
        assert tried == 1
        now += timedelta(hours=1)
    assert [e.status for e in last if isinstance(e, HandoverChanged)] == ["failed"]
    with platform.db.session() as session:
        handover = session.get(Handover, handover_id)
        assert handover is not None
        assert handover.status == "failed"
        assert "503" in handover.last_error
        attempts = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.handover_id == handover_id)
        ).all()
        assert len(attempts) == platform.settings.incidents_handover_max_attempts
    assert run_async(_deliver(platform, now + timedelta(days=1)))[0] == 0  # nothing more, nothing lost


def test_a_restarted_process_delivers_what_the_last_one_left(
    platform: Platform, agency_endpoint: Agency
) -> None:
    agency_endpoint.failures = 0
    _, handover_id = _incident_and_handover(platform, agency_endpoint.url)
    restarted = bootstrap(platform.settings, bus=InProcessBus())
    try:
        tried, _ = run_async(_deliver(restarted, utcnow()))
    finally:
        restarted.db.dispose()
    assert tried == 1
    with platform.db.session() as session:
        handover = session.get(Handover, handover_id)
        assert handover is not None
        assert handover.status == "delivered"


def test_an_unacknowledged_hand_over_re_alerts_until_the_agency_acknowledges(
    platform: Platform, agency_endpoint: Agency
) -> None:
    agency_endpoint.failures = 0
    _, handover_id = _incident_and_handover(platform, agency_endpoint.url)
    now = utcnow()
    run_async(_deliver(platform, now))
    later = now + timedelta(seconds=platform.settings.incidents_handover_ack_timeout_s + 1)
    with platform.db.session() as session:
        events = handovers.check_realerts(session, platform.settings, later)
    assert [e.status for e in events if isinstance(e, HandoverChanged)] == ["realert"]
    assert run_async(_deliver(platform, later))[0] == 1
    assert len(agency_endpoint.received) == 2
    with platform.db.session() as session:
        handover = session.get(Handover, handover_id)
        assert handover is not None
        handovers.acknowledge(session, handover, "dispatcher:jongno")
        assert handovers.acknowledge(session, handover, "dispatcher:jongno") == []
    with platform.db.session() as session:
        much_later = later + timedelta(days=1)
        assert handovers.check_realerts(session, platform.settings, much_later) == []
        incident = session.scalars(select(Incident)).first()
        assert incident is not None
        assert incident.status == "dispatched"


@pytest.fixture
def platform(platform: Platform) -> Platform:
    """The shared platform without this domain's background workers: the tests drive them."""
    platform.settings.incidents_workers = False
    return platform
