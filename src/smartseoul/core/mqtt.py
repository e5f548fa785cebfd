"""One MQTT subscription that outlives its broker: the loop every device domain shares.

It reconnects on its own with a growing pause (1 s doubling to 60 s), so a broker restart costs a
few seconds of messages at most, and a message whose handling fails is logged and never ends
the subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiomqtt

log = logging.getLogger("smartseoul.mqtt")
MAX_PAUSE_S = 60.0

Handler = Callable[[str, bytes], Awaitable[object]]


async def subscribe_forever(
    url: str, topic: str, identifier: str, handler: Handler, ready: asyncio.Event | None = None
) -> None:
    """Run until cancelled: subscribe to ``topic`` (QoS 1) and give each message to ``handler``
    as (topic, payload bytes); ``ready`` is set once subscribed."""
    parts = urlsplit(url)
    pause = 1.0
    while True:
        try:
            async with aiomqtt.Client(
                parts.hostname or "127.0.0.1",
                parts.port or 1883,
                username=parts.username,
                password=parts.password,
                identifier=identifier,
            ) as client:
                await client.subscribe(topic, qos=1)
                log.info("subscribed to %s on %s", topic, parts.hostname)
                pause = 1.0
                if ready is not None:
                    ready.set()
                async for message in client.messages:
                    payload = (
                        message.payload
                        if isinstance(message.payload, bytes)
                        else str(message.payload).encode()
                    )
                    try:
                        await handler(str(message.topic), payload)
                    except Exception:  # a database hiccup must not end the subscription
                        log.exception("MQTT message on %s failed", message.topic)
        except aiomqtt.MqttError as error:
            log.warning("MQTT broker %s: %s; retrying in %.0f s", parts.hostname, error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
