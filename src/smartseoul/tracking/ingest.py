"""From decoded frames to stored positions and raised alarms.

Positions are written in group commits: each frame waits until the batch holding it is committed
before the device is answered, so an acknowledged position survives a crash, while the database
sees a few large inserts instead of thousands of small ones. Alarms skip the batch: an SOS is
stored and announced at once, with the last known position (and its age) when the device has no
fix, because a child pressing SOS indoors is exactly when the fix is missing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.tracking import consent
from smartseoul.tracking.events import AlarmRaised, DeviceRefused, PositionReceived
from smartseoul.tracking.models import Alarm, Device, Position, ProtectedPerson
from smartseoul.tracking.protocols import Fix, Message

log = logging.getLogger("smartseoul.tracking.ingest")
FUTURE_TOLERANCE = timedelta(hours=1)
PAST_TOLERANCE = timedelta(days=30)
EMERGENCY_ALARMS = frozenset({"sos", "fall"})


@dataclass
class DeviceInfo:
    id: int
    identifier: str
    person_id: int | None
    district_code: str | None
    consent_ok: bool
    fetched: float


@dataclass
class LastFix:
    time: datetime
    lat: float
    lon: float


def check_fix(fix: Fix, now: datetime) -> str | None:
    """Why a fix must be dropped, or None when it may be stored."""
    if fix.time > now + FUTURE_TOLERANCE:
        return f"device time {fix.time.isoformat()} is in the future"
    if fix.time < now - PAST_TOLERANCE:
        return f"device time {fix.time.isoformat()} is more than 30 days old"
    if fix.lat is not None and not -90 <= fix.lat <= 90:
        return f"latitude {fix.lat} out of range"
    if fix.lon is not None and not -180 <= fix.lon <= 180:
        return f"longitude {fix.lon} out of range"
    return None


def stored_validity(fix: Fix) -> bool:
    """A fix counts as GPS only with a fix flag and real coordinates (0,0 is 'no fix')."""
    has_point = fix.lat is not None and fix.lon is not None and not (fix.lat == 0 and fix.lon == 0)
    return fix.valid and has_point and fix.source == "gps"


class Ingestor:
    """Accepts decoded messages from every listener of this process."""

    def __init__(
        self,
        platform: Platform,
        *,
        batch_size: int = 500,
        batch_delay: float = 0.02,
        cache_seconds: float = 30.0,
    ) -> None:
        self.platform = platform
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self.cache_seconds = cache_seconds
        self._devices: dict[str, DeviceInfo] = {}
        self._last_fix: dict[int, LastFix] = {}
        self._batch: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._seen: dict[int, dict[str, Any]] = {}
        self._flush_task: asyncio.Task[None] | None = None
        self.stored = 0
        self.refused = 0
        self.dropped = 0

    # ------------------------------------------------------------ devices

    def _load_device(self, identifier: str) -> DeviceInfo | None:
        with self.platform.db.session() as session:
            device = session.scalar(select(Device).where(Device.identifier == identifier))
            if device is None:
                return None
            person = session.get(ProtectedPerson, device.person_id) if device.person_id else None
            return DeviceInfo(
                device.id,
                identifier,
                device.person_id,
                person.district_code if person else None,
                consent.has_valid_consent(session, person) if person else False,
                time.monotonic(),
            )

    async def device(self, identifier: str) -> DeviceInfo | None:
        cached = self._devices.get(identifier)
        if cached is not None and time.monotonic() - cached.fetched < self.cache_seconds:
            return cached
        info = await asyncio.to_thread(self._load_device, identifier)
        if info is None:
            self._devices.pop(identifier, None)
        else:
            self._devices[identifier] = info
        return info

    def forget(self, identifier: str | None = None) -> None:
        """Drop cached device facts (after a consent or registration change)."""
        if identifier is None:
            self._devices.clear()
        else:
            self._devices.pop(identifier, None)

    # ------------------------------------------------------------ entry point

    async def accept(self, message: Message, client: str = "-") -> bool:
        """Store and announce one message. False when the device is unknown (nothing is stored)."""
        if not message.device_id:
            return False
        info = await self.device(message.device_id)
        if info is None:
            self.refused += 1
            log.warning(
                "refused frame from unregistered device %s (%s) at %s",
                message.device_id,
                message.protocol,
                client,
                extra={"device": message.device_id, "client": client},
            )
            await self.platform.bus.publish(
                DeviceRefused(identifier=message.device_id, protocol=message.protocol, client=client)
            )
            return False
        now = utcnow()
        fix = message.fix
        if fix is not None:
            problem = check_fix(fix, now)
            if problem is not None:
                self.dropped += 1
                log.warning(
                    "dropped frame from %s at offset %d: %s",
                    info.identifier,
                    message.offset,
                    problem,
                    extra={"device": info.identifier, "offset": message.offset, "reason": problem},
                )
                return True
        await self._touch(info, message, now)
        if fix is not None and info.consent_ok:
            await self._store_position(info, message, fix, now)
        elif fix is not None:
            log.info("position of %s not stored: no valid consent for its person", info.identifier)
        for kind in message.alarms:
            await self._raise_alarm(info, kind, fix, now)
        return True

    async def _touch(self, info: DeviceInfo, message: Message, now: datetime) -> None:
        """Remember when the device was last heard; written with the next batch, not per frame."""
        seen = self._seen.setdefault(info.id, {})
        seen["last_seen_at"] = now
        if message.battery_pct is not None:
            seen["battery_pct"] = message.battery_pct
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_later())

    # ------------------------------------------------------------ positions (group commit)

    async def _store_position(self, info: DeviceInfo, message: Message, fix: Fix, now: datetime) -> None:
        valid = stored_validity(fix)
        row = {
            "device_id": info.id,
            "device_time": fix.time,
            "received_at": now,
            "lat": fix.lat,
            "lon": fix.lon,
            "valid": valid,
            "source": fix.source if fix.source != "gps" or valid else "none",
            "speed_kmh": fix.speed_kmh,
            "course": fix.course,
            "accuracy_m": fix.accuracy_m,
            "battery_pct": message.battery_pct,
            "protocol": message.protocol,
        }
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.append((row, future))
        if len(self._batch) >= self.batch_size:
            await self._flush()
        else:
            self._schedule_flush()
        await future
        if valid and fix.lat is not None and fix.lon is not None:
            previous = self._last_fix.get(info.id)
            if previous is None or previous.time <= fix.time:
                self._last_fix[info.id] = LastFix(fix.time, fix.lat, fix.lon)
        await self.platform.bus.publish(
            PositionReceived(
                device_id=info.id,
                person_id=info.person_id,
                device_time=fix.time,
                lat=fix.lat,
                lon=fix.lon,
                valid=valid,
                source=row["source"],
            )
        )

    async def _flush_later(self) -> None:
        """Wait a moment for more frames, then commit until nothing waits: frames that arrive
        while a batch is being written must not be left behind (they would never be answered)."""
        await asyncio.sleep(self.batch_delay)
        while self._batch or self._seen:
            await self._flush()

    async def _flush(self) -> None:
        batch, self._batch = self._batch, []
        seen, self._seen = self._seen, {}
        if not batch and not seen:
            return
        rows = [row for row, _ in batch]

        def run() -> None:
            with self.platform.db.session() as session:
                if rows:
                    session.execute(insert(Position), rows)
                for device_id, values in seen.items():
                    session.execute(update(Device).where(Device.id == device_id).values(**values))

        try:
            await asyncio.to_thread(run)
        except Exception as error:
            log.exception("could not store %d positions", len(rows))
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self.stored += len(rows)
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    async def drain(self) -> None:
        """Commit whatever is waiting (at shutdown)."""
        await self._flush()

    # ------------------------------------------------------------ alarms

    def _last_known(self, session: Session, device_id: int) -> LastFix | None:
        cached = self._last_fix.get(device_id)
        if cached is not None:
            return cached
        row = session.execute(
            select(Position.device_time, Position.lat, Position.lon)
            .where(Position.device_id == device_id, Position.valid.is_(True))
            .order_by(Position.device_time.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return LastFix(row.device_time, row.lat, row.lon)

    async def _raise_alarm(self, info: DeviceInfo, kind: str, fix: Fix | None, now: datetime) -> None:
        def run() -> AlarmRaised:
            with self.platform.db.session() as session:
                alarm = Alarm(
                    device_id=info.id, kind=kind, raised_at=now, device_time=fix.time if fix else None
                )
                if fix is not None and stored_validity(fix):
                    alarm.lat, alarm.lon = fix.lat, fix.lon
                else:
                    last = self._last_known(session, info.id)
                    if last is not None:
                        alarm.lat, alarm.lon = last.lat, last.lon
                        alarm.position_is_last_known = True
                        alarm.position_age_s = round((now - last.time).total_seconds(), 1)
                session.add(alarm)
                session.flush()
                return AlarmRaised(
                    alarm_id=alarm.id,
                    kind=kind,
                    device_id=info.id,
                    person_id=info.person_id,
                    district_code=info.district_code,
                    lat=alarm.lat,
                    lon=alarm.lon,
                    position_is_last_known=alarm.position_is_last_known,
                    position_age_s=alarm.position_age_s,
                    emergency=kind in EMERGENCY_ALARMS,
                )

        event: Event = await asyncio.to_thread(run)
        log.warning(
            "alarm %s from %s", kind, info.identifier, extra={"device": info.identifier, "alarm": kind}
        )
        await self.platform.bus.publish(event)
