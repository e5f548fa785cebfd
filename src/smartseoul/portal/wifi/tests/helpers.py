"""A small WiFi registry for tests: three facilities in two districts, three access points."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from smartseoul.portal.wifi.models import WifiAccessPoint, WifiFacility

GANGNAM, JONGNO = "11230", "11010"


def small_registry(session: Session, now: datetime) -> dict[str, WifiAccessPoint]:
    """Gangnam: a library with two APs and a park with none; Jongno: a community centre with one."""
    library = WifiFacility(
        kind="library",
        name_ko="강남도서관",
        name_en="Gangnam Library",
        district_code=GANGNAM,
        lat=37.5,
        lon=127.05,
    )
    park = WifiFacility(
        kind="park", name_ko="강남공원", name_en="Gangnam Park", district_code=GANGNAM, lat=37.49, lon=127.06
    )
    centre = WifiFacility(
        kind="community_centre",
        name_ko="종로 제1동 주민센터",
        name_en="Jongno Centre 1",
        district_code=JONGNO,
        lat=37.57,
        lon=126.98,
    )
    session.add_all([library, park, centre])
    session.flush()
    aps = {
        "lib-1": WifiAccessPoint(
            code="lib-1",
            mac="02:5e:00:00:01:01",
            facility_id=library.id,
            district_code=GANGNAM,
            lat=37.5,
            lon=127.05,
            ssids=["Seoul_Free_WiFi"],
        ),
        "lib-2": WifiAccessPoint(
            code="lib-2",
            mac="02:5e:00:00:01:02",
            facility_id=library.id,
            district_code=GANGNAM,
            lat=37.5,
            lon=127.05,
            ssids=["Seoul_Free_WiFi"],
        ),
        "jongno-1": WifiAccessPoint(
            code="jongno-1",
            mac="02:5e:00:00:02:01",
            facility_id=centre.id,
            district_code=JONGNO,
            lat=37.57,
            lon=126.98,
            ssids=["Seoul_Free_WiFi", "Seoul_Secure"],
        ),
    }
    session.add_all(aps.values())
    session.flush()
    return aps
