"""Camera geometry on one metric plane for the whole city: bearings, view sectors, PTZ angles.

Every camera and every polygon is projected once to the same equal-area plane (Lambert cylindrical,
true scale at the city's latitude, as in :mod:`smartseoul.core.geo`): distances within Seoul are off
by far less than 1 %, areas are exact up to rounding, and numpy does the work for 30,000 cameras at
once instead of a projection library per point.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from smartseoul.core.geo import EARTH_RADIUS_M

LAT0 = 37.55  # the plane is true to scale here (Seoul spans 37.43-37.70)
_K = math.cos(math.radians(LAT0))
_SCALE = math.pi / 180 * EARTH_RADIUS_M
SECTOR_STEPS = 16  # arc vertices of a sector polygon, plus the apex (a 90-degree view: 0.2 % short)

FloatArray = NDArray[np.float64]


def project(lat: FloatArray | float, lon: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """Metres on the city plane (x east, y north) of WGS84 ``lat``/``lon`` (scalars or arrays)."""
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    return lon_a * _SCALE * _K, EARTH_RADIUS_M * np.sin(np.radians(lat_a)) / _K


def project_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """A lon/lat Shapely geometry on the city plane."""

    def to_plane(coords: np.ndarray) -> np.ndarray:
        x, y = project(coords[:, 1], coords[:, 0])
        return np.column_stack([x, y])

    return shapely.transform(geometry, to_plane)


def unproject(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS84 (lat, lon) of points on the city plane."""
    lat = np.degrees(np.arcsin(np.clip(np.asarray(y) * _K / EARTH_RADIUS_M, -1, 1)))
    return lat, np.asarray(x) / (_SCALE * _K)


def bearing_deg(dx: FloatArray, dy: FloatArray) -> FloatArray:
    """Compass bearing (0 = north, clockwise) of the offset (dx east, dy north), in [0, 360)."""
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def angle_off(bearing: FloatArray, direction: FloatArray) -> FloatArray:
    """How far ``bearing`` lies from ``direction`` in degrees, in [0, 180]."""
    return np.abs((bearing - direction + 180.0) % 360.0 - 180.0)


def sector_polygons(
    x: FloatArray, y: FloatArray, direction: FloatArray, fov: FloatArray, reach: FloatArray
) -> NDArray[np.object_]:
    """The field of view of each camera as a polygon on the plane (a disc where ``fov`` is 360)."""
    steps = np.linspace(-0.5, 0.5, SECTOR_STEPS + 1)
    angles = np.radians(direction[:, None] + fov[:, None] * steps[None, :])
    arc_x = x[:, None] + reach[:, None] * np.sin(angles)
    arc_y = y[:, None] + reach[:, None] * np.cos(angles)
    full = fov >= 360.0
    apex_x = np.where(full, arc_x[:, 0], x)[:, None]
    apex_y = np.where(full, arc_y[:, 0], y)[:, None]
    ring = np.stack([np.hstack([apex_x, arc_x, apex_x]), np.hstack([apex_y, arc_y, apex_y])], axis=-1)
    polygons: NDArray[np.object_] = shapely.polygons(ring)
    return polygons


def pan_tilt_to(
    distance_m: float, bearing: float, home_deg: float, mount_height_m: float
) -> tuple[float, float]:
    """Pan (degrees from the camera's home direction, -180..180) and tilt (negative = down) that
    point a camera mounted ``mount_height_m`` high at a spot ``distance_m`` away on ``bearing``."""
    pan = float((bearing - home_deg + 180.0) % 360.0 - 180.0)
    tilt = -math.degrees(math.atan2(mount_height_m, max(distance_m, 0.5)))
    return round(pan, 2), round(tilt, 2)
