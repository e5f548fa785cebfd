"""Tables of the placement domain: stored plans and the cameras they propose, for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartseoul.core.db import Base, UTCDateTime, utcnow

PLAN_STATUSES = ("queued", "running", "done", "failed")


class Plan(Base):
    """One planner request and its answer: objective, proven bound and gap, figures per district
    and per year. ``status`` moves queued -> running -> done | failed for background solves."""

    __tablename__ = "placement_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    solver_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    method: Mapped[str | None] = mapped_column(String(64), nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    solve_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    years: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sites: Mapped[list[Site]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Site.rank"
    )


class Site(Base):
    """One proposed camera: where, in which year, and the demand it newly covers."""

    __tablename__ = "placement_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("placement_plans.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str] = mapped_column(String(5))
    gain: Mapped[float] = mapped_column(Float)
    gain_share: Mapped[float] = mapped_column(Float)
    shares_site: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[Plan] = relationship(back_populates="sites")


class IncidentPoint(Base):
    """Where an incident was opened (from ``safety.incident.opened.v1``): demand for cameras."""

    __tablename__ = "placement_incident_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Integer, unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
