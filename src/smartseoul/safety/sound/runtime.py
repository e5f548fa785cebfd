"""The sound domain in a running process: one detector per streaming device, the live meter hub,
the silent-device check, camera audio readers and the bell microphones' MQTT subscription.

Packets from any transport (WebSocket, MQTT, HTTP, a camera's audio track) go through
:meth:`SoundHub.feed`; the hub keeps per-device state in memory (the sliding window, the cooldown)
and everything that must survive a restart (detections, clips, health) in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.safety.sound import service
from smartseoul.safety.sound.detector import Hit, StreamDetector
from smartseoul.safety.sound.features import SAMPLE_RATE
from smartseoul.safety.sound.ingest import BadAudio, Resampler, av_chunks, pcm_s16le
from smartseoul.safety.sound.model import shipped

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

log = logging.getLogger("smartseoul.sound")
T = TypeVar("T")
HUB_KEY = "sound.hub"
TOUCH_EVERY_S = 5.0  # write last_audio_at at most this often per device
METER_EVERY_S = 0.25
AUDIO_TOPIC = "smartseoul/bells/+/audio"


@dataclass
class DeviceState:
    """A device's live state: its detector, rate converter and bookkeeping."""

    device_id: str
    detector: StreamDetector
    resampler: Resampler
    corrupt_packets: int = 0
    packets: int = 0
    last_touch: float = 0.0
    last_meter: float = 0.0
    saturated: bool = False


async def in_transaction(platform: Platform, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with platform.db.session() as session:
            return work(session)

    return await asyncio.to_thread(run)


class SoundHub:
    """Per-process detection state and the fan-out of meters and detections to console screens."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.states: dict[str, DeviceState] = {}
        self.bell_devices: dict[str, str] = {}
        self._listeners: set[asyncio.Queue[str]] = set()
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------ devices

    def _new_state(self, device_id: str, rate: int, thresholds: dict[str, float]) -> DeviceState:
        settings = self.platform.settings
        detector = StreamDetector(
            shipped(),
            thresholds,
            gate_dbfs=settings.sound_gate_dbfs,
            hop_s=settings.sound_hop_s,
            cooldown_s=settings.sound_cooldown_s,
            clip_s=settings.sound_clip_s,
        )
        return DeviceState(device_id, detector, Resampler(rate))

    async def state(self, device_id: str, rate: int | None = None) -> DeviceState:
        """The device's live state, created from its row on first use (raises UnknownDevice)."""
        found = self.states.get(device_id)
        if found is not None and (rate is None or found.resampler.rate == rate):
            return found
        settings = self.platform.settings

        def load(session: Session) -> tuple[int, dict[str, float]]:
            device = service.get_device(session, device_id)
            return device.sample_rate, service.effective_thresholds(device, settings)

        stored_rate, thresholds = await in_transaction(self.platform, load)
        created = self._new_state(device_id, rate or stored_rate, thresholds)
        self.states[device_id] = created
        return created

    def update_thresholds(self, device_id: str, thresholds: dict[str, float]) -> None:
        found = self.states.get(device_id)
        if found is not None:
            found.detector.set_thresholds(thresholds)

    # ------------------------------------------------------------ audio in

    async def feed_pcm(
        self, device_id: str, payload: bytes, rate: int | None = None, at: datetime | None = None
    ) -> list[Event]:
        """One PCM s16le packet; a corrupt one is counted and what is usable of it still heard."""
        state = await self.state(device_id, rate)
        try:
            samples, corrupt = pcm_s16le(payload)
        except BadAudio:
            state.corrupt_packets += 1
            return []
        if corrupt:
            state.corrupt_packets += 1
        return await self.feed(device_id, state.resampler.push(samples), at=at)

    async def feed(self, device_id: str, samples16k: np.ndarray, at: datetime | None = None) -> list[Event]:
        """16 kHz mono audio that ended at ``at``: detect, store hits, publish events."""
        state = await self.state(device_id)
        at = at or utcnow()
        state.packets += 1
        hits = state.detector.feed(samples16k, at) if samples16k.size else []
        self._meter(state)
        events: list[Event] = []
        now = time.monotonic()
        saturated = state.detector.meter.saturated
        if hits or now - state.last_touch >= TOUCH_EVERY_S or saturated != state.saturated:
            state.last_touch, state.saturated = now, saturated
            events = await in_transaction(
                self.platform, lambda s: self._store(s, device_id, hits, at, saturated)
            )
            for event in events:
                await self.platform.bus.publish(event)
                self._broadcast("detection" if event.type == "sound.detection.v1" else "health", event.data())
        return events

    def _store(
        self, session: Session, device_id: str, hits: list[Hit], at: datetime, saturated: bool
    ) -> list[Event]:
        device = service.get_device(session, device_id)
        events: list[Event] = []
        health = service.mark_audio(device, at, saturated)
        if health is not None:
            events.append(health)
        for hit in hits:
            events.append(service.record_detection(session, self.platform.settings, device, hit))
        return events

    # ------------------------------------------------------------ screens

    def _meter(self, state: DeviceState) -> None:
        now = time.monotonic()
        if not self._listeners or now - state.last_meter < METER_EVERY_S:
            return
        state.last_meter = now
        meter = state.detector.meter
        self._broadcast(
            "level",
            {
                "device_id": state.device_id,
                "level_dbfs": meter.level_dbfs,
                "gated": meter.gated,
                "saturated": meter.saturated,
                "scores": meter.scores,
            },
        )

    def _broadcast(self, kind: str, data: dict[str, Any]) -> None:
        message = f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
        for queue in list(self._listeners):
            if queue.qsize() < 500:  # a slow screen loses meter frames, never blocks the detector
                queue.put_nowait(message)

    async def listen(self, heartbeat_s: float = 15.0) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            yield ": connected\n\n"
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
        finally:
            self._listeners.discard(queue)

    # ------------------------------------------------------------ background work

    async def check_silent_once(self, now: datetime | None = None) -> list[Event]:
        settings = self.platform.settings
        events: list[Event] = list(
            await in_transaction(self.platform, lambda s: service.check_silent(s, settings, now))
        )
        for event in events:
            await self.platform.bus.publish(event)
            self._broadcast("health", event.data())
        return events

    async def _silent_forever(self) -> None:
        pause = max(1.0, self.platform.settings.sound_silent_after_s / 4)
        while True:
            await asyncio.sleep(pause)
            try:
                await self.check_silent_once()
            except Exception:  # a database hiccup must not end the check
                log.exception("silent-device check failed")

    async def read_camera(self, device_id: str, url: str) -> None:
        """Follow a camera's audio track until cancelled, reconnecting with a growing pause."""
        pause = 1.0
        while True:
            queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue(maxsize=64)
            loop = asyncio.get_running_loop()

            reader = asyncio.create_task(asyncio.to_thread(_pump, device_id, url, queue, loop))
            while (chunk := await queue.get()) is not None:
                await self.feed(device_id, chunk)
                pause = 1.0
            await reader
            await asyncio.sleep(pause)
            pause = min(pause * 2, 60.0)

    async def on_mqtt(self, topic: str, payload: bytes) -> None:
        """``smartseoul/bells/{bell}/audio``: raw s16le at the device's configured rate."""
        parts = topic.split("/")
        if len(parts) != 4 or parts[3] != "audio":
            return
        device_id = self.bell_devices.get(parts[2])
        if device_id is None:
            await self.refresh_bells()
            device_id = self.bell_devices.get(parts[2])
        if device_id is None:
            log.info("audio from unknown bell %s ignored", parts[2])
            return
        await self.feed_pcm(device_id, payload)

    async def refresh_bells(self) -> None:
        def load(session: Session) -> dict[str, str]:
            return {d.bell_id: d.id for d in service.list_devices(session) if d.bell_id and d.enabled}

        self.bell_devices = await in_transaction(self.platform, load)

    async def start(self) -> None:
        settings = self.platform.settings
        if not settings.sound_workers:
            return
        self._tasks.append(asyncio.create_task(self._silent_forever()))
        cameras = await in_transaction(
            self.platform,
            lambda s: [(d.id, d.stream_url) for d in service.list_devices(s) if d.stream_url and d.enabled],
        )
        for device_id, url in cameras:
            self._tasks.append(asyncio.create_task(self.read_camera(device_id, str(url))))
        if settings.sound_mqtt_url:
            from smartseoul.core.mqtt import subscribe_forever

            await self.refresh_bells()
            self._tasks.append(
                asyncio.create_task(
                    subscribe_forever(settings.sound_mqtt_url, AUDIO_TOPIC, "smartseoul-sound", self.on_mqtt)
                )
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


def _pump(
    device_id: str, url: str, queue: asyncio.Queue[np.ndarray | None], loop: asyncio.AbstractEventLoop
) -> None:
    """Decode a camera's audio in a worker thread and hand the chunks to the event loop."""
    try:
        for chunk in av_chunks(url, timeout="5000000"):
            asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()
    except BadAudio as error:
        log.warning("camera audio %s: %s", device_id, error)
    finally:
        asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()


def hub_of(platform: Platform) -> SoundHub:
    """The process's hub (created on first use, so tests and the CLI need no startup hook)."""
    hub = platform.cache.get(HUB_KEY)
    if hub is None:
        hub = SoundHub(platform)
        platform.cache[HUB_KEY] = hub
    return hub


def seconds_of(samples: int) -> timedelta:
    return timedelta(seconds=samples / SAMPLE_RATE)
