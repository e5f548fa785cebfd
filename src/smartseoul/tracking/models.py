"""Tables of the location safety service.

Positions are append-only (the database refuses UPDATE on them); the records of provision of
location data are kept apart from positions so that purging old positions under the retention
period never removes the proof of who was given what.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

CATEGORIES = ("child", "low_income_child", "intellectual_disability", "dementia")
PROTOCOLS = ("osmand", "watch", "gt06", "h02", "owntracks")


class ProtectedPerson(Base):
    __tablename__ = "tracking_persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Severe disability or dementia: the person cannot consent alone (Location Information Act).
    cannot_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("city_schools.id", ondelete="SET NULL"), nullable=True
    )
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Guardianship(Base):
    """A guardian's link to a person, with what the guardian may do."""

    __tablename__ = "tracking_guardianships"
    __table_args__ = (UniqueConstraint("person_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("tracking_persons.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(32))
    legal_representative: Mapped[bool] = mapped_column(Boolean, default=False)
    can_view_location: Mapped[bool] = mapped_column(Boolean, default=True)
    can_manage_zones: Mapped[bool] = mapped_column(Boolean, default=False)
    receives_alerts: Mapped[bool] = mapped_column(Boolean, default=True)


class Consent(Base):
    """One consent to collect and provide location data, and its withdrawal."""

    __tablename__ = "tracking_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("tracking_persons.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[str] = mapped_column(String(16))  # "person" or "guardian"
    guardian_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    written_record: Mapped[str] = mapped_column(String(256), default="")  # reference of the signed form
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(128))


class Device(Base):
    __tablename__ = "tracking_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    protocol: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_persons.id", ondelete="SET NULL"), nullable=True, index=True
    )
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    battery_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Position(Base):
    """A position as received; ``valid`` is False when the device had no GPS fix."""

    __tablename__ = "tracking_positions"
    __table_args__ = (Index("ix_tracking_positions_device_time", "device_id", "device_time"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("tracking_devices.id", ondelete="CASCADE"))
    device_time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    course: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_pct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    protocol: Mapped[str] = mapped_column(String(16))


class Alarm(Base):
    """An alarm from a device or a safe zone; SOS without a fix carries the last known position, aged."""

    __tablename__ = "tracking_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("tracking_devices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    position_is_last_known: Mapped[bool] = mapped_column(Boolean, default=False)
    position_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The safe zone behind a geofence_exit, geofence_enter, left_school or not_arrived alarm.
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_safe_zones.id", ondelete="SET NULL"), nullable=True
    )


class LocationProvision(Base):
    """The record of one provision of a person's location data (kept after positions are purged)."""

    __tablename__ = "tracking_provisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("tracking_persons.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str] = mapped_column(String(128))
    recipient_role: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(Text)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


ZONE_KINDS = ("polygon", "circle", "corridor")
ZONE_ROLES = ("school", "home", "route", "other")


class SafeZone(Base):
    """A safe zone of one person: a polygon, a circle (centre + ``radius_m``) or a corridor (a route
    as a LineString + ``width_m``), watched during its ``schedule`` (Asia/Seoul; empty = always)."""

    __tablename__ = "tracking_safe_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("tracking_persons.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    # GeoJSON in lon/lat: Polygon, Point (circle centre) or LineString (corridor centre line).
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    width_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    # [{"days": [0-6, Monday = 0], "start": "HH:MM", "end": "HH:MM"}], Asia/Seoul; empty = always.
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(16), default="other")
    alert_on_exit: Mapped[bool] = mapped_column(Boolean, default=True)
    alert_on_enter: Mapped[bool] = mapped_column(Boolean, default=False)
    # "HH:MM" on schedule days: "not_arrived" when the person is not confirmed inside by then.
    arrive_by: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class ZoneState(Base):
    """Where a person stands with one zone, kept in the database so that a restart neither forgets
    a pending change nor raises an alarm twice."""

    __tablename__ = "tracking_zone_states"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_persons.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_safe_zones.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    inside: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    # When positions started to be clearly on the other side (None: no change under way).
    pending_change_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Device time of the last GPS fix evaluated (older fixes arriving late are ignored).
    last_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Device time of the last fix while confirmed inside ("has the child arrived today?").
    last_inside_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Seoul day on which "not_arrived" was raised (once per day).
    not_arrived_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class FindNowRequest(Base):
    """A guardian's emergency "find now" request: who asked, why, what position was given and
    whether the device itself was asked for a fresh fix. Kept like the records of provision."""

    __tablename__ = "tracking_findnow_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("tracking_persons.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    position_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    devices_asked: Mapped[list[str]] = mapped_column(JSON, default=list)
