"""Tables of the catalog domain: every city service and the channels it is offered on.

``mobile_since`` is the year the service became fully doable on a phone (offered on the mobile
channel with nothing left for the counter); the channel-coverage report (the plan's target
measure, 37% -> 62% -> 100%) is computed from it, per year and per department.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

CHANNELS = ("web", "mobile", "tv", "counter")
ASSURANCE_LEVELS = ("none", "login", "certificate")


class CatalogService(Base):
    """One city service as a citizen finds it in the catalogue."""

    __tablename__ = "catalog_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(64), index=True)
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    assurance: Mapped[str] = mapped_column(String(16))
    fee_krw: Mapped[int] = mapped_column(Integer, default=0)
    processing_days: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str] = mapped_column(String(128))
    mobile_since: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(128), default="")
