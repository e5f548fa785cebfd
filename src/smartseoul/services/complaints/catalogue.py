"""The complaint categories of Seoul (Open311 services) and the departments that receive them.

Reference data, not demo data: an installation needs them for a complaint to be routed at all, so
:func:`smartseoul.services.complaints.service.ensure_catalogue` inserts whatever is missing at start.
Every district office has one department per duty (``kind``); a duty no district has (stray
animals in Seoul) is a city-wide department. A category lists the duties that must receive it: the
first one *owns* it (``agency_responsible``), the others get a copy (a flooded road is both the
road department's and disaster safety's business).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# kind -> (Korean name, English name, city-wide?)
DEPARTMENT_KINDS: dict[str, tuple[str, str, bool]] = {
    "traffic": ("교통행정과", "Traffic Administration Division", False),
    "roads": ("도로관리과", "Road Management Division", False),
    "cleaning": ("청소행정과", "Sanitation Division", False),
    "environment": ("환경과", "Environment Division", False),
    "health": ("보건소 건강증진과", "Public Health Centre, Health Promotion", False),
    "parks": ("공원녹지과", "Parks and Green Spaces Division", False),
    "disaster": ("안전재난과", "Safety and Disaster Division", False),
    "urban_design": ("도시디자인과", "Urban Design Division", False),
    "smart_city": ("스마트도시과", "Smart City Division", False),
    "animals": ("서울시 동물보호과", "Seoul Animal Protection Division", True),
}


def _list(
    code: str, description: str, options: list[tuple[str, str]], required: bool = False
) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "description": description,
        "datatype_description": "",
        "values": [{"key": key, "name": name} for key, name in options],
    }


def _text(code: str, description: str, pattern_hint: str = "", required: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "string",
        "required": required,
        "description": description,
        "datatype_description": pattern_hint,
        "values": [],
    }


@dataclass(frozen=True)
class Category:
    code: str
    name_ko: str
    name_en: str
    group: str
    kinds: tuple[str, ...]
    sla_hours: int
    keywords: tuple[str, ...] = ()
    description_ko: str = ""
    description_en: str = ""
    attributes: tuple[dict[str, Any], ...] = field(default=())


VEHICLE = _list(
    "vehicle_type",
    "Vehicle type / 차종",
    [
        ("car", "Car / 승용차"),
        ("truck", "Truck / 화물차"),
        ("bus", "Bus / 버스"),
        ("motorcycle", "Motorcycle / 이륜차"),
    ],
)
PLATE = _text("plate", "Licence plate / 차량번호", "e.g. 12가3456")
SIZE = _list(
    "size",
    "Size / 크기",
    [
        ("small", "Fist-sized / 주먹 크기"),
        ("medium", "Tyre-sized / 타이어 크기"),
        ("large", "Larger / 그 이상"),
    ],
)
HAZARD = _list(
    "hazard",
    "Blocking traffic? / 통행 방해 여부",
    [("yes", "Yes / 예"), ("no", "No / 아니오")],
    required=True,
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "illegal_parking",
        "불법 주정차",
        "Illegal parking",
        "traffic",
        ("traffic",),
        4,
        ("parking", "주차", "car"),
        "소화전, 횡단보도, 어린이보호구역 등의 불법 주정차",
        "Vehicles parked at hydrants, crossings, school zones and the like",
        (PLATE, VEHICLE),
    ),
    Category(
        "abandoned_vehicle",
        "방치 차량",
        "Abandoned vehicle",
        "traffic",
        ("traffic",),
        168,
        ("vehicle", "방치"),
        "장기간 방치된 자동차",
        "A vehicle left for a long time",
        (PLATE,),
    ),
    Category(
        "abandoned_bicycle",
        "방치 자전거",
        "Abandoned bicycle",
        "traffic",
        ("traffic",),
        168,
        ("bicycle", "자전거"),
        "거치대나 보도에 방치된 자전거",
        "A bicycle left on a rack or pavement",
    ),
    Category(
        "pothole",
        "도로 파임(포트홀)",
        "Pothole",
        "roads",
        ("roads",),
        24,
        ("road", "도로", "pothole"),
        "차도의 파임, 균열",
        "A hole or crack in the roadway",
        (SIZE, HAZARD),
    ),
    Category(
        "broken_sidewalk",
        "보도블록 파손",
        "Broken sidewalk",
        "roads",
        ("roads",),
        72,
        ("sidewalk", "보도"),
        "들뜨거나 깨진 보도블록",
        "Loose or broken paving",
    ),
    Category(
        "streetlight",
        "가로등 고장",
        "Broken streetlight",
        "roads",
        ("roads",),
        48,
        ("light", "가로등"),
        "꺼지거나 깜빡이는 가로등",
        "A streetlight that is off or flickering",
        (_text("pole_number", "Pole number / 가로등 번호", "the number on the pole"),),
    ),
    Category(
        "traffic_sign",
        "교통 표지판 파손",
        "Damaged traffic sign",
        "roads",
        ("roads", "traffic"),
        48,
        ("sign", "표지판"),
    ),
    Category(
        "flooding",
        "침수·배수 불량",
        "Flooding or blocked drain",
        "roads",
        ("roads", "disaster"),
        6,
        ("flood", "침수", "drain"),
        "도로 침수, 빗물받이 막힘",
        "A flooded road or a blocked storm drain",
        (HAZARD,),
    ),
    Category(
        "illegal_dumping",
        "쓰레기 무단투기",
        "Illegal dumping",
        "cleaning",
        ("cleaning",),
        48,
        ("trash", "쓰레기", "dumping"),
        "지정되지 않은 곳에 버린 쓰레기",
        "Rubbish left where it should not be",
        (
            _list(
                "waste",
                "Waste type / 폐기물 종류",
                [
                    ("household", "Household / 생활"),
                    ("bulky", "Bulky / 대형"),
                    ("construction", "Construction / 건설"),
                ],
            ),
        ),
    ),
    Category(
        "overflowing_bin",
        "쓰레기통 넘침",
        "Overflowing litter bin",
        "cleaning",
        ("cleaning",),
        24,
        ("bin", "쓰레기통"),
    ),
    Category("graffiti", "낙서", "Graffiti", "urban_design", ("urban_design",), 120, ("graffiti", "낙서")),
    Category(
        "illegal_banner",
        "불법 현수막·광고물",
        "Illegal banner or poster",
        "urban_design",
        ("urban_design",),
        48,
        ("banner", "현수막", "poster"),
    ),
    Category(
        "noise",
        "소음",
        "Noise",
        "environment",
        ("environment",),
        24,
        ("noise", "소음"),
        "",
        "",
        (
            _list(
                "noise_source",
                "Source / 소음원",
                [
                    ("construction", "Construction / 공사장"),
                    ("business", "Shop or bar / 업소"),
                    ("vehicle", "Vehicle / 차량"),
                    ("other", "Other / 기타"),
                ],
                required=True,
            ),
        ),
    ),
    Category(
        "odour_smoke", "악취·매연", "Odour or smoke", "environment", ("environment",), 48, ("smell", "악취")
    ),
    Category(
        "smoking",
        "금연구역 흡연",
        "Smoking in a no-smoking zone",
        "health",
        ("health",),
        24,
        ("smoking", "흡연"),
    ),
    Category(
        "fallen_tree",
        "가로수 쓰러짐",
        "Fallen tree",
        "parks",
        ("parks", "roads"),
        12,
        ("tree", "나무"),
        "",
        "",
        (HAZARD,),
    ),
    Category(
        "park_facility", "공원 시설 파손", "Damaged park facility", "parks", ("parks",), 72, ("park", "공원")
    ),
    Category(
        "stray_animal",
        "유기·위험 동물",
        "Stray or dangerous animal",
        "animals",
        ("animals",),
        12,
        ("animal", "동물", "dog", "cat"),
        "",
        "",
        (
            _list(
                "animal",
                "Animal / 동물",
                [
                    ("dog", "Dog / 개"),
                    ("cat", "Cat / 고양이"),
                    ("wild", "Wild boar etc. / 멧돼지 등"),
                    ("other", "Other / 기타"),
                ],
                required=True,
            ),
        ),
    ),
    Category(
        "cctv_damage",
        "방범 CCTV 고장",
        "Damaged CCTV camera",
        "safety",
        ("smart_city",),
        24,
        ("cctv", "camera", "방범"),
        "",
        "",
        (_text("camera_id", "Camera number / 카메라 번호", "on the pole's plate"),),
    ),
    Category(
        "safety_bell",
        "안심벨 고장",
        "Broken emergency bell",
        "safety",
        ("smart_city",),
        24,
        ("bell", "비상벨", "안심벨"),
    ),
    Category("other", "기타 생활 불편", "Other", "other", ("urban_design",), 168, ("other", "기타")),
)


def department_code(kind: str, district_code: str | None) -> str:
    """The stable code of the department of ``kind`` in a district (or city-wide)."""
    return f"{district_code or 'seoul'}-{kind}"
