"""The WiFi domain's moving parts in a running process: the health sweep, the MQTT status
subscriber and the RADIUS accounting listener. Each stores in its own short transaction and
publishes the resulting events after the commit."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from smartseoul.core.db import utcnow
from smartseoul.portal.wifi import radius, service
from smartseoul.portal.wifi.router import ReportIn, publish, run_in_session

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

log = logging.getLogger("smartseoul.wifi")
TOPIC = "smartseoul/wifi/+/status"


async def sweep_once(platform: Platform, now: datetime | None = None) -> int:
    """Mark silent access points down; returns how many outages were raised."""
    settings = platform.settings
    events = await run_in_session(
        platform,
        lambda session: service.sweep(
            session, now or utcnow(), settings.wifi_report_interval_s, settings.wifi_missed_reports
        ),
    )
    await publish(platform, events)
    return len(events)


async def sweep_forever(platform: Platform) -> None:
    while True:
        try:
            await sweep_once(platform)
        except Exception:  # a database hiccup must not end the sweep
            log.exception("WiFi health sweep failed")
        await asyncio.sleep(platform.settings.wifi_report_interval_s)


def report_from_mqtt(topic: str, payload: bytes) -> service.StatusReport:
    """``smartseoul/wifi/{ap}/status`` with a JSON body like the HTTP report's (``ap`` from the topic)."""
    parts = topic.split("/")
    if len(parts) != 4 or not parts[2]:
        raise ValueError(f"topic {topic!r} is not smartseoul/wifi/{{ap}}/status")
    body = json.loads(payload)
    if not isinstance(body, dict):
        raise ValueError("payload is not a JSON object")
    item = ReportIn(**{**body, "ap": parts[2]})
    at = item.at or utcnow()
    if at.tzinfo is None:
        raise ValueError("'at' needs a time zone")
    return service.StatusReport(item.ap, at, item.up, item.clients, item.rx_bytes, item.tx_bytes)


async def on_mqtt_message(platform: Platform, topic: str, payload: bytes) -> None:
    try:
        report = report_from_mqtt(topic, payload)
    except (ValueError, ValidationError) as error:
        log.warning("WiFi status on %s ignored: %s", topic, error)
        return
    outcome = await run_in_session(platform, lambda session: service.ingest_reports(session, [report]))
    if outcome.unknown:
        log.warning("WiFi status for unknown access point %s", report.ap)
    await publish(platform, outcome.events)


async def start_radius(platform: Platform) -> asyncio.BaseTransport | None:
    """The RFC 2866 listener on the configured port, storing each record before answering.
    Without a shared secret there is nothing to check requests against: it does not start."""
    settings = platform.settings
    secret = platform.secret_key
    if not settings.wifi_radius_secret:
        log.error("RADIUS listener not started: SMARTSEOUL_WIFI_RADIUS_SECRET is empty")
        return None

    async def store(records: list[radius.AccountingRecord]) -> object:
        return await run_in_session(
            platform, lambda session: service.store_accounting(session, records, secret, source="udp")
        )

    transport, _ = await radius.serve(
        settings.wifi_radius_host,
        settings.wifi_radius_port,
        settings.wifi_radius_secret.encode(),
        store,
        radius.parse_networks(settings.wifi_radius_clients),
    )
    log.info("RADIUS accounting on %s:%d", settings.wifi_radius_host, settings.wifi_radius_port)
    return transport
