"""Tables of the incidents domain: incidents and their timeline, raw alarms, bells, agencies, outbox.

Every deadline (acknowledgement, heartbeat, delivery retry, agency acknowledgement) is a column, so a
restarted process finds the work where the last one left it: the periodic task reads the deadlines,
never an in-memory timer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

STATUSES = ("new", "acknowledged", "dispatched", "on_scene", "resolved", "closed")
OPEN_STATUSES = ("new", "acknowledged", "dispatched", "on_scene")
SOURCES = ("bell", "tracking", "sound", "video", "citizen", "operator", "camera")
AGENCY_KINDS = ("police", "fire", "school_guard", "district")
HANDOVER_STATUSES = ("pending", "delivered", "failed", "acknowledged")
INTERCOM_STATES = ("requested", "ringing", "connected", "ended")


class Incident(Base):
    """One thing that needs the control room, whatever raised it."""

    __tablename__ = "incidents_incidents"
    __table_args__ = (Index("ix_incidents_incidents_status_last_alarm_at", "status", "last_alarm_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    # "emergency" alarms correlate with each other; "fault" ones (a camera, a bell) only by subject
    family: Mapped[str] = mapped_column(String(16), default="emergency")
    subject: Mapped[str] = mapped_column(String(64), default="", index=True)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="new")
    title_ko: Mapped[str] = mapped_column(String(256))
    title_en: Mapped[str] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    school_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    night: Mapped[bool] = mapped_column(Boolean, default=False)
    alarm_count: Mapped[int] = mapped_column(Integer, default=1)
    camera_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    bell_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_alarm_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dispatched_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    on_scene_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class TimelineEntry(Base):
    """One line of an incident's history: an alarm, a status change, a note, cameras, a hand-over."""

    __tablename__ = "incidents_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RawAlarm(Base):
    """Each alarm as it came in, and the incident it joined (the correlation's input and proof)."""

    __tablename__ = "incidents_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(96), index=True)  # e.g. "tracking.alarm:12", "bell:B-1"
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    priority: Mapped[int] = mapped_column(Integer)


class Bell(Base):
    """An emergency bell on a pole: where it is, what it can do, and whether it is healthy."""

    __tablename__ = "incidents_bells"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    camera_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    has_speaker: Mapped[bool] = mapped_column(Boolean, default=True)
    has_intercom: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | fault | tamper
    fault_reason: Mapped[str] = mapped_column(String(256), default="")
    http_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_pressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IntercomSession(Base):
    """The operator talking through a bell: requested -> ringing -> connected -> ended."""

    __tablename__ = "incidents_intercom_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bell_id: Mapped[str] = mapped_column(ForeignKey("incidents_bells.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(64), default="")


class Agency(Base):
    """Police, fire (119), school security guards or a district duty room, with its area and webhook."""

    __tablename__ = "incidents_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name_ko: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    district_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # GeoJSON geometry
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    webhook_url: Mapped[str] = mapped_column(String(512), default="")
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Handover(Base):
    """The outbox row of one hand-over: delivered by the worker, acknowledged by the agency."""

    __tablename__ = "incidents_handovers"
    __table_args__ = (Index("ix_incidents_handovers_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_agencies.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    realerts: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DeliveryAttempt(Base):
    """One try at posting a hand-over: the desk sees every one, failed or not."""

    __tablename__ = "incidents_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_handovers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
