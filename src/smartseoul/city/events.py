"""Events of the city domain."""

from __future__ import annotations

from smartseoul.core.events import Event


class CityDataLoaded(Event):
    """The reference data was (re)loaded; caches of district figures must be rebuilt."""

    type_name = "city.data.loaded.v1"
    districts: int
    neighbourhoods: int
    schools: int


class CrimeReportSimulated(Event):
    """A simulated report of one of the five major crimes, drawn from the 2016 police figures."""

    type_name = "city.report.simulated.v1"
    district_code: str
    district_ko: str
    district_en: str
    police_station_ko: str
    crime: str
    lat: float
    lon: float

    def summary(self, lang: str) -> str:
        if lang == "ko":
            return f"{self.district_ko} · {CRIME_KO[self.crime]} 신고 (모의, {self.police_station_ko})"
        return f"{self.district_en}: {self.crime} reported (simulated)"


CRIME_KO = {"murder": "살인", "robbery": "강도", "rape": "성범죄", "theft": "절도", "violence": "폭력"}
