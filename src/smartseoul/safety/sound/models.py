"""Tables of the sound domain: microphones (own, or on a bell or a camera) and their detections.

A device row holds its per-class thresholds and its health, so a restarted worker knows which
microphone went quiet without keeping timers in memory. Bells and cameras stay in their own
domains' tables; a sound device only names them (``bell_id`` / ``camera_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

DEVICE_KINDS = ("bell", "camera", "microphone")
HEALTH_STATES = ("unknown", "ok", "silent", "clipping")


class SoundDevice(Base):
    """A microphone whose audio is classified."""

    __tablename__ = "sound_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    bell_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    sample_rate: Mapped[int] = mapped_column(Integer, default=16000)
    stream_url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # class name -> threshold in (0, 1]; a class missing here uses the setting's default
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    last_audio_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoundDetection(Base):
    """One danger sound heard: the class, how sure, where, the clip and the scores around it."""

    __tablename__ = "sound_detections"
    __table_args__ = (Index("ix_sound_detections_device_detected", "device_id", "detected_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("sound_devices.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    level_dbfs: Mapped[float] = mapped_column(Float)
    clip_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # {"times": [seconds before detection...], "classes": [...], "scores": [[...] per time]}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
