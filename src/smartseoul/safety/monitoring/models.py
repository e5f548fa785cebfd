"""Tables of the monitoring domain: which cameras are analysed, their rules, what was detected.

Cameras belong to the cctv domain: these tables hold camera ids only (no foreign key into another
domain's tables; the registry is reached through its service API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

VERDICTS = ("correct", "false_positive")


class MonitoredCamera(Base):
    """A camera the software watches: where its stream is, its tuned threshold, its motion masks.

    ``stream_url`` overrides the registry's sub-stream (the demo points cameras at the local stream
    server); empty means the registry's ``rtsp_sub``, else ``rtsp_main``, else ``snapshot_url``.
    """

    __tablename__ = "monitoring_cameras"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream_url: Mapped[str] = mapped_column(String(512), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[float] = mapped_column(Float, default=0.5)
    masks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitoringRule(Base):
    """One rule on a zone of a camera's picture (see ``rules.py`` for the kinds)."""

    __tablename__ = "monitoring_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(24))
    zone: Mapped[list[Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Detection(Base):
    """A rule that fired: the evidence (snapshot file under the data dir), and the operator's verdict."""

    __tablename__ = "monitoring_detections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(24))
    track_id: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(200), default="")
    snapshot: Mapped[str] = mapped_column(String(256), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    verdict: Mapped[str] = mapped_column(String(16), default="")
    verdict_by: Mapped[str] = mapped_column(String(128), default="")
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
