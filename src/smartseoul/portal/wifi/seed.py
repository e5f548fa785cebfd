"""Demo WiFi: public facilities in every district (inside its real polygon), their access points,
current health (a few down, a few facilities still without WiFi) and a week of RADIUS usage.

Deterministic from the demo seed, and quick: a few hundred facilities and a few thousand records.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.city.models import District
from smartseoul.core.db import utcnow
from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.models import WifiAccessPoint, WifiAccounting, WifiFacility, WifiOutage
from smartseoul.portal.wifi.radius import AccountingRecord

# kind: (count per district, Korean name pattern, English name pattern)
FACILITIES = {
    "community_centre": (4, "{gu} 제{n}동 주민센터", "{gu} Community Service Centre {n}"),
    "library": (2, "{gu} 구립도서관 {n}관", "{gu} Public Library {n}"),
    "park": (2, "{gu} 근린공원 {n}", "{gu} Neighbourhood Park {n}"),
    "market": (1, "{gu} 전통시장 {n}", "{gu} Traditional Market {n}"),
    "bus_stop": (3, "{gu} 중앙버스정류장 {n}", "{gu} Central Bus Stop {n}"),
    "subway_station": (2, "{gu} 지하철역 {n}", "{gu} Subway Station {n}"),
    "welfare_centre": (1, "{gu} 종합사회복지관 {n}", "{gu} Welfare Centre {n}"),
}
VENDORS = ("Samsung", "Cisco", "Aruba", "Ruckus", "Piolink")
WITHOUT_WIFI = 0.07  # share of facilities whose access point is not installed yet
DOWN = 0.04
USAGE_DAYS = 7
SESSIONS_PER_DAY = 300


def _mac(number: int) -> str:
    return "02:5e:" + ":".join(f"{(number >> shift) & 0xFF:02x}" for shift in (24, 16, 8, 0))


def seed_demo(session: Session, seed: int, secret: str, now: datetime | None = None) -> dict[str, int]:
    """Replace the domain's demo data; returns how many facilities, access points and records."""
    now = now or utcnow()
    rng = random.Random(seed)
    for table in (WifiAccounting, WifiOutage, WifiAccessPoint, WifiFacility):
        session.execute(delete(table))
    index = city.CityIndex.from_session(session)
    districts = session.scalars(select(District).order_by(District.code)).all()
    aps: list[WifiAccessPoint] = []
    planned: list[WifiFacility] = []
    for district in districts:
        shape = index.district_shapes[district.code]
        gu_ko, gu_en = district.name_ko, district.name_en
        for kind, (count, name_ko, name_en) in FACILITIES.items():
            for n, (lat, lon) in enumerate(city.random_points_in(shape, count, rng), start=1):
                facility = WifiFacility(
                    kind=kind,
                    name_ko=name_ko.format(gu=gu_ko, n=n),
                    name_en=name_en.format(gu=gu_en, n=n),
                    district_code=district.code,
                    lat=lat,
                    lon=lon,
                )
                planned.append(facility)
    session.add_all(planned)
    session.flush()
    for facility in planned:
        if rng.random() < WITHOUT_WIFI:
            continue
        for unit in range(2 if facility.kind in ("library", "subway_station", "community_centre") else 1):
            aps.append(_access_point(facility, len(aps) + 1, unit, rng, now))
    session.add_all(aps)
    session.flush()
    for ap in aps:
        if ap.health == "down":
            session.add(WifiOutage(ap_id=ap.id, started_at=ap.last_report_at, reason="missed_reports"))
    records = _usage(aps, rng, now)
    stored = service.store_accounting(session, records, secret, source="demo").stored
    session.flush()
    return {"facilities": len(planned), "access_points": len(aps), "accounting_records": stored}


def _access_point(
    facility: WifiFacility, number: int, unit: int, rng: random.Random, now: datetime
) -> WifiAccessPoint:
    down = rng.random() < DOWN
    return WifiAccessPoint(
        code=f"AP-{facility.district_code}-{number:04d}",
        mac=_mac(number),
        facility_id=facility.id,
        district_code=facility.district_code,
        lat=round(facility.lat + rng.uniform(-0.0003, 0.0003), 6) if unit else facility.lat,
        lon=round(facility.lon + rng.uniform(-0.0003, 0.0003), 6) if unit else facility.lon,
        ssids=["Seoul_Free_WiFi", "Seoul_Secure"],
        backhaul="city_fibre" if rng.random() < 0.8 else "carrier",
        vendor=rng.choice(VENDORS),
        status="active",
        health="down" if down else "up",
        last_report_at=now - timedelta(minutes=rng.randint(30, 300) if down else rng.randint(0, 1)),
        clients=0 if down else rng.randint(0, 40),
    )


def _usage(aps: list[WifiAccessPoint], rng: random.Random, now: datetime) -> list[AccountingRecord]:
    """Start and Stop records of a week of sessions by a pool of returning users."""
    records: list[AccountingRecord] = []
    users = [f"user{n:05d}" for n in range(3000)]
    for day in range(USAGE_DAYS):
        for n in range(SESSIONS_PER_DAY):
            ap = rng.choice(aps)
            start = now - timedelta(days=day, seconds=rng.randint(0, 86_000))
            length = rng.randint(60, 3600)
            session_id = f"demo-{day}-{n:05d}"
            user = rng.choice(users)
            ssid = rng.choice(ap.ssids)
            records.append(AccountingRecord("Start", session_id, user, ap.mac, ssid, start))
            records.append(
                AccountingRecord(
                    "Stop",
                    session_id,
                    user,
                    ap.mac,
                    ssid,
                    start + timedelta(seconds=length),
                    session_time_s=length,
                    input_octets=rng.randint(50_000, 80_000_000),
                    output_octets=rng.randint(200_000, 400_000_000),
                )
            )
    return records
