"""Small factories for the cctv tests: a camera at a known spot, looking a known way."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from smartseoul.safety.cctv import service
from smartseoul.safety.cctv.models import Camera

CITY_HALL = (37.5663, 126.9779)  # Jung-gu (11020)
JUNG_CENTRE = (37.5568, 127.0102)  # 1.1 km from any edge of Jung-gu
GANGNAM_STATION = (37.5126, 127.0590)  # COEX, Gangnam-gu (11230)
_numbers = itertools.count(1)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point ``north_m`` north and ``east_m`` east of (lat, lon)."""
    return lat + north_m / 111_195.0, lon + east_m / 88_200.0


def add_camera(session: Session, at: tuple[float, float] = CITY_HALL, **fields: Any) -> Camera:
    """Store one checked camera and return it."""
    number = next(_numbers)
    values: dict[str, Any] = {
        "code": f"T-{number:05d}",
        "site": f"T-{number:05d}",
        "name": f"test camera {number}",
        "owner": "서울특별시 중구청",
        "purpose": "crime",
        "lat": at[0],
        "lon": at[1],
        "mount_height_m": 5.0,
        "direction_deg": 0.0,
        "fov_deg": 90.0,
        "range_m": 50.0,
        "megapixels": 2.0,
        "retention_days": 30,
        "ptz": False,
        "status": "active",
        "shared": False,
    }
    values.update(fields)
    checked = service.check_camera(values, service.city_index(session))
    service.add_cameras(session, [checked])
    camera = session.query(Camera).filter_by(code=values["code"]).one()
    return camera


NATIONAL_HEADER = (
    "관리기관명,소재지도로명주소,소재지지번주소,설치목적구분,카메라대수,카메라화소수,촬영방면정보,"
    "보관일수,설치연월,WGS84위도,WGS84경도,관리기관전화번호,데이터기준일자"
)


def national_row(
    lat: float = 37.5663,
    lon: float = 126.9779,
    *,
    owner: str = "서울특별시 중구청",
    purpose: str = "생활방범",
    cameras: str = "2",
    pixels: str = "200",
    view: str = "360도 전방면",
    road: str = "서울특별시 중구 세종대로 110",
) -> str:
    """One site in the national layout, as a district office publishes it."""
    lot = "서울특별시 중구 태평로1가 31"
    cells = [owner, road, lot, purpose, cameras, pixels, view, "30", "2016-05", str(lat), str(lon)]
    return ",".join([*cells, "02-3396-4114", "2017-01-31"])


def national_csv(*rows: str, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([NATIONAL_HEADER, *rows]) + "\r\n").encode(encoding)
