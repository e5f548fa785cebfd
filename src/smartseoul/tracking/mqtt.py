"""OwnTracks over MQTT: phones publish to ``owntracks/USER/DEVICE`` on the city's broker.

The subscriber reconnects on its own (with a growing pause) so that a broker restart costs a
few seconds of positions at most, and one malformed message never stops it.
"""

from __future__ import annotations

import asyncio
import logging

from smartseoul.core import mqtt
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.listeners import log_frame_error
from smartseoul.tracking.protocols import FrameError
from smartseoul.tracking.protocols.owntracks import decode_owntracks

log = logging.getLogger("smartseoul.tracking.mqtt")
TOPIC = "owntracks/+/+"


async def handle(topic: str, payload: bytes, ingestor: Ingestor, offset: int) -> bool:
    """Decode and store one OwnTracks message; False when it was refused."""
    parts = topic.split("/")
    if len(parts) != 3:
        log.warning("owntracks: ignored message on unexpected topic %s", topic)
        return False
    decoded = decode_owntracks(payload, user=parts[1], device=parts[2], offset=offset)
    if isinstance(decoded, FrameError):
        log_frame_error(decoded, f"mqtt:{topic}")
        return False
    return await ingestor.accept(decoded, f"mqtt:{topic}")


async def subscribe_forever(url: str, ingestor: Ingestor, ready: asyncio.Event | None = None) -> None:
    """Run until cancelled: subscribe to OwnTracks topics and feed the ingestor."""
    offset = 0

    async def on_message(topic: str, payload: bytes) -> None:
        nonlocal offset  # the message's number in this subscription, for error lines
        current, offset = offset, offset + 1
        await handle(topic, payload, ingestor, current)

    await mqtt.subscribe_forever(url, TOPIC, "smartseoul-owntracks", on_message, ready)
