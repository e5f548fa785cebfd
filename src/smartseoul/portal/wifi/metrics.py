"""Coverage and health of public WiFi for Prometheus, computed from the database at scrape time
(cached a few seconds, so a busy scraper costs one query per interval)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from smartseoul.portal.wifi import service

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

CACHE_S = 5.0
log = logging.getLogger("smartseoul.wifi")


class WifiCollector(Collector):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._at = 0.0
        self._families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if time.monotonic() - self._at > CACHE_S:
            try:
                self._families = self._measure()
            except Exception:  # a scrape must never fail for one domain: keep the last figures
                log.exception("WiFi metrics could not be measured")
            self._at = time.monotonic()
        yield from self._families

    def _measure(self) -> list[GaugeMetricFamily]:
        with self.platform.db.reading() as session:
            city, districts = service.coverage(session)
            health = service.health_counts(session)
        ratio = GaugeMetricFamily(
            "smartseoul_wifi_facility_coverage_ratio",
            "Share of public facilities with at least one working access point",
            labels=["district"],
        )
        ratio.add_metric(["all"], city.ratio)
        for code, found in districts.items():
            ratio.add_metric([code], found.ratio)
        facilities = GaugeMetricFamily(
            "smartseoul_wifi_facilities", "Public facilities, and those with working WiFi", labels=["covered"]
        )
        facilities.add_metric(["all"], city.facilities)
        facilities.add_metric(["yes"], city.covered)
        aps = GaugeMetricFamily(
            "smartseoul_wifi_access_points", "Active access points by health", labels=["health"]
        )
        for name, count in sorted(health.items()):
            aps.add_metric([name], count)
        return [ratio, facilities, aps]
