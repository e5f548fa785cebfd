"""Tables of the videowall domain: camera groups, tours, and the health of each watched camera.

Cameras belong to the cctv domain; these tables hold only camera ids (no foreign key into another
domain's table: the registry is reached through its service API, and a camera removed there
simply drops out of a group when the group is read).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

LAYOUTS = (1, 4, 9, 16)


class CameraGroup(Base):
    """A named set of cameras shown together on the wall (a station exit, a school's gates)."""

    __tablename__ = "videowall_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(String(512), default="")
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupCamera(Base):
    """One camera of a group, in the order it takes on the wall."""

    __tablename__ = "videowall_group_cameras"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("videowall_groups.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tour(Base):
    """Groups shown in turn, a page of ``layout`` tiles at a time, each for ``dwell_s`` seconds."""

    __tablename__ = "videowall_tours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    layout: Mapped[int] = mapped_column(Integer, default=4)
    dwell_s: Mapped[int] = mapped_column(Integer, default=15)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraHealth(Base):
    """The health monitor's state of one camera, kept so a restart neither forgets nor re-raises."""

    __tablename__ = "videowall_camera_health"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem: Mapped[str] = mapped_column(String(16), default="ok", index=True)  # the raised problem
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str] = mapped_column(String(256), default="")
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HealthAlarm(Base):
    """One raised problem of a camera, open until the camera is fine again."""

    __tablename__ = "videowall_health_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    problem: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(256), default="")
    camera_name: Mapped[str] = mapped_column(String(128), default="")
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class ReferenceFrame(Base):
    """A camera's picture when it was known to be fine: what "moved" and "blurred" compare with."""

    __tablename__ = "videowall_reference_frames"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by: Mapped[str] = mapped_column(String(128), default="")
