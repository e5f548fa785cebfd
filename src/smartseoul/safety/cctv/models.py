"""Tables of the cctv domain: the camera registry, sharing policies, agency membership.

One row of ``cctv_cameras`` is one camera. The national open-data layout lists sites (one row, N
cameras); ``site`` keeps the cameras of one imported row together so that an export gives the
same rows back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

PURPOSES = ("crime", "school_zone", "traffic", "facility", "disaster", "other")
OWNER_KINDS = ("district", "police", "transport", "school", "other")
STATUSES = ("active", "offline", "maintenance", "removed")
AGENCIES = ("control_room", "police", "fire")
VIEW_KINDS = ("live", "playback", "snapshot")


class Camera(Base):
    """One camera: who owns it, why it is there, where it looks, how to reach its streams."""

    __tablename__ = "cctv_cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    site: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(128))
    owner_kind: Mapped[str] = mapped_column(String(16), default="district")
    owner_phone: Mapped[str] = mapped_column(String(32), default="")
    purpose: Mapped[str] = mapped_column(String(16), index=True)
    address_road: Mapped[str] = mapped_column(String(256), default="")
    address_lot: Mapped[str] = mapped_column(String(256), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    neighbourhood_code: Mapped[str | None] = mapped_column(String(7), nullable=True)
    mount_height_m: Mapped[float] = mapped_column(Float, default=4.0)
    direction_deg: Mapped[float] = mapped_column(Float, default=0.0)  # compass bearing of the view
    fov_deg: Mapped[float] = mapped_column(Float, default=90.0)
    range_m: Mapped[float] = mapped_column(Float, default=50.0)
    view_note: Mapped[str] = mapped_column(String(128), default="")  # 촬영방면정보 as written
    megapixels: Mapped[float] = mapped_column(Float, default=2.0)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    installed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    rtsp_main: Mapped[str] = mapped_column(String(512), default="")
    rtsp_sub: Mapped[str] = mapped_column(String(512), default="")
    snapshot_url: Mapped[str] = mapped_column(String(512), default="")
    ptz: Mapped[bool] = mapped_column(Boolean, default=False)
    onvif_url: Mapped[str] = mapped_column(String(512), default="")
    onvif_username: Mapped[str] = mapped_column(String(64), default="")
    onvif_password: Mapped[str] = mapped_column(String(128), default="")
    onvif_profile: Mapped[str] = mapped_column(String(64), default="")
    # Where a PTZ camera points now (degrees; registry state when no ONVIF device answers).
    pan_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    tilt_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    zoom: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    data_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SharingPolicy(Base):
    """Which cameras holders of ``role`` (of ``agency``, if set) may view, and when.

    Empty ``purposes`` or ``district_codes`` mean any; ``start``/``end`` ("HH:MM", Asia/Seoul) bound a
    daily window (``end`` before ``start`` wraps past midnight); ``shared_only`` limits the policy to
    cameras shared with the integrated control room.
    """

    __tablename__ = "cctv_sharing_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    district_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    shared_only: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgencyMember(Base):
    """The agency (police, fire, control room) a viewer works for; accounts carry no agency."""

    __tablename__ = "cctv_agency_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(16))
