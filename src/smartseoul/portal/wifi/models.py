"""Tables of the wifi domain.

The city domain has no table of public facilities, so the facilities that should offer free WiFi
live here (``wifi_facilities``). An access point's health (``up``/``down``/``unknown``) is kept on
its row and changed only by conditional UPDATEs, so two processes never raise the same outage
twice. RADIUS accounting records are stored one row per (session id, status type): a file imported
twice, or a packet the NAS retransmits, adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

FACILITY_KINDS = (
    "community_centre",
    "library",
    "park",
    "market",
    "bus_stop",
    "subway_station",
    "welfare_centre",
)
BACKHAULS = ("city_fibre", "carrier")
AP_STATUSES = ("active", "maintenance", "retired")
HEALTH = ("up", "down", "unknown")


class WifiFacility(Base):
    """A public facility that the plan says must have free WiFi."""

    __tablename__ = "wifi_facilities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name_ko: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class WifiAccessPoint(Base):
    """One access point: where it is, what it broadcasts, how it reaches the network, how it is."""

    __tablename__ = "wifi_access_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("wifi_facilities.id"), index=True)
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ssids: Mapped[list[str]] = mapped_column(JSON, default=list)
    backhaul: Mapped[str] = mapped_column(String(16), default="city_fibre")
    vendor: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    health: Mapped[str] = mapped_column(String(16), default="unknown", index=True)
    last_report_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    clients: Mapped[int] = mapped_column(Integer, default=0)
    rx_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    tx_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WifiOutage(Base):
    """A period an access point was down; ``ended_at`` is empty while it lasts."""

    __tablename__ = "wifi_outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[int] = mapped_column(ForeignKey("wifi_access_points.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(String(32))


class WifiAccounting(Base):
    """One RADIUS accounting record (Start, Interim-Update or Stop). The user is a keyed hash only."""

    __tablename__ = "wifi_accounting"
    __table_args__ = (UniqueConstraint("session_id", "status_type", "event_at", name="uq_wifi_accounting"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    status_type: Mapped[str] = mapped_column(String(16))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    ap_mac: Mapped[str] = mapped_column(String(17), index=True)
    ssid: Mapped[str] = mapped_column(String(64), default="")
    ap_id: Mapped[int | None] = mapped_column(ForeignKey("wifi_access_points.id"), nullable=True, index=True)
    session_time_s: Mapped[int] = mapped_column(Integer, default=0)
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(16), default="file")
