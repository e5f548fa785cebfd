"""OwnTracks over MQTT: phones publish to ``owntracks/USER/DEVICE`` on the city's broker.

The subscriber reconnects on its own (with a growing pause) so that a broker restart costs a
few seconds of positions at most, and one malformed message never stops it.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aiomqtt

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
    parts = urlsplit(url)
    pause = 1.0
    offset = 0
    while True:
        try:
            async with aiomqtt.Client(
                parts.hostname or "127.0.0.1",
                parts.port or 1883,
                username=parts.username,
                password=parts.password,
                identifier="smartseoul-owntracks",
            ) as client:
                await client.subscribe(TOPIC, qos=1)
                log.info("subscribed to %s on %s", TOPIC, parts.hostname)
                pause = 1.0
                if ready is not None:
                    ready.set()
                async for message in client.messages:
                    payload = (
                        message.payload
                        if isinstance(message.payload, bytes)
                        else str(message.payload).encode()
                    )
                    await handle(str(message.topic), payload, ingestor, offset)
                    offset += 1
        except aiomqtt.MqttError as error:
            log.warning("MQTT broker %s: %s; retrying in %.0f s", parts.hostname, error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 60.0)
