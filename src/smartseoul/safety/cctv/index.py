"""Which cameras see a point: an in-memory KD-tree over the active cameras.

"Which cameras cover this incident?" is asked for every incident with a location and by operators
clicking the map; scanning 30,000 rows per question would be slow and hold the database. The index
keeps the cameras' positions on the city plane in a KD-tree (SciPy), so a question looks only at
cameras within the longest view range of the registry, and is rebuilt when the registry changes
(its signature: last id, last update).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.safety.cctv.geometry import FloatArray, angle_off, bearing_deg, project
from smartseoul.safety.cctv.models import Camera

COVER_WEIGHTS = (0.6, 0.25, 0.15)  # nearness, how centred in the view, resolution
FULL_RESOLUTION_MP = 8.0  # megapixels at which resolution stops adding to the score


@dataclass(frozen=True)
class CoveringCamera:
    """A camera that sees a point (``covers``) or is a PTZ camera that can be turned to it."""

    camera_id: int
    name: str
    distance_m: float
    covers: bool
    ptz: bool
    score: float
    bearing_deg: float = 0.0


@dataclass(frozen=True)
class _Candidates:
    index: NDArray[np.intp]
    distance: FloatArray
    bearing: FloatArray


class CameraIndex:
    """Active cameras as numpy columns plus a KD-tree on the city plane."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        # rows: (id, name, lat, lon, direction_deg, fov_deg, range_m, ptz, megapixels)
        columns = list(zip(*rows, strict=True)) if rows else [()] * 9
        self.ids = np.asarray(columns[0], dtype=np.int64)
        self.names: list[str] = list(columns[1])
        self.lat = np.asarray(columns[2], dtype=np.float64)
        self.lon = np.asarray(columns[3], dtype=np.float64)
        self.direction = np.asarray(columns[4], dtype=np.float64)
        self.fov = np.asarray(columns[5], dtype=np.float64)
        self.reach = np.asarray(columns[6], dtype=np.float64)
        self.ptz = np.asarray(columns[7], dtype=bool)
        self.megapixels = np.asarray(columns[8], dtype=np.float64)
        self.x, self.y = project(self.lat, self.lon)
        self.max_reach = float(self.reach.max()) if len(rows) else 0.0
        self.tree = cKDTree(np.column_stack([self.x, self.y])) if len(rows) else None

    def __len__(self) -> int:
        return len(self.ids)

    def covering(self, lat: float, lon: float, limit: int = 10) -> list[CoveringCamera]:
        """Cameras whose view covers the point, then PTZ cameras that can turn to it; best first."""
        if self.tree is None:
            return []
        px, py = project(lat, lon)
        found = np.asarray(self.tree.query_ball_point([float(px), float(py)], self.max_reach), dtype=np.intp)
        return self._rank(self._candidates(found, float(px), float(py)), limit)

    def covering_bruteforce(self, lat: float, lon: float, limit: int = 10) -> list[CoveringCamera]:
        """The same answer by scanning every camera with numpy (the benchmark's baseline)."""
        px, py = project(lat, lon)
        return self._rank(self._candidates(np.arange(len(self.ids)), float(px), float(py)), limit)

    def _candidates(self, found: NDArray[np.intp], px: float, py: float) -> _Candidates:
        dx, dy = px - self.x[found], py - self.y[found]
        return _Candidates(found, np.hypot(dx, dy), bearing_deg(dx, dy))

    def _rank(self, c: _Candidates, limit: int) -> list[CoveringCamera]:
        i = c.index
        reach = self.reach[i]
        half = self.fov[i] / 2.0
        off = angle_off(c.bearing, self.direction[i])
        in_range = c.distance <= reach
        covers = in_range & ((self.fov[i] >= 360.0) | (off <= half))
        turnable = in_range & self.ptz[i]
        keep = covers | turnable
        nearness = 1.0 - c.distance / np.maximum(reach, 1.0)
        centred = 1.0 - np.minimum(off / np.maximum(half, 1.0), 1.0)
        sharpness = np.minimum(self.megapixels[i] / FULL_RESOLUTION_MP, 1.0)
        near_w, centre_w, sharp_w = COVER_WEIGHTS
        quality = (
            near_w * nearness + centre_w * np.where(self.fov[i] >= 360.0, 1.0, centred) + sharp_w * sharpness
        )
        # a camera that already sees the spot always ranks above one that must first be turned
        score = np.where(covers, 0.5 + 0.5 * quality, 0.5 * (nearness * (1 - sharp_w) + sharp_w * sharpness))
        chosen = np.flatnonzero(keep)
        order = chosen[np.lexsort((c.distance[chosen], -score[chosen]))][:limit]
        return [
            CoveringCamera(
                camera_id=int(self.ids[i[k]]),
                name=self.names[i[k]],
                distance_m=round(float(c.distance[k]), 1),
                covers=bool(covers[k]),
                ptz=bool(self.ptz[i[k]]),
                score=round(float(score[k]), 4),
                bearing_deg=round(float(c.bearing[k]), 1),
            )
            for k in order
        ]


INDEX_COLUMNS = (
    Camera.id,
    Camera.name,
    Camera.lat,
    Camera.lon,
    Camera.direction_deg,
    Camera.fov_deg,
    Camera.range_m,
    Camera.ptz,
    Camera.megapixels,
)
_lock = threading.Lock()
_indexes: dict[str, tuple[tuple[Any, ...], CameraIndex]] = {}


def registry_signature(session: Session) -> tuple[Any, ...]:
    """Changes whenever a camera is added or updated: every write sets ``updated_at``, a camera
    taken out of service is marked ``removed`` (a write), and rows are deleted only by a re-import
    that inserts their replacements (new ids). Two separate MAX() queries, because each is then
    answered from its index in microseconds (a COUNT(*) would scan the table on every question)."""
    last_id = session.scalar(select(func.max(Camera.id)))
    last_change = session.scalar(select(func.max(Camera.updated_at)))
    return (last_id, last_change)


def _database_key(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)


def camera_index(session: Session) -> CameraIndex:
    """The index of the active cameras, rebuilt only when the registry changed."""
    key, signature = _database_key(session), registry_signature(session)
    with _lock:
        cached = _indexes.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
    rows = [tuple(r) for r in session.execute(select(*INDEX_COLUMNS).where(Camera.status == "active"))]
    built = CameraIndex(rows)
    with _lock:
        _indexes[key] = (signature, built)
    return built


CLUSTER_CELL_PX = 72  # a cluster per map cell of this many screen pixels
SINGLES_ZOOM = 16  # from this zoom on, cameras are drawn one by one
MAX_SINGLES = 2000


def clusters(
    index: CameraIndex, zoom: int, bbox: tuple[float, float, float, float]
) -> dict[str, list[dict[str, Any]]]:
    """Server-side clustering for the map: counts per screen cell at ``zoom`` inside ``bbox``
    (south, west, north, east), or the cameras themselves when few enough are in view."""
    south, west, north, east = bbox
    inside = (index.lat >= south) & (index.lat <= north) & (index.lon >= west) & (index.lon <= east)
    chosen = np.flatnonzero(inside)
    if zoom >= SINGLES_ZOOM or len(chosen) <= 200:
        chosen = chosen[:MAX_SINGLES]
        singles = [
            {
                "id": int(index.ids[k]),
                "lat": float(index.lat[k]),
                "lon": float(index.lon[k]),
                "name": index.names[k],
            }
            for k in chosen
        ]
        return {"clusters": [], "cameras": singles}
    cell = CLUSTER_CELL_PX * 360.0 / (256 * 2**zoom)  # degrees of longitude per cell
    col = np.floor(index.lon[chosen] / cell).astype(np.int64)
    row = np.floor(index.lat[chosen] / (cell * 0.79)).astype(np.int64)
    keys = col * 1_000_003 + row
    unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    lat_sum = np.bincount(inverse, weights=index.lat[chosen])
    lon_sum = np.bincount(inverse, weights=index.lon[chosen])
    found = [
        {
            "lat": round(float(lat_sum[k] / counts[k]), 6),
            "lon": round(float(lon_sum[k] / counts[k]), 6),
            "count": int(counts[k]),
        }
        for k in range(len(unique))
    ]
    return {"clusters": found, "cameras": []}
