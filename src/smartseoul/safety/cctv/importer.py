"""Import and export in the layout of Korea's national CCTV standard open data (CCTV 표준데이터).

One row is a site (a pole, a building) with ``카메라대수`` cameras. The standard columns are read
as published (UTF-8 with or without BOM, or CP949 as most district offices publish it); a few
extension columns carry what the standard leaves out and the registry needs (management number,
view direction and angle in degrees, range, mount height, PTZ, sharing). Every row is checked;
one bad row rejects the whole file with a row-by-row report, so nothing is ever half-imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from smartseoul.city.service import CityIndex
from smartseoul.core import audit
from smartseoul.safety.cctv.models import Camera
from smartseoul.safety.cctv.service import CameraProblem, add_cameras, check_camera, city_index, parse_month

STANDARD_COLUMNS = (
    "관리기관명",
    "소재지도로명주소",
    "소재지지번주소",
    "설치목적구분",
    "카메라대수",
    "카메라화소수",
    "촬영방면정보",
    "보관일수",
    "설치연월",
    "WGS84위도",
    "WGS84경도",
    "관리기관전화번호",
    "데이터기준일자",
)
REQUIRED = ("관리기관명", "설치목적구분", "카메라대수", "WGS84위도", "WGS84경도")
# Extension columns (optional on import, always written on export).
EXTENSION_COLUMNS = ("관리번호", "방향각", "화각", "촬영거리", "설치높이", "회전형", "통합관제공유")
PURPOSE_WORDS = (
    ("어린이", "school_zone"),
    ("방범", "crime"),
    ("교통", "traffic"),
    ("주정차", "traffic"),
    ("시설", "facility"),
    ("재난", "disaster"),
    ("재해", "disaster"),
    ("산불", "disaster"),
    ("쓰레기", "other"),
    ("기타", "other"),
)
PURPOSE_LABELS = {
    "crime": "생활방범",
    "school_zone": "어린이보호",
    "traffic": "교통단속",
    "facility": "시설물관리",
    "disaster": "재난재해",
    "other": "기타",
}
COMPASS = (
    ("북동", 45.0),
    ("남동", 135.0),
    ("남서", 225.0),
    ("북서", 315.0),
    ("북", 0.0),
    ("동", 90.0),
    ("남", 180.0),
    ("서", 270.0),
)
DEFAULT_FOV, DEFAULT_RANGE, DEFAULT_HEIGHT, DEFAULT_RETENTION = 90.0, 50.0, 4.0, 30
MAX_CAMERAS_PER_SITE = 64
YES = ("y", "yes", "1", "true", "예", "o")
ENCODINGS = ("utf-8", "cp949")


@dataclass(frozen=True)
class RowError:
    """What is wrong where: ``row`` is the line of the file (the header is row 1)."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(ValueError):
    """The file was refused; ``errors`` lists every bad row (nothing was stored)."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"row {first.row}, {first.column}: {first.message}{more}")
        self.errors = errors


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text: ``encoding`` if given, else UTF-8 (BOM or not), else CP949."""
    if encoding:
        name = encoding.lower().replace("_", "-")
        if name in ("euc-kr", "euckr", "ms949", "949"):
            name = "cp949"
        if name not in ENCODINGS and name != "utf-8-sig":
            raise ImportRejected([RowError(0, "encoding", f"use utf-8 or cp949 (got {encoding!r})")])
        try:
            return data.decode("utf-8-sig" if name.startswith("utf") else name)
        except UnicodeDecodeError as error:
            raise ImportRejected(
                [RowError(0, "encoding", f"the file is not {encoding}: {error.reason} at byte {error.start}")]
            ) from None
    for name in ("utf-8-sig", "cp949"):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    raise ImportRejected([RowError(0, "encoding", "the file is neither UTF-8 nor CP949 text")])


def _number(row: dict[str, str], column: str, *, required: bool = False) -> float | None:
    text = (row.get(column) or "").strip().replace(",", "")
    if not text:
        if required:
            raise CameraProblem(column, "is empty")
        return None
    try:
        value = float(text)
    except ValueError:
        raise CameraProblem(column, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CameraProblem(column, f"{text!r} is not a number")
    return value


def _or_default(value: float | None, default: float) -> float:
    """An empty cell takes the default; a 0 stays 0 (and is refused by the checks)."""
    return default if value is None else value


def _purpose(text: str) -> str:
    for word, code in PURPOSE_WORDS:
        if word in text:
            return code
    choices = ", ".join(PURPOSE_LABELS.values())
    raise CameraProblem("설치목적구분", f"{text.strip()!r} is not a purpose of the standard ({choices})")


def _owner_kind(owner: str) -> str:
    for words, kind in (
        (("경찰",), "police"),
        (("교육", "학교"), "school"),
        (("교통", "도로", "공사"), "transport"),
        (("구청", "시청", "구", "시"), "district"),
    ):
        if any(word in owner for word in words):
            return kind
    return "other"


def _direction_of(note: str) -> float | None:
    for word, degrees in COMPASS:
        if word in note:
            return degrees
    return None


def _date(text: str, column: str, monthly: bool) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return parse_month(text) if monthly else date.fromisoformat(text.replace(".", "-").replace("/", "-"))
    except ValueError:
        raise CameraProblem(
            column, f"{text!r} is not a date ({'YYYY-MM' if monthly else 'YYYY-MM-DD'})"
        ) from None


def _site_code(row: dict[str, str], lat: float, lon: float) -> str:
    given = (row.get("관리번호") or "").strip()
    if given:
        if len(given) > 36 or not re.match(r"^[\w.\-]+$", given):
            raise CameraProblem("관리번호", "use at most 36 letters, digits, '.', '_' or '-'")
        return given
    key = "|".join(
        [
            row.get("관리기관명", "").strip(),
            f"{lat:.6f}",
            f"{lon:.6f}",
            row.get("소재지도로명주소", "").strip(),
            row.get("소재지지번주소", "").strip(),
        ]
    )
    return "NAT-" + hashlib.sha1(key.encode()).hexdigest()[:12]  # noqa: S324 (an identifier, not security)


def _common(row: dict[str, str]) -> dict[str, Any]:
    """The fields every camera of the site shares, before the city check."""
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            raise CameraProblem(column, "is required and empty")
    if not ((row.get("소재지도로명주소") or "").strip() or (row.get("소재지지번주소") or "").strip()):
        raise CameraProblem("소재지도로명주소", "give the road address or the lot address")
    owner = row["관리기관명"].strip()
    pixels = _number(row, "카메라화소수")
    note = (row.get("촬영방면정보") or "").strip()
    return {
        "owner": owner[:128],
        "owner_kind": _owner_kind(owner),
        "owner_phone": (row.get("관리기관전화번호") or "").strip()[:32],
        "purpose": _purpose(row["설치목적구분"]),
        "address_road": (row.get("소재지도로명주소") or "").strip()[:256],
        "address_lot": (row.get("소재지지번주소") or "").strip()[:256],
        "lat": _number(row, "WGS84위도", required=True),
        "lon": _number(row, "WGS84경도", required=True),
        "view_note": note[:128],
        "megapixels": pixels / 100.0 if pixels is not None else 2.0,  # the standard counts 만 화소
        "retention_days": _or_default(_number(row, "보관일수"), DEFAULT_RETENTION),
        "installed_on": _date(row.get("설치연월") or "", "설치연월", monthly=True),
        "data_date": _date(row.get("데이터기준일자") or "", "데이터기준일자", monthly=False),
        "mount_height_m": _or_default(_number(row, "설치높이"), DEFAULT_HEIGHT),
        "ptz": (row.get("회전형") or "").strip().lower() in YES,
        "shared": (row.get("통합관제공유") or "").strip().lower() in YES,
    }


def _count(row: dict[str, str]) -> int:
    count = _number(row, "카메라대수", required=True)
    if count is None or count != int(count) or not 1 <= count <= MAX_CAMERAS_PER_SITE:
        raise CameraProblem(
            "카메라대수",
            f"must be a whole number from 1 to {MAX_CAMERAS_PER_SITE} (got {row.get('카메라대수')!r})",
        )
    return int(count)


def _view(row: dict[str, str], count: int, note: str) -> tuple[float, float]:
    """(first direction, field-of-view angle): explicit columns win over the words of 촬영방면정보."""
    fov = _number(row, "화각")
    if fov is None:
        fov = 360.0 if ("360" in note or "전방" in note) and count == 1 else DEFAULT_FOV
    elif not 1 <= fov <= 360:
        raise CameraProblem("화각", f"a field-of-view angle of {fov:g} degrees makes no sense (1 to 360)")
    direction = _number(row, "방향각")
    if direction is None:
        direction = _direction_of(note) or 0.0
    elif not 0 <= direction <= 360:
        raise CameraProblem(
            "방향각", f"a compass direction of {direction:g} degrees makes no sense (0 to 360)"
        )
    return direction, fov


def _cameras_of(row: dict[str, str], city: CityIndex) -> list[dict[str, Any]]:
    common = _common(row)
    count = _count(row)
    direction, fov = _view(row, count, common["view_note"])
    reach = _or_default(_number(row, "촬영거리"), DEFAULT_RANGE)
    site = _site_code(row, common["lat"], common["lon"])
    cameras = []
    for k in range(count):
        values = {
            **common,
            "code": f"{site}-{k + 1:02d}",
            "site": site,
            "name": f"{common['address_road'] or common['address_lot']} #{k + 1}"[:128],
            "direction_deg": (direction + k * 360.0 / count) % 360.0,
            "fov_deg": fov,
            "range_m": reach,
            "status": "active",
        }
        try:
            cameras.append(check_camera(values, city))
        except CameraProblem as problem:
            raise CameraProblem(_column_of(problem.field), problem.message) from None
    return cameras


_COLUMN_OF_FIELD = {
    "lat": "WGS84위도",
    "lon": "WGS84경도",
    "fov_deg": "화각",
    "range_m": "촬영거리",
    "direction_deg": "방향각",
    "mount_height_m": "설치높이",
    "megapixels": "카메라화소수",
    "retention_days": "보관일수",
    "purpose": "설치목적구분",
}


def _column_of(field: str) -> str:
    return _COLUMN_OF_FIELD.get(field, field)


@dataclass
class ParsedFile:
    cameras: list[dict[str, Any]]
    sites: int


def parse(text: str, city: CityIndex) -> ParsedFile:
    """Every camera of the file, checked; raises ImportRejected listing every bad row."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ImportRejected([RowError(1, column, "column missing from the header") for column in missing])
    reader.fieldnames = header
    errors: list[RowError] = []
    cameras: list[dict[str, Any]] = []
    first_row_of_site: dict[str, int] = {}
    sites = 0
    for number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        try:
            found = _cameras_of(row, city)
        except CameraProblem as problem:
            errors.append(RowError(number, problem.field, problem.message))
            continue
        site = found[0]["site"]
        if site in first_row_of_site:
            errors.append(RowError(number, "관리번호", f"the same site as row {first_row_of_site[site]}"))
            continue
        first_row_of_site[site] = number
        cameras.extend(found)
        sites += 1
    if errors:
        raise ImportRejected(errors)
    if not sites:
        raise ImportRejected([RowError(2, "file", "no data rows")])
    return ParsedFile(cameras, sites)


def _direction_word(degrees: float) -> str:
    names = ("북", "북동", "동", "남동", "남", "남서", "서", "북서")
    return names[int(((degrees % 360) + 22.5) // 45) % 8] + "측"


def export_rows(cameras: Iterable[Camera]) -> list[dict[str, str]]:
    """One row per site (cameras given in id order), in the national layout plus extensions."""
    sites: dict[str, list[Camera]] = {}
    for camera in cameras:
        sites.setdefault(camera.site, []).append(camera)
    rows = []
    for site, members in sites.items():
        first = members[0]
        rows.append(
            {
                "관리기관명": first.owner,
                "소재지도로명주소": first.address_road,
                "소재지지번주소": first.address_lot,
                "설치목적구분": PURPOSE_LABELS.get(first.purpose, "기타"),
                "카메라대수": str(len(members)),
                "카메라화소수": f"{round(first.megapixels * 100):d}",
                "촬영방면정보": first.view_note
                or ("360도 전방면" if first.fov_deg >= 360 else _direction_word(first.direction_deg)),
                "보관일수": str(first.retention_days),
                "설치연월": first.installed_on.strftime("%Y-%m") if first.installed_on else "",
                "WGS84위도": f"{first.lat:.6f}",
                "WGS84경도": f"{first.lon:.6f}",
                "관리기관전화번호": first.owner_phone,
                "데이터기준일자": first.data_date.isoformat() if first.data_date else "",
                "관리번호": site,
                "방향각": f"{first.direction_deg:g}",
                "화각": f"{first.fov_deg:g}",
                "촬영거리": f"{first.range_m:g}",
                "설치높이": f"{first.mount_height_m:g}",
                "회전형": "Y" if first.ptz else "N",
                "통합관제공유": "Y" if first.shared else "N",
            }
        )
    return rows


def export_csv(cameras: Iterable[Camera], encoding: str = "utf-8") -> bytes:
    """The registry as a national-layout CSV (UTF-8 with BOM, so spreadsheets read Korean, or CP949)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*STANDARD_COLUMNS, *EXTENSION_COLUMNS], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(export_rows(cameras))
    if encoding.lower() in ("cp949", "euc-kr"):
        return buffer.getvalue().encode("cp949", errors="replace")
    return buffer.getvalue().encode("utf-8-sig")


def import_file(
    session: Session, data: bytes, *, actor: str, encoding: str | None = None, client: str = ""
) -> dict[str, int]:
    """Decode, check and store a national-layout file in the caller's transaction, or store nothing.

    Sites already in the registry (same 관리번호, or same owner, position and address) are
    replaced, so importing the same file twice changes nothing.
    """
    parsed = parse(decode(data, encoding), city_index(session))
    stored = add_cameras(session, parsed.cameras, replace_sites=True)
    summary = {"sites": parsed.sites, "cameras": stored}
    audit.record(
        session, actor=actor, action="cctv.import", target="cctv_cameras", client=client, details=summary
    )
    return summary
