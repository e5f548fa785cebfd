"""Status reports over MQTT (the real Mosquitto): ``smartseoul/wifi/{ap}/status``."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aiomqtt
import pytest

from conftest import require_service, run_async
from smartseoul.core.bootstrap import Platform
from smartseoul.core.mqtt import subscribe_forever
from smartseoul.portal.wifi import runtime, service
from smartseoul.portal.wifi.tests.helpers import small_registry


def test_a_status_on_mqtt_marks_the_access_point_and_a_bad_one_is_ignored(platform: Platform) -> None:
    require_service("mqtt")
    with platform.db.session() as session:
        small_registry(session, datetime.now(UTC))
    prefix = f"t{uuid.uuid4().hex[:8]}"  # the shared broker: a topic of this test's own
    seen: list[str] = []

    async def handler(topic: str, payload: bytes) -> None:
        await runtime.on_mqtt_message(platform, topic.removeprefix(prefix + "/"), payload)
        seen.append(topic)

    async def scenario() -> None:
        ready = asyncio.Event()
        task = asyncio.create_task(
            subscribe_forever("mqtt://127.0.0.1:1883", f"{prefix}/{runtime.TOPIC}", prefix, handler, ready)
        )
        await asyncio.wait_for(ready.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            base = f"{prefix}/smartseoul/wifi"
            await client.publish(f"{base}/lib-1/status", b"not json", qos=1)
            await client.publish(f"{base}/lib-2/status", json.dumps({"clients": -4}).encode(), qos=1)
            await client.publish(
                f"{base}/lib-1/status", json.dumps({"up": True, "clients": 7}).encode(), qos=1
            )
            await client.publish(f"{base}/jongno-1/status", json.dumps({"up": False}).encode(), qos=1)
        for _ in range(100):
            if len(seen) >= 4:
                break
            await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_async(scenario())
    with platform.db.session() as session:
        healths = {ap: service.access_point(session, ap).health for ap in ("lib-1", "lib-2", "jongno-1")}
        assert healths == {"lib-1": "up", "lib-2": "unknown", "jongno-1": "down"}
        assert service.access_point(session, "lib-1").clients == 7
        assert [o["ap_code"] for o in service.outages(session, open_only=True)] == ["jongno-1"]


def test_mqtt_topics_and_payloads_are_checked() -> None:
    report = runtime.report_from_mqtt("smartseoul/wifi/AP-1/status", b'{"up": false, "clients": 2}')
    assert (report.ap, report.up, report.clients) == ("AP-1", False, 2)
    for topic, payload, problem in (
        ("smartseoul/wifi//status", b"{}", "is not smartseoul/wifi"),
        ("smartseoul/wifi/AP-1/status", b"[1]", "not a JSON object"),
    ):
        with pytest.raises(ValueError, match=problem):
            runtime.report_from_mqtt(topic, payload)
