"""From decoded frames to stored positions and raised alarms.

Positions are written in group commits: each frame waits until the batch holding it is committed
before the device is answered, so an acknowledged position survives a crash, while the database
sees a few large inserts instead of thousands of small ones. Alarms skip the batch: an SOS is
stored and announced at once, with the last known position (and its age) when the device has no
fix, because a child pressing SOS indoors is exactly when the fix is missing.

Safe zones (``zones.py``) are evaluated for every committed batch: one in-memory pass over the
batch's valid GPS fixes, then the zone states and the alarms they raise in one transaction, before
the batch's frames are answered; the alarms are published after that commit. Device alarms and zone
alarms are stored by the same :func:`store_alarm`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.tracking import consent, zones
from smartseoul.tracking.events import AlarmRaised, DeviceRefused, PositionsReceived
from smartseoul.tracking.models import Alarm, Device, Position, ProtectedPerson
from smartseoul.tracking.protocols import Fix, Message

log = logging.getLogger("smartseoul.tracking.ingest")
FUTURE_TOLERANCE = timedelta(hours=1)
PAST_TOLERANCE = timedelta(days=30)
EMERGENCY_ALARMS = frozenset({"sos", "fall"})
ARRIVAL_CHECK_S = 60.0
# zone states whose side did not change are written at most this often (see zones.ZoneStates)
ZONE_CHECKPOINT_S = 30.0


Commit = asyncio.Future[None]  # resolved once the batch holding the frame's position is committed


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


def store_alarm(
    session: Session,
    *,
    kind: str,
    device_id: int,
    person_id: int | None,
    district_code: str | None,
    now: datetime,
    device_time: datetime | None = None,
    where: LastFix | None = None,
    last_known: bool = False,
    zone_id: int | None = None,
) -> AlarmRaised:
    """Store one alarm (device or safe zone) in the caller's transaction; returns the event to
    publish once that transaction is committed. ``where`` with ``last_known`` is the last known
    position (its age is kept) when the alarm itself came without a fix."""
    alarm = Alarm(device_id=device_id, kind=kind, raised_at=now, device_time=device_time, zone_id=zone_id)
    if where is not None:
        alarm.lat, alarm.lon = where.lat, where.lon
        if last_known:
            alarm.position_is_last_known = True
            alarm.position_age_s = round((now - where.time).total_seconds(), 1)
    session.add(alarm)
    session.flush()
    return AlarmRaised(
        alarm_id=alarm.id,
        kind=kind,
        device_id=device_id,
        person_id=person_id,
        district_code=district_code,
        lat=alarm.lat,
        lon=alarm.lon,
        position_is_last_known=alarm.position_is_last_known,
        position_age_s=alarm.position_age_s,
        emergency=kind in EMERGENCY_ALARMS,
        zone_id=zone_id,
    )


POSITIONS = cast(Table, Position.__table__)
POSITION_COLUMNS = (
    "device_id",
    "device_time",
    "received_at",
    "lat",
    "lon",
    "valid",
    "source",
    "speed_kmh",
    "course",
    "accuracy_m",
    "battery_pct",
    "protocol",
)
# Statements written out once from the models' own names (no outside input reaches them).
COPY_POSITIONS = f"COPY {POSITIONS.name} ({', '.join(POSITION_COLUMNS)}) FROM STDIN"
INSERT_POSITIONS_SQLITE = (
    f"INSERT INTO {POSITIONS.name} ({', '.join(POSITION_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in POSITION_COLUMNS)})"
)


def copy_positions(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows into ``tracking_positions`` with PostgreSQL's ``COPY`` (psycopg 3), in the
    connection's transaction: several times cheaper than an INSERT per row, for both sides.
    The times are aware datetimes (every decoder and the clock give UTC), which psycopg sends
    as ``timestamptz``: the same instants the ORM's UTC type would store."""
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(COPY_POSITIONS) as copy:
        for row in rows:
            copy.write_row([row[name] for name in POSITION_COLUMNS])


def _bound(connection: Connection, table: Table, columns: tuple[str, ...]) -> list[Callable[[Any], Any]]:
    """Each column's bind conversion on this dialect (UTC datetimes to SQLite's text, ...), so
    that a raw executemany stores exactly what the ORM would."""
    dialect = connection.dialect
    identity: Callable[[Any], Any] = lambda value: value  # noqa: E731
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) or identity for name in columns]


def _executemany(connection: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """A raw DBAPI executemany in the connection's transaction: SQLAlchemy's per-row parameter
    handling cost more than SQLite's own insert (found by ``smartseoul bench tracking``)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def insert_positions(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """One batch of positions in the connection's transaction: ``COPY`` on PostgreSQL, one raw
    executemany on SQLite (a Core executemany on any other database)."""
    name = connection.dialect.name
    if name == "postgresql":
        copy_positions(connection, rows)
    elif name == "sqlite":
        pairs = list(zip(POSITION_COLUMNS, _bound(connection, POSITIONS, POSITION_COLUMNS), strict=True))
        _executemany(
            connection, INSERT_POSITIONS_SQLITE, [tuple(f(row[c]) for c, f in pairs) for row in rows]
        )
    else:
        connection.execute(insert(POSITIONS), rows)


DEVICES = cast(Table, Device.__table__)
# One statement for the whole batch on PostgreSQL: an executemany is a round trip of parameter
# handling per device, which was a fifth of the server's CPU at 2,000 watches.
UPDATE_DEVICES_PG = (
    f"UPDATE {DEVICES.name} AS d "  # noqa: S608
    "SET last_seen_at = v.seen, battery_pct = coalesce(v.battery, d.battery_pct) "
    "FROM unnest(%s::integer[], %s::timestamptz[], %s::integer[]) AS v(id, seen, battery) "
    "WHERE d.id = v.id"
)
UPDATE_DEVICES_SQLITE = (
    f"UPDATE {DEVICES.name} "  # noqa: S608
    "SET last_seen_at = ?, battery_pct = coalesce(?, battery_pct) WHERE id = ?"
)


def update_devices(connection: Connection, seen: dict[int, dict[str, Any]]) -> None:
    """Last-seen time and battery of the batch's devices, in id order (one lock order for every
    writer), in the connection's transaction."""
    ordered = sorted(seen.items())
    name = connection.dialect.name
    if name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        ids = [device_id for device_id, _ in ordered]
        times = [values["last_seen_at"] for _, values in ordered]
        batteries = [values.get("battery_pct") for _, values in ordered]
        with raw.cursor() as cursor:
            cursor.execute(UPDATE_DEVICES_PG, (ids, times, batteries))
        return
    if name == "sqlite":
        (to_text,) = _bound(connection, DEVICES, ("last_seen_at",))
        _executemany(
            connection,
            UPDATE_DEVICES_SQLITE,
            [(to_text(v["last_seen_at"]), v.get("battery_pct"), device_id) for device_id, v in ordered],
        )
        return
    statement = (
        update(DEVICES)
        .where(DEVICES.c.id == bindparam("b_id"))
        .values(
            last_seen_at=bindparam("b_seen"),
            battery_pct=func.coalesce(bindparam("b_battery"), DEVICES.c.battery_pct),
        )
    )
    params = [
        {"b_id": device_id, "b_seen": v["last_seen_at"], "b_battery": v.get("battery_pct")}
        for device_id, v in ordered
    ]
    connection.execute(statement, params)


@dataclass
class ZonePlan:
    """What one batch asks of the safe zones: the compiled zones, the fixes, and the time."""

    index: zones.ZoneIndex
    fixes: list[zones.ZoneFix]
    now: datetime


def positions_event(rows: list[dict[str, Any]], infos: list[DeviceInfo]) -> PositionsReceived:
    """The event of one committed batch, validated in one call over plain dicts by pydantic's
    compiled validator: 0.6 us a position, against 1.1 us for one StoredPosition(...) each and
    2.4 us for ``model_construct`` (pure Python)."""
    return PositionsReceived.model_validate(
        {
            "positions": [
                {
                    "device_id": info.id,
                    "person_id": info.person_id,
                    "device_time": row["device_time"],
                    "lat": row["lat"],
                    "lon": row["lon"],
                    "valid": row["valid"],
                    "source": row["source"],
                }
                for row, info in zip(rows, infos, strict=True)
            ]
        }
    )


class Ingestor:
    """Accepts decoded messages from every listener of this process."""

    def __init__(
        self,
        platform: Platform,
        *,
        batch_size: int = 500,
        batch_delay: float = 0.02,
        cache_seconds: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        zone_margin_m: float = zones.DEFAULT_MARGIN_M,
        zone_dwell_s: float = zones.DEFAULT_DWELL_S,
        zone_refresh_s: float = 5.0,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.zone_margin_m = zone_margin_m
        self.zone_dwell_s = zone_dwell_s
        self.zone_refresh_s = zone_refresh_s
        self._zones: zones.ZoneIndex | None = None
        self._zones_checked = 0.0
        self._zone_lock = asyncio.Lock()
        # written behind: durable changes with their batch, the rest every checkpoint
        self._zone_states = zones.ZoneStates(checkpoint_s=ZONE_CHECKPOINT_S)
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self.cache_seconds = cache_seconds
        self._devices: dict[str, DeviceInfo] = {}
        self._refresh_task: asyncio.Task[None] | None = None
        self._last_fix: dict[int, LastFix] = {}
        # the open batch: rows to insert, their devices, and the future each frame waits on
        self._rows: list[dict[str, Any]] = []
        self._infos: list[DeviceInfo] = []
        self._commits: list[Commit] = []
        self._seen: dict[int, dict[str, Any]] = {}
        self._flush_lock = asyncio.Lock()
        self._batch_full = asyncio.Event()
        self._flush_task: asyncio.Task[None] | None = None
        self.stored = 0
        self.refused = 0
        self.dropped = 0
        self.zone_alarms = 0

    # ------------------------------------------------------------ devices

    def _load_devices(self, identifiers: list[str]) -> dict[str, DeviceInfo]:
        """The facts of the registered ones among ``identifiers``, in one transaction and a few
        queries per 500 devices (unregistered ones are absent)."""
        loaded: dict[str, DeviceInfo] = {}
        with self.platform.db.reading() as session:
            devices: list[Device] = []
            for start in range(0, len(identifiers), consent.IN_CHUNK):
                chunk = identifiers[start : start + consent.IN_CHUNK]
                devices.extend(session.scalars(select(Device).where(Device.identifier.in_(chunk))))
            person_ids = sorted({d.person_id for d in devices if d.person_id is not None})
            persons: dict[int, ProtectedPerson] = {}
            for start in range(0, len(person_ids), consent.IN_CHUNK):
                chunk_ids = person_ids[start : start + consent.IN_CHUNK]
                query = select(ProtectedPerson).where(ProtectedPerson.id.in_(chunk_ids))
                persons.update((person.id, person) for person in session.scalars(query))
            valid = consent.with_valid_consent(session, persons.values())
            now = time.monotonic()
            for device in devices:
                person = persons.get(device.person_id) if device.person_id is not None else None
                loaded[device.identifier] = DeviceInfo(
                    device.id,
                    device.identifier,
                    device.person_id,
                    person.district_code if person else None,
                    person is not None and person.id in valid,
                    now,
                )
        return loaded

    async def device(self, identifier: str) -> DeviceInfo | None:
        """The device's facts: from the cache; a device not heard of yet is looked up at once. A
        cached entry older than ``cache_seconds`` is still used while every stale entry is read
        again in one go in the background: one by one, 10,000 watches re-read every half minute
        were a quarter of the server's CPU (found by ``smartseoul bench tracking``)."""
        cached = self._devices.get(identifier)
        if cached is not None:
            if time.monotonic() - cached.fetched >= self.cache_seconds:
                self._refresh_soon()
            return cached
        info = (await asyncio.to_thread(self._load_devices, [identifier])).get(identifier)
        if info is not None:
            self._devices[identifier] = info
        return info

    def _refresh_soon(self) -> None:
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.create_task(self._refresh_stale())

    async def _refresh_stale(self) -> None:
        """Read every stale cached device again; one that is no longer registered is dropped (its
        next frame is refused). A failure keeps the old facts and is retried on the next frame."""
        limit = time.monotonic() - self.cache_seconds
        stale = {key: info for key, info in self._devices.items() if info.fetched <= limit}
        keys = list(stale)
        fresh: dict[str, DeviceInfo] = {}
        try:
            # a few hundred at a time: 10,000 in one transaction held SQLite's lock and the
            # worker thread long enough to delay an SOS by seconds (``smartseoul bench tracking``)
            for start in range(0, len(keys), consent.IN_CHUNK):
                fresh.update(
                    await asyncio.to_thread(self._load_devices, keys[start : start + consent.IN_CHUNK])
                )
        except Exception:
            log.exception("could not re-read %d devices; their cached facts are kept", len(stale))
            return
        for identifier, old in stale.items():
            if self._devices.get(identifier) is not old:
                continue  # forgotten or read afresh meanwhile: that is newer than this read
            info = fresh.get(identifier)
            if info is None:
                del self._devices[identifier]
            else:
                self._devices[identifier] = info

    def forget(self, identifier: str | None = None) -> None:
        """Drop cached device facts (after a consent or registration change); with no identifier,
        the safe zones are reloaded too."""
        if identifier is None:
            self._devices.clear()
            self._zones = None
        else:
            self._devices.pop(identifier, None)

    def forget_zones(self) -> None:
        """Reload the safe zones at the next batch (after a zone was added or removed here)."""
        self._zones = None

    # ------------------------------------------------------------ entry point

    async def accept(self, message: Message, client: str = "-") -> bool:
        """Store and announce one message. False when the device is unknown (nothing is stored).
        Returns once the message's position (if any) is committed."""
        accepted, commit = await self.submit(message, client)
        if commit is not None:
            await commit
        return accepted

    async def submit(self, message: Message, client: str = "-") -> tuple[bool, Commit | None]:
        """Take one message without waiting for its position's commit: whether the device was
        accepted, and a future resolved once the batch holding its position is committed (None
        when nothing is to be stored). The caller must await it before it acknowledges the frame."""
        if not message.device_id:
            return False, None
        info = await self.device(message.device_id)
        if info is None:
            await self._refuse(message, client)
            return False, None
        now = self.clock()
        fix = message.fix
        if fix is not None:
            problem = check_fix(fix, now)
            if problem is not None:
                self._drop(info, message, problem)
                return True, None
        self._touch(info, message, now)
        # Alarms first: an SOS must not wait for the batch that stores its frame's position.
        for kind in message.alarms:
            await self._raise_alarm(info, kind, fix, now)
        if fix is None:
            return True, None
        if not info.consent_ok:
            if log.isEnabledFor(logging.INFO):
                log.info("position of %s not stored: no valid consent for its person", info.identifier)
            return True, None
        return True, await self._enqueue_position(info, message, fix, now)

    async def _refuse(self, message: Message, client: str) -> None:
        self.refused += 1
        log.warning(
            "refused frame from unregistered device %s (%s) at %s",
            message.device_id,
            message.protocol,
            client,
            extra={"device": message.device_id, "client": client},
        )
        await self.platform.bus.publish(
            DeviceRefused(identifier=message.device_id or "", protocol=message.protocol, client=client)
        )

    def _drop(self, info: DeviceInfo, message: Message, problem: str) -> None:
        self.dropped += 1
        log.warning(
            "dropped frame from %s at offset %d: %s",
            info.identifier,
            message.offset,
            problem,
            extra={"device": info.identifier, "offset": message.offset, "reason": problem},
        )

    def _touch(self, info: DeviceInfo, message: Message, now: datetime) -> None:
        """Remember when the device was last heard; written with the next batch, not per frame."""
        seen = self._seen.get(info.id)
        if seen is None:
            seen = self._seen[info.id] = {}
        seen["last_seen_at"] = now
        if message.battery_pct is not None:
            seen["battery_pct"] = message.battery_pct
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_later())

    # ------------------------------------------------------------ positions (group commit)

    async def _enqueue_position(self, info: DeviceInfo, message: Message, fix: Fix, now: datetime) -> Commit:
        """Add the position to the open batch; returns the batch's commit future."""
        valid = stored_validity(fix)
        source = fix.source
        self._rows.append(
            {
                "device_id": info.id,
                "device_time": fix.time,
                "received_at": now,
                "lat": fix.lat,
                "lon": fix.lon,
                "valid": valid,
                "source": source if valid or source != "gps" else "none",
                "speed_kmh": fix.speed_kmh,
                "course": fix.course,
                "accuracy_m": fix.accuracy_m,
                "battery_pct": message.battery_pct,
                "protocol": message.protocol,
            }
        )
        self._infos.append(info)
        commit: Commit = asyncio.get_running_loop().create_future()
        self._commits.append(commit)
        if len(self._rows) >= self.batch_size:
            self._batch_full.set()
        self._schedule_flush()
        return commit

    async def _flush_later(self) -> None:
        """Wait a moment for more frames (less once the batch is full), then commit until nothing
        waits: frames that arrive while a batch is being written must not be left behind (they
        would never be answered). The one flusher of the process: a sender whose frame fills the
        batch does not write it itself, because every sender after it queued up behind the flush
        lock as well, each for a batch of its own, and an SOS watch's next frame waited seconds
        behind them (found by ``smartseoul bench tracking``)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.batch_delay):
                await self._batch_full.wait()
        self._batch_full.clear()
        while self._rows or self._seen:
            await self._flush()

    async def _flush(self) -> None:
        # One flush at a time: two concurrent ones updated the same device rows in different
        # orders and deadlocked on PostgreSQL (found by `smartseoul bench tracking`).
        async with self._flush_lock:
            await self._flush_now()

    def _store_batch(
        self, rows: list[dict[str, Any]], seen: dict[int, dict[str, Any]], plan: ZonePlan | None
    ) -> list[Event]:
        """The whole write side of one batch in one worker-thread hop and one pooled connection
        (one pre-ping), in three transactions so that nothing after the positions can undo them:
        the positions (an error here is raised: their frames are not answered), the devices'
        last-seen, then the zone states and the alarms they raise (errors there are logged)."""
        with self.platform.db.engine.connect() as connection:
            if rows:
                with connection.begin():
                    insert_positions(connection, rows)
            if seen:
                try:
                    with connection.begin():
                        update_devices(connection, seen)
                except Exception:
                    log.exception("could not update last-seen of %d devices", len(seen))
            if plan is None:
                return []
            try:
                with Session(bind=connection, expire_on_commit=False) as session:
                    found = zones.evaluate(
                        session,
                        plan.index,
                        plan.fixes,
                        now=plan.now,
                        margin_m=self.zone_margin_m,
                        dwell_s=self.zone_dwell_s,
                        states=self._zone_states,
                    )
                    events = self._store_zone_alarms(session, found, plan.now)
                    session.commit()
                    return events
            except Exception:
                log.exception("safe zones not evaluated for %d positions", len(plan.fixes))
                # the transaction was rolled back: read the states again rather than trust memory
                self._zone_states = zones.ZoneStates(checkpoint_s=ZONE_CHECKPOINT_S)
                return []

    async def _flush_now(self) -> None:
        # At most one batch: a larger write held the GIL in the worker thread for longer than
        # the event loop could wait (every connection's frames queued behind it)
        size = self.batch_size
        rows, self._rows = self._rows[:size], self._rows[size:]
        infos, self._infos = self._infos[:size], self._infos[size:]
        commits, self._commits = self._commits[:size], self._commits[size:]
        seen, self._seen = self._seen, {}
        if not rows and not seen:
            return
        # The zone lock is held across the write: the states the evaluation changes are the
        # ones the every-minute arrival check reads.
        async with self._zone_lock:
            try:
                plan = await self._zone_plan(rows, infos)
                events = await asyncio.to_thread(self._store_batch, rows, seen, plan)
            except Exception as error:
                log.exception("could not store %d positions", len(rows))
                for commit in commits:
                    if not commit.done():
                        commit.set_exception(error)
                return
        self.stored += len(rows)
        self._remember_fixes(rows)
        for commit in commits:
            if not commit.done():
                commit.set_result(None)
        await self._publish_alarms(events)
        if rows:
            await self.platform.bus.publish(positions_event(rows, infos))

    def _remember_fixes(self, rows: list[dict[str, Any]]) -> None:
        """The newest committed GPS fix of each device: an SOS without a fix reports it."""
        last = self._last_fix
        for row in rows:
            if not row["valid"]:
                continue
            device_id, at = row["device_id"], row["device_time"]
            previous = last.get(device_id)
            if previous is None or previous.time <= at:
                last[device_id] = LastFix(at, row["lat"], row["lon"])

    async def drain(self) -> None:
        """Commit whatever is waiting (at shutdown), zone states included."""
        await self._flush()
        async with self._zone_lock:
            await asyncio.to_thread(self._checkpoint_zone_states)

    def _checkpoint_zone_states(self) -> None:
        with self.platform.db.session() as session:
            self._zone_states.save(session, force=True)
            session.commit()

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
                here = fix is not None and stored_validity(fix)
                if here and fix is not None and fix.lat is not None and fix.lon is not None:
                    where: LastFix | None = LastFix(fix.time, fix.lat, fix.lon)
                else:
                    where = self._last_known(session, info.id)
                return store_alarm(
                    session,
                    kind=kind,
                    device_id=info.id,
                    person_id=info.person_id,
                    district_code=info.district_code,
                    now=now,
                    device_time=fix.time if fix else None,
                    where=where,
                    last_known=not here,
                )

        event: Event = await asyncio.to_thread(run)
        log.warning(
            "alarm %s from %s", kind, info.identifier, extra={"device": info.identifier, "alarm": kind}
        )
        await self.platform.bus.publish(event)

    # ------------------------------------------------------------ safe zones

    def _load_zones(self) -> zones.ZoneIndex:
        with self.platform.db.reading() as session:
            current = self._zones
            if current is not None and zones.signature(session) == current.signature:
                return current
            return zones.ZoneIndex.load(session)

    async def warm_zones(self) -> None:
        """Compile the zones and read their states ahead of the first fix (under the lock the
        evaluation takes)."""
        async with self._zone_lock:
            await self.zone_index()
            await asyncio.to_thread(self._preload_zone_states)

    def _preload_zone_states(self) -> None:
        with self.platform.db.reading() as session:
            self._zone_states.preload(session)

    async def zone_index(self) -> zones.ZoneIndex:
        """The compiled zones, reloaded when a zone was added or removed (checked every few seconds)."""
        if self._zones is None or time.monotonic() - self._zones_checked >= self.zone_refresh_s:
            self._zones = await asyncio.to_thread(self._load_zones)
            self._zones_checked = time.monotonic()
        return self._zones

    def _store_zone_alarms(
        self, session: Session, found: list[zones.ZoneAlarm], now: datetime
    ) -> list[Event]:
        events: list[Event] = []
        for alarm in found:
            device_id, district, where, last_known = alarm.device_id, alarm.district_code, None, False
            if device_id is None:  # the periodic check: the person's most recently heard device
                device_id = session.scalar(
                    select(Device.id)
                    .where(Device.person_id == alarm.person_id)
                    .order_by(Device.last_seen_at.desc().nulls_last(), Device.id)
                    .limit(1)
                )
                if device_id is None:
                    log.warning("%s for person %d: the person has no device", alarm.kind, alarm.person_id)
                    continue
                person = session.get(ProtectedPerson, alarm.person_id)
                district = person.district_code if person else None
                where, last_known = self._last_known(session, device_id), True
            elif alarm.lat is not None and alarm.lon is not None and alarm.device_time is not None:
                where = LastFix(alarm.device_time, alarm.lat, alarm.lon)
            events.append(
                store_alarm(
                    session,
                    kind=alarm.kind,
                    device_id=device_id,
                    person_id=alarm.person_id,
                    district_code=district,
                    now=now,
                    device_time=alarm.device_time,
                    where=where,
                    last_known=last_known,
                    zone_id=alarm.zone_id,
                )
            )
        return events

    async def _zone_plan(self, rows: list[dict[str, Any]], infos: list[DeviceInfo]) -> ZonePlan | None:
        """The batch's valid GPS fixes of people with safe zones, with the compiled zones (read
        under the zone lock); None when there is nothing to evaluate."""
        if not rows or not self.platform.settings.tracking_zones:
            return None
        try:
            index = await self.zone_index()
        except Exception:  # the positions are stored all the same; the next batch tries again
            log.exception("safe zones not loaded; %d positions not evaluated", len(rows))
            return None
        watched = index.by_person
        fixes = [
            zones.ZoneFix(
                info.person_id,
                info.id,
                row["device_time"],
                row["lat"],
                row["lon"],
                row["accuracy_m"],
                info.district_code,
            )
            for row, info in zip(rows, infos, strict=True)
            if row["valid"] and info.person_id is not None and watched.get(info.person_id)
        ]
        return ZonePlan(index, fixes, self.clock()) if fixes else None

    async def check_arrivals(self, now: datetime | None = None) -> list[Event]:
        """Raise "not_arrived" for every zone whose person is overdue (the every-minute task)."""
        if not self.platform.settings.tracking_zones:
            return []
        at = now or self.clock()
        async with self._zone_lock:
            index = await self.zone_index()

            def run() -> list[Event]:
                with self.platform.db.session() as session:
                    found = zones.arrivals(session, index, at, self._zone_states)
                    return self._store_zone_alarms(session, found, at)

            events = await asyncio.to_thread(run)
        await self._publish_alarms(events)
        return events

    async def _publish_alarms(self, events: list[Event]) -> None:
        for event in events:
            self.zone_alarms += 1
            assert isinstance(event, AlarmRaised)
            log.warning(
                "alarm %s for person %s (zone %s)",
                event.kind,
                event.person_id,
                event.zone_id,
                extra={"alarm": event.kind, "zone": event.zone_id},
            )
            try:
                await self.platform.bus.publish(event)
            except Exception:
                log.exception("alarm %s stored but not published", event.kind)


async def check_arrivals_forever(ingestor: Ingestor, interval: float = ARRIVAL_CHECK_S) -> None:
    """Started by the plugin: "not arrived by" is due even when no position comes in."""
    while True:
        try:
            await ingestor.check_arrivals()
        except Exception:
            log.exception("arrival check failed; will retry")
        await asyncio.sleep(interval)
