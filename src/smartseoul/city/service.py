"""The city's service API: loading the reference data, finding where a point lies, the demo schools.

Other domains call these functions (never the tables): ``locate`` answers "which district and
neighbourhood is this point in" from an STRtree in memory, thousands of times a second.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import numpy as np
from shapely import STRtree
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, defer

from smartseoul.city.models import District, Neighbourhood, PoliceStation, School
from smartseoul.core.geo import area_km2, from_geojson

CRIMES = ("murder", "robbery", "rape", "theft", "violence")
ELEMENTARY_SCHOOLS = 587


class UnknownDistrict(LookupError):
    """No district with that code."""


def _data_text(name: str) -> str:
    return resources.files("smartseoul.city").joinpath("data", name).read_text(encoding="utf-8")


def _centroid(geometry: BaseGeometry) -> tuple[float, float]:
    point = geometry.representative_point() if not geometry.centroid.within(geometry) else geometry.centroid
    return round(point.y, 6), round(point.x, 6)


def _district_rows() -> list[District]:
    stats = {
        row["district_code"]: row
        for row in csv.DictReader(_data_text("district_stats_2016.csv").splitlines())
    }
    rows = []
    for feature in json.loads(_data_text("districts.geojson"))["features"]:
        props, geometry = feature["properties"], from_geojson(feature["geometry"])
        stat = stats.get(props["code"])
        if stat is None:
            raise ValueError(f"district {props['code']} has no row in district_stats_2016.csv")
        lat, lon = _centroid(geometry)
        rows.append(
            District(
                code=props["code"],
                name_ko=props["name"],
                name_en=props["name_eng"],
                population=int(stat["population"]),
                population_foreign=int(stat["population_foreign"]),
                population_65plus=int(stat["population_65plus"]),
                cctv_total=int(stat["cctv_total"]),
                cctv_by_year={
                    "before_2014": int(stat["cctv_installed_before_2014"]),
                    "2014": int(stat["cctv_installed_2014"]),
                    "2015": int(stat["cctv_installed_2015"]),
                    "2016": int(stat["cctv_installed_2016"]),
                },
                area_km2=round(area_km2(geometry), 3),
                centroid_lat=lat,
                centroid_lon=lon,
                geometry=feature["geometry"],
            )
        )
    return rows


def _neighbourhood_rows() -> list[Neighbourhood]:
    rows = []
    for feature in json.loads(_data_text("neighborhoods_simple.geojson"))["features"]:
        props, geometry = feature["properties"], from_geojson(feature["geometry"])
        lat, lon = _centroid(geometry)
        rows.append(
            Neighbourhood(
                code=props["code"],
                district_code=props["code"][:5],
                name_ko=props["name"],
                name_en=props["name_eng"],
                area_km2=round(area_km2(geometry), 4),
                centroid_lat=lat,
                centroid_lon=lon,
                geometry=feature["geometry"],
            )
        )
    return rows


def _police_rows(codes_by_name: dict[str, str]) -> list[PoliceStation]:
    rows = []
    for row in csv.DictReader(_data_text("crime_by_police_station_2016.csv").splitlines()):
        crimes = {
            c: {"occurred": int(row[f"{c}_occurred"]), "arrested": int(row[f"{c}_arrested"])} for c in CRIMES
        }
        rows.append(
            PoliceStation(
                name_ko=row["police_station_ko"],
                district_code=codes_by_name[row["district_ko"]],
                crimes=crimes,
            )
        )
    return rows


def load_reference_data(session: Session) -> dict[str, int]:
    """(Re)load districts, neighbourhoods and police stations from the shipped 2016 data."""
    session.execute(delete(School))
    session.execute(delete(PoliceStation))
    session.execute(delete(Neighbourhood))
    session.execute(delete(District))
    session.flush()
    districts = _district_rows()
    session.add_all(districts)
    session.flush()
    neighbourhoods = _neighbourhood_rows()
    session.add_all(neighbourhoods)
    police = _police_rows({d.name_ko: d.code for d in districts})
    session.add_all(police)
    session.flush()
    return {
        "districts": len(districts),
        "neighbourhoods": len(neighbourhoods),
        "police_stations": len(police),
    }


def apportion(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, ties by key): sums exactly."""
    whole = sum(weights.values())
    quotas = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: int(quota) for key, quota in quotas.items()}
    rest = total - sum(counts.values())
    for key in sorted(quotas, key=lambda k: (counts[k] - quotas[k], k))[:rest]:
        counts[key] += 1
    return counts


def random_points_in(geometry: BaseGeometry, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """``count`` uniform points (lat, lon) inside ``geometry``, by rejection sampling."""
    min_x, min_y, max_x, max_y = geometry.bounds
    found: list[tuple[float, float]] = []
    from shapely.prepared import prep

    prepared = prep(geometry)
    while len(found) < count:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if prepared.contains(Point(x, y)):
            found.append((round(y, 6), round(x, 6)))
    return found


def seed_schools(session: Session, seed: int, index: CityIndex) -> int:
    """The 587 elementary schools, spread over districts by population, deterministic from ``seed``."""
    session.execute(delete(School))
    districts = session.scalars(select(District).order_by(District.code)).all()
    counts = apportion(ELEMENTARY_SCHOOLS, {d.code: d.population for d in districts})
    rng = random.Random(seed)
    for district in districts:
        short_ko, short_en = district.name_ko.removesuffix("구"), district.name_en.removesuffix("-gu")
        for number, (lat, lon) in enumerate(
            random_points_in(index.district_shapes[district.code], counts[district.code], rng), start=1
        ):
            session.add(
                School(
                    name_ko=f"서울{short_ko}{number}초등학교",
                    name_en=f"Seoul {short_en} Elementary School {number}",
                    district_code=district.code,
                    neighbourhood_code=index.neighbourhood_at(lat, lon),
                    lat=lat,
                    lon=lon,
                )
            )
    session.flush()
    return ELEMENTARY_SCHOOLS


@dataclass
class Location:
    district_code: str | None
    neighbourhood_code: str | None


class CityIndex:
    """District and neighbourhood polygons in STRtrees, for point lookups in memory."""

    def __init__(
        self, districts: dict[str, dict[str, Any]], neighbourhoods: dict[str, dict[str, Any]]
    ) -> None:
        self.district_shapes = {code: from_geojson(g) for code, g in districts.items()}
        self.neighbourhood_shapes = {code: from_geojson(g) for code, g in neighbourhoods.items()}
        self._district_codes = list(self.district_shapes)
        self._neighbourhood_codes = list(self.neighbourhood_shapes)
        self._district_tree = STRtree(list(self.district_shapes.values()))
        self._neighbourhood_tree = STRtree(list(self.neighbourhood_shapes.values()))

    @classmethod
    def from_session(cls, session: Session) -> CityIndex:
        districts = {d.code: d.geometry for d in session.scalars(select(District))}
        neighbourhoods = {n.code: n.geometry for n in session.scalars(select(Neighbourhood))}
        return cls(districts, neighbourhoods)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        boxes = np.array([g.bounds for g in self.district_shapes.values()])
        return (
            float(boxes[:, 0].min()),
            float(boxes[:, 1].min()),
            float(boxes[:, 2].max()),
            float(boxes[:, 3].max()),
        )

    def district_at(self, lat: float, lon: float) -> str | None:
        hits = self._district_tree.query(Point(lon, lat), predicate="intersects")
        return self._district_codes[int(hits[0])] if len(hits) else None

    def neighbourhood_at(self, lat: float, lon: float) -> str | None:
        """The neighbourhood containing the point; the nearest one of its district where the simplified
        neighbourhood polygons leave a gap."""
        where = Point(lon, lat)
        hits = self._neighbourhood_tree.query(where, predicate="intersects")
        if len(hits):
            return self._neighbourhood_codes[int(hits[0])]
        district = self.district_at(lat, lon)
        if district is None:
            return None
        nearest = self._neighbourhood_tree.nearest(where)
        code = self._neighbourhood_codes[int(nearest)]
        if code.startswith(district):
            return code
        candidates = [c for c in self._neighbourhood_codes if c.startswith(district)]
        return min(candidates, key=lambda c: self.neighbourhood_shapes[c].distance(where), default=None)

    def locate(self, lat: float, lon: float) -> Location:
        return Location(self.district_at(lat, lon), self.neighbourhood_at(lat, lon))


def district_summary(district: District) -> dict[str, Any]:
    """The public figures of one district (the `GET /api/v1/districts` item)."""
    per_1000 = round(district.cctv_total * 1000 / district.population, 3) if district.population else None
    return {
        "code": district.code,
        "name_ko": district.name_ko,
        "name_en": district.name_en,
        "population": district.population,
        "population_65plus": district.population_65plus,
        "population_foreign": district.population_foreign,
        "cctv_total": district.cctv_total,
        "cctv_per_1000_residents": per_1000,
        "cctv_by_year": district.cctv_by_year,
        "area_km2": district.area_km2,
        "cctv_per_km2": round(district.cctv_total / district.area_km2, 2) if district.area_km2 else None,
        "centroid": {"lat": district.centroid_lat, "lon": district.centroid_lon},
    }


def list_districts(session: Session) -> list[dict[str, Any]]:
    """The districts' figures, without reading their shapes (a megabyte of GeoJSON to parse)."""
    query = select(District).options(defer(District.geometry)).order_by(District.code)
    return [district_summary(d) for d in session.scalars(query)]


def get_district(session: Session, code: str) -> District:
    district = session.get(District, code)
    if district is None:
        raise UnknownDistrict(code)
    return district


def crime_totals(session: Session) -> dict[str, dict[str, int]]:
    """Occurrences of the five major crimes per district (summed over its police stations)."""
    totals: dict[str, dict[str, int]] = {}
    for station in session.scalars(select(PoliceStation)):
        into = totals.setdefault(station.district_code, dict.fromkeys(CRIMES, 0))
        for crime in CRIMES:
            into[crime] += station.crimes[crime]["occurred"]
    return totals


def district_feature(district: District, crimes: dict[str, int] | None = None) -> dict[str, Any]:
    properties = district_summary(district)
    if crimes is not None:
        properties["crimes_2016"] = crimes
    return {"type": "Feature", "id": district.code, "properties": properties, "geometry": district.geometry}


def districts_geojson(session: Session) -> dict[str, Any]:
    crimes = crime_totals(session)
    features = [
        district_feature(d, crimes.get(d.code))
        for d in session.scalars(select(District).order_by(District.code))
    ]
    return {"type": "FeatureCollection", "features": features}


def list_schools(session: Session, district_code: str | None = None) -> list[School]:
    query = select(School).order_by(School.district_code, School.id)
    if district_code:
        query = query.where(School.district_code == district_code)
    return list(session.scalars(query))


def counts(session: Session) -> dict[str, int]:
    return {
        "districts": session.scalar(select(func.count()).select_from(District)) or 0,
        "neighbourhoods": session.scalar(select(func.count()).select_from(Neighbourhood)) or 0,
        "police_stations": session.scalar(select(func.count()).select_from(PoliceStation)) or 0,
        "schools": session.scalar(select(func.count()).select_from(School)) or 0,
    }


def police_stations(session: Session) -> list[PoliceStation]:
    return list(session.scalars(select(PoliceStation).order_by(PoliceStation.id)))
