"""Tables of the city domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base


class District(Base):
    """An autonomous district (gu) with its 2016 figures."""

    __tablename__ = "city_districts"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    population: Mapped[int] = mapped_column(Integer, default=0)
    population_foreign: Mapped[int] = mapped_column(Integer, default=0)
    population_65plus: Mapped[int] = mapped_column(Integer, default=0)
    cctv_total: Mapped[int] = mapped_column(Integer, default=0)
    cctv_by_year: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    area_km2: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)


class Neighbourhood(Base):
    """An administrative neighbourhood (dong); the first five digits of its code are its district."""

    __tablename__ = "city_neighbourhoods"

    code: Mapped[str] = mapped_column(String(7), primary_key=True)
    district_code: Mapped[str] = mapped_column(
        ForeignKey("city_districts.code", ondelete="CASCADE"), index=True
    )
    name_ko: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    area_km2: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)


class PoliceStation(Base):
    """A police station and its 2016 occurrences and arrests of the five major crimes."""

    __tablename__ = "city_police_stations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(64), unique=True)
    district_code: Mapped[str] = mapped_column(
        ForeignKey("city_districts.code", ondelete="CASCADE"), index=True
    )
    crimes: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)


class School(Base):
    """An elementary school (demo positions are generated inside the real district polygons)."""

    __tablename__ = "city_schools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    district_code: Mapped[str] = mapped_column(
        ForeignKey("city_districts.code", ondelete="CASCADE"), index=True
    )
    neighbourhood_code: Mapped[str | None] = mapped_column(String(7), nullable=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
