"""The city model: real districts and figures, point lookups, the demo schools, the public API."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.city import service
from smartseoul.city.models import District, School


def test_the_25_districts_carry_the_2016_figures(db: Session) -> None:
    districts = {d["code"]: d for d in service.list_districts(db)}
    assert len(districts) == 25
    assert sum(d["cctv_total"] for d in districts.values()) == 29_477
    gangnam = next(d for d in districts.values() if d["name_en"] == "Gangnam-gu")
    dobong = next(d for d in districts.values() if d["name_en"] == "Dobong-gu")
    assert (gangnam["cctv_total"], dobong["cctv_total"]) == (2780, 485)
    assert gangnam["cctv_per_1000_residents"] == pytest.approx(2780 * 1000 / 570_500, abs=0.001)


def test_district_areas_add_up_to_seoul(db: Session) -> None:
    total = sum(d["area_km2"] for d in service.list_districts(db))
    # Seoul covers about 605 km2; the 2013 census polygons give nearly the same.
    assert 590 < total < 620


def test_every_neighbourhood_belongs_to_its_district(db: Session) -> None:
    assert service.counts(db)["neighbourhoods"] == 423


def test_points_are_located_in_the_right_district_and_neighbourhood(db: Session) -> None:
    index = service.CityIndex.from_session(db)
    # Seoul City Hall (Jung-gu), COEX (Gangnam-gu), Incheon airport (outside Seoul).
    assert index.district_at(37.5663, 126.9779) == "11020"
    assert index.district_at(37.5120, 127.0590) == "11230"
    assert index.locate(37.4602, 126.4407).district_code is None
    found = index.locate(37.5663, 126.9779)
    assert found.neighbourhood_code is not None
    assert found.neighbourhood_code.startswith("11020")


def test_587_schools_spread_by_population_inside_their_districts(db: Session) -> None:
    assert db.scalar(select(func.count()).select_from(School)) == 587
    index = service.CityIndex.from_session(db)
    per_district = dict(
        db.execute(select(School.district_code, func.count()).group_by(School.district_code)).all()
    )
    populations = {d.code: d.population for d in db.scalars(select(District))}
    assert per_district == service.apportion(587, populations)
    for school in db.scalars(select(School)):
        assert index.district_at(school.lat, school.lon) == school.district_code


def test_school_placement_is_deterministic_from_the_seed(db: Session) -> None:
    index = service.CityIndex.from_session(db)
    shape = index.district_shapes["11230"]
    first = service.random_points_in(shape, 5, random.Random(7))
    again = service.random_points_in(shape, 5, random.Random(7))
    other = service.random_points_in(shape, 5, random.Random(8))
    assert first == again != other


def test_apportion_sums_exactly_and_follows_the_weights() -> None:
    counts = service.apportion(587, {"a": 3, "b": 2, "c": 2})
    assert sum(counts.values()) == 587
    assert counts["a"] > counts["b"] >= counts["c"]


def test_districts_api_lists_the_contract_fields(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/districts")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 25
    for field in ("code", "name_ko", "name_en", "population", "cctv_total", "area_km2", "centroid"):
        assert field in body[0]
    again = client.get("/api/v1/districts", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_one_district_comes_with_its_geometry_and_crimes(client) -> None:  # type: ignore[no-untyped-def]
    feature = client.get("/api/v1/districts/11230").json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["name_en"] == "Gangnam-gu"
    assert feature["properties"]["crimes_2016"]["theft"] > 0


@pytest.mark.parametrize(("code", "status"), [("99999", 404), ("abc", 422), ("1123", 422)])
def test_unknown_or_malformed_district_codes_get_a_problem(client, code: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/districts/{code}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_locate_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.get("/api/v1/locate", params={"lat": 37.5120, "lon": 127.0590}).json()["district_code"]
        == "11230"
    )
    assert client.get("/api/v1/locate", params={"lat": 35.1, "lon": 129.0}).status_code == 404
    assert client.get("/api/v1/locate", params={"lat": 95, "lon": 129.0}).status_code == 422
