"""Import and export in the national CCTV standard layout: UTF-8 or CP949, all rows or none."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.core.models import AuditEntry
from smartseoul.safety.cctv import importer
from smartseoul.safety.cctv.models import Camera
from smartseoul.safety.cctv.tests.helpers import NATIONAL_HEADER, national_csv, national_row


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count(Camera.id))) or 0)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp949"])
def test_a_national_file_imports_one_camera_per_camera_of_each_site(db: Session, encoding: str) -> None:
    data = national_csv(
        national_row(cameras="3"),
        national_row(37.5126, 127.059, purpose="어린이보호구역", cameras="1", view="북동측"),
        encoding=encoding,
    )
    summary = importer.import_file(db, data, actor="test")
    assert summary == {"sites": 2, "cameras": 4}
    cameras = db.scalars(select(Camera).order_by(Camera.id)).all()
    assert [c.district_code for c in cameras] == ["11020"] * 3 + ["11230"]
    assert [c.direction_deg for c in cameras[:3]] == [0.0, 120.0, 240.0]
    school = cameras[3]
    assert (school.purpose, school.direction_deg, school.fov_deg, school.megapixels) == (
        "school_zone",
        45.0,
        90.0,
        2.0,
    )
    assert school.installed_on is not None
    assert school.installed_on.isoformat() == "2016-05-01"
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "cctv.import")).one()
    assert audit.details == {"sites": 2, "cameras": 4}


def test_importing_the_same_file_twice_changes_nothing(db: Session) -> None:
    data = national_csv(national_row(cameras="2"))
    importer.import_file(db, data, actor="test")
    importer.import_file(db, data, actor="test")
    assert _count(db) == 2


def test_bad_rows_are_all_reported_and_nothing_is_stored(db: Session) -> None:
    data = national_csv(
        national_row(),
        national_row(35.1796, 129.0756, road="부산광역시 중구 중앙대로 120"),  # Busan: outside the city
        national_row(37.5700, 126.98, purpose="감시"),  # not a purpose of the standard
        national_row(37.5710, 126.98, cameras="0"),
        national_row(37.5720, 126.98, pixels="many"),
    )
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_file(db, data, actor="test")
    found = [(e.row, e.column) for e in rejected.value.errors]
    assert found == [(3, "WGS84위도"), (4, "설치목적구분"), (5, "카메라대수"), (6, "카메라화소수")]
    assert "outside the city" in rejected.value.errors[0].message
    assert _count(db) == 0


def test_a_field_of_view_that_makes_no_sense_is_refused_with_its_column(db: Session) -> None:
    header = NATIONAL_HEADER + ",화각,촬영거리"
    rows = [national_row() + ",400,50", national_row(37.57, 126.98) + ",90,0"]
    data = ("\n".join([header, *rows]) + "\n").encode()
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_file(db, data, actor="test")
    assert [(e.row, e.column) for e in rejected.value.errors] == [(2, "화각"), (3, "촬영거리")]
    assert "400" in rejected.value.errors[0].message


def test_a_header_without_required_columns_names_them(db: Session) -> None:
    data = "관리기관명,설치목적구분\n중구청,생활방범\n".encode()
    with pytest.raises(importer.ImportRejected) as rejected:
        importer.import_file(db, data, actor="test")
    assert [(e.row, e.column) for e in rejected.value.errors] == [
        (1, "카메라대수"),
        (1, "WGS84위도"),
        (1, "WGS84경도"),
    ]


def test_a_file_in_neither_encoding_is_refused() -> None:
    with pytest.raises(importer.ImportRejected, match="neither UTF-8 nor CP949"):
        importer.decode(b"\xff\xfe\xfa\xfb\x80\x81")
    with pytest.raises(importer.ImportRejected, match="not utf-8"):
        importer.decode(national_csv(national_row(), encoding="cp949"), "utf-8")


def test_export_gives_back_the_sites_of_the_import(db: Session) -> None:
    importer.import_file(
        db, national_csv(national_row(cameras="3"), national_row(37.5126, 127.059, cameras="1")), actor="test"
    )
    body = importer.export_csv(db.scalars(select(Camera).order_by(Camera.id)), "cp949")
    rows = list(csv.DictReader(io.StringIO(body.decode("cp949"))))
    assert [(r["카메라대수"], r["설치목적구분"], r["WGS84위도"]) for r in rows] == [
        ("3", "생활방범", "37.566300"),
        ("1", "생활방범", "37.512600"),
    ]
    before = _count(db)
    importer.import_file(db, body, actor="test")  # the export is itself a valid import
    assert _count(db) == before
