"""The area of an alert: districts (their polygons from the city's GeoJSON), a polygon or a circle.

An area is checked field by field, so a refusal names what is wrong (``area.districts[2]``,
``area.circle``). Once valid it answers the two questions delivery asks: does it cover this point
(a phone that shared its location), and which districts does it touch (a phone subscribed by
district, a screen in a district office).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from smartseoul.city.service import CityIndex
from smartseoul.core.geo import EARTH_RADIUS_M, area_km2
from smartseoul.safety.alerts.cap import CapArea

AREA_KINDS = ("districts", "polygon", "circle")
MAX_RADIUS_KM = 50.0
MAX_POLYGON_POINTS = 500
GEOCODE_NAME = "SIG_CD"  # the Korean code of a si/gun/gu, as the district codes are
_PAIR = r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*"
_CIRCLE = re.compile(rf"^{_PAIR}\s+(\d+(?:\.\d+)?)\s*$")


class FieldError(ValueError):
    """A request value that cannot be used; ``field`` is where in the request the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


AreaError = FieldError


@dataclass(frozen=True)
class DistrictName:
    code: str
    name_ko: str
    name_en: str


@dataclass(frozen=True)
class AlertArea:
    """A checked area in WGS84; ``geometry`` is in (lon, lat) like GeoJSON."""

    kind: str
    district_codes: tuple[str, ...]
    geometry: BaseGeometry
    polygon: tuple[tuple[float, float], ...] = ()
    circle: tuple[float, float, float] | None = None  # lat, lon, radius_km

    def contains(self, lat: float, lon: float) -> bool:
        return bool(self.contains_many(np.array([lat]), np.array([lon]))[0])

    def contains_many(self, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """Which of the points lie in the area, all at once (fan-out to thousands of screens)."""
        if self.circle is not None:
            lat0, lon0, radius_km = self.circle
            return _haversine_many(lat0, lon0, lats, lons) <= radius_km * 1000.0
        return np.asarray(shapely.contains_xy(self.geometry, lons, lats), dtype=bool)

    def to_json(self) -> dict[str, Any]:
        """What the alert row and the events carry: kind, touched districts and the GeoJSON shape."""
        body: dict[str, Any] = {"kind": self.kind, "district_codes": list(self.district_codes)}
        if self.kind == "polygon":
            body["polygon"] = [list(point) for point in self.polygon]
        if self.circle is not None:
            lat, lon, radius = self.circle
            body["circle"] = {"lat": lat, "lon": lon, "radius_km": radius}
        body["geometry"] = mapping(self.geometry.simplify(0.0005)) if self.kind != "districts" else None
        return body


def _haversine_many(lat0: float, lon0: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat0), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon0)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    result: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
    return result


def circle_polygon(lat: float, lon: float, radius_km: float, points: int = 64) -> Polygon:
    """A circle as a polygon in (lon, lat), close enough at city scale for intersections."""
    metres_per_degree = math.pi / 180 * EARTH_RADIUS_M
    dlat = radius_km * 1000 / metres_per_degree
    dlon = dlat / math.cos(math.radians(lat))
    ring = [
        (lon + dlon * math.cos(2 * math.pi * i / points), lat + dlat * math.sin(2 * math.pi * i / points))
        for i in range(points)
    ]
    return Polygon(ring)


def _districts_touching(index: CityIndex, geometry: BaseGeometry) -> tuple[str, ...]:
    return tuple(
        sorted(code for code, shape_ in index.district_shapes.items() if shape_.intersects(geometry))
    )


def _parse_districts(raw: Any, index: CityIndex) -> AlertArea:
    if not isinstance(raw, list) or not raw:
        raise AreaError("area.districts", "give at least one district code (e.g. 11230)")
    codes: list[str] = []
    for position, code in enumerate(raw):
        if not isinstance(code, str) or code not in index.district_shapes:
            raise AreaError(f"area.districts[{position}]", f"unknown district code {code!r}")
        if code not in codes:
            codes.append(code)
    geometry = unary_union([index.district_shapes[code] for code in codes])
    return AlertArea("districts", tuple(sorted(codes)), geometry)


def _coordinate(field: str, lat: float, lon: float) -> tuple[float, float]:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise AreaError(field, f"({lat}, {lon}) is not a WGS84 latitude, longitude")
    return lat, lon


def _polygon_points(raw: Any) -> list[tuple[float, float]]:
    """Points from a CAP string ``"lat,lon lat,lon ..."`` or a list of ``[lat, lon]`` pairs."""
    if isinstance(raw, str):
        pairs = raw.split()
        points = []
        for position, pair in enumerate(pairs):
            found = re.fullmatch(_PAIR, pair)
            if not found:
                raise AreaError(f"area.polygon[{position}]", f"{pair!r} is not 'lat,lon'")
            points.append(_coordinate(f"area.polygon[{position}]", float(found[1]), float(found[2])))
        return points
    if not isinstance(raw, list):
        raise AreaError("area.polygon", "give 'lat,lon lat,lon ...' or a list of [lat, lon] pairs")
    points = []
    for position, pair in enumerate(raw):
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        ):
            raise AreaError(f"area.polygon[{position}]", "each point is [lat, lon] in numbers")
        points.append(_coordinate(f"area.polygon[{position}]", float(pair[0]), float(pair[1])))
    return points


def _inside_city(index: CityIndex, geometry: BaseGeometry, field: str) -> tuple[str, ...]:
    touched = _districts_touching(index, geometry)
    if not touched:
        raise AreaError(field, "lies entirely outside the city's districts")
    return touched


def _parse_polygon(raw: Any, index: CityIndex) -> AlertArea:
    points = _polygon_points(raw)
    if points and points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4:
        raise AreaError("area.polygon", "a polygon needs at least three distinct points")
    if len(points) > MAX_POLYGON_POINTS:
        raise AreaError("area.polygon", f"at most {MAX_POLYGON_POINTS} points")
    geometry = Polygon([(lon, lat) for lat, lon in points])
    if not geometry.is_valid or geometry.area == 0:
        raise AreaError("area.polygon", f"not a simple polygon ({shapely.is_valid_reason(geometry)})")
    touched = _inside_city(index, geometry, "area.polygon")
    return AlertArea("polygon", touched, geometry, polygon=tuple(points))


def _parse_circle(raw: Any, index: CityIndex) -> AlertArea:
    if isinstance(raw, dict):
        try:
            lat, lon, radius = float(raw["lat"]), float(raw["lon"]), float(raw["radius_km"])
        except (KeyError, TypeError, ValueError):
            raise AreaError("area.circle", "give lat, lon and radius_km as numbers") from None
    elif isinstance(raw, str) and (found := _CIRCLE.match(raw)):
        lat, lon, radius = float(found[1]), float(found[2]), float(found[3])
    else:
        raise AreaError("area.circle", "give 'lat,lon radius_km' (CAP) or {lat, lon, radius_km}")
    _coordinate("area.circle", lat, lon)
    if not 0 < radius <= MAX_RADIUS_KM:
        raise AreaError("area.circle", f"radius_km must be above 0 and at most {MAX_RADIUS_KM:g}")
    geometry = circle_polygon(lat, lon, radius)
    touched = _inside_city(index, geometry, "area.circle")
    return AlertArea("circle", touched, geometry, circle=(lat, lon, radius))


def parse_area(raw: Any, index: CityIndex) -> AlertArea:
    """A checked area from the request's ``area`` object (exactly one of districts, polygon, circle)."""
    if not isinstance(raw, dict):
        raise AreaError("area", "give an object with one of: districts, polygon, circle")
    given = [kind for kind in AREA_KINDS if raw.get(kind) not in (None, [], "")]
    unknown = sorted(set(raw) - {*AREA_KINDS, "kind", "district_codes", "geometry"})
    if unknown:
        raise AreaError(f"area.{unknown[0]}", "unknown field; use districts, polygon or circle")
    if len(given) != 1:
        raise AreaError("area", "give exactly one of districts, polygon, circle")
    kind = given[0]
    parsers = {"districts": _parse_districts, "polygon": _parse_polygon, "circle": _parse_circle}
    return parsers[kind](raw[kind], index)


def area_from_json(body: dict[str, Any], index: CityIndex) -> AlertArea:
    """The area stored with an alert (or carried by its event), rebuilt."""
    kind = body["kind"]
    if kind == "districts":
        return parse_area({"districts": body["district_codes"]}, index)
    if kind == "circle":
        return parse_area({"circle": body["circle"]}, index)
    return parse_area({"polygon": body["polygon"]}, index)


def geometry_of_event_area(body: dict[str, Any]) -> BaseGeometry | None:
    """The GeoJSON shape an event carries (None for district areas: they go by code)."""
    geometry = body.get("geometry")
    return shape(geometry) if geometry else None


def city_fraction(area: AlertArea, index: CityIndex) -> float:
    """Share of the city's area the alert covers (a city-wide alert needs a second person)."""
    city = unary_union(list(index.district_shapes.values()))
    if area.kind == "districts" and len(area.district_codes) == len(index.district_shapes):
        return 1.0
    covered = area_km2(city.intersection(area.geometry))
    return covered / area_km2(city)


def _cap_polygon(ring: list[tuple[float, float]]) -> str:
    """A CAP polygon: ``lat,lon`` pairs separated by spaces, the first repeated last."""
    return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring)


def _district_polygons(geometry: BaseGeometry) -> tuple[str, ...]:
    simple = geometry.simplify(0.0005, preserve_topology=True)
    parts = list(getattr(simple, "geoms", [simple]))
    return tuple(_cap_polygon(list(part.exterior.coords)) for part in parts)


def cap_areas(
    area: AlertArea, index: CityIndex, names: dict[str, DistrictName], lang: str
) -> tuple[CapArea, ...]:
    """The ``<area>`` blocks for one language's ``<info>``."""

    def name(code: str) -> str:
        found = names.get(code)
        return (found.name_ko if lang == "ko" else found.name_en) if found else code

    geocodes = tuple((GEOCODE_NAME, code) for code in area.district_codes)
    touched = ", ".join(name(code) for code in area.district_codes)
    if area.kind == "districts":
        return tuple(
            CapArea(name(code), _district_polygons(index.district_shapes[code]), (), ((GEOCODE_NAME, code),))
            for code in area.district_codes
        )
    if area.circle is not None:
        lat, lon, radius = area.circle
        desc = f"반경 {radius:g} km ({touched})" if lang == "ko" else f"{radius:g} km radius ({touched})"
        return (CapArea(desc, (), (f"{lat:.5f},{lon:.5f} {radius:g}",), geocodes),)
    desc = f"지정 구역 ({touched})" if lang == "ko" else f"Drawn area ({touched})"
    ring = [(lon, lat) for lat, lon in area.polygon]
    return (CapArea(desc, (_cap_polygon(ring),), (), geocodes),)
