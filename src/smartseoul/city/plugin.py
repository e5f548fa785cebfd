"""The city domain as a platform plugin."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from smartseoul.city import service
from smartseoul.city.events import CityDataLoaded, CrimeReportSimulated
from smartseoul.core.plugin import ActivityGenerator, DomainPlugin, lazy_routers

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform
    from smartseoul.core.events import Event

INDEX_KEY = "city.index"
RESPONSES_KEY = "city.responses"


def city_index(platform: Platform) -> service.CityIndex:
    """The point-lookup index of this process, built once from the database."""
    index = platform.cache.get(INDEX_KEY)
    if index is None:
        with platform.db.session() as session:
            index = service.CityIndex.from_session(session)
        platform.cache[INDEX_KEY] = index
    assert isinstance(index, service.CityIndex)
    return index


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """Load the real 2016 reference data and place the demo schools; returns the event to announce it."""
    loaded = service.load_reference_data(session)
    index = service.CityIndex.from_session(session)
    schools = service.seed_schools(session, platform.settings.demo_seed, index)
    platform.cache[INDEX_KEY] = index
    platform.cache.pop(RESPONSES_KEY, None)
    return [
        CityDataLoaded(
            districts=loaded["districts"], neighbourhoods=loaded["neighbourhoods"], schools=schools
        )
    ]


def _crime_generator(platform: Platform) -> ActivityGenerator:
    """Reports drawn in proportion to each station's 2016 occurrences of each crime."""
    with platform.db.session() as session:
        stations = service.police_stations(session)
        districts = {d["code"]: d for d in service.list_districts(session)}
    choices = [
        (s.name_ko, s.district_code, crime, s.crimes[crime]["occurred"])
        for s in stations
        for crime in service.CRIMES
    ]

    async def make(platform: Platform, rng: random.Random) -> Event | None:
        if not choices:
            return None
        station, code, crime, _ = rng.choices(choices, weights=[c[3] for c in choices])[0]
        shape = city_index(platform).district_shapes[code]
        lat, lon = service.random_points_in(shape, 1, rng)[0]
        return CrimeReportSimulated(
            district_code=code,
            district_ko=districts[code]["name_ko"],
            district_en=districts[code]["name_en"],
            police_station_ko=station,
            crime=crime,
            lat=lat,
            lon=lon,
            source="simulator",
        )

    return ActivityGenerator("city.crime_reports", 1.0, make)


async def _on_startup(platform: Platform) -> None:
    """Render the district responses, and render them again whenever the city is reloaded
    (`smartseoul seed demo` in another process announces it on the bus)."""
    import asyncio

    from smartseoul.city.router import warm

    async def reload(_event: Event) -> None:
        platform.cache.pop(RESPONSES_KEY, None)
        platform.cache.pop(INDEX_KEY, None)
        await asyncio.to_thread(warm, platform)

    await asyncio.to_thread(warm, platform)
    await platform.bus.subscribe(CityDataLoaded.type_name, reload)


PLUGIN = DomainPlugin(
    name="city",
    on_startup=_on_startup,
    models=("smartseoul.city.models",),
    routers=lazy_routers("smartseoul.city.router:router"),
    seed_demo=seed_demo,
    generators=lambda platform: [_crime_generator(platform)],
)
