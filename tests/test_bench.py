"""Smoke tests of ``smartseoul bench``: each benchmark runs (``--quick``) and reports its figures.

They check the shape of the output (names, positive numbers, null NATS figures when NATS is
away), never a speed: this machine is shared and timings vary. They go through the real command
in a subprocess, as ``make bench`` and CI do, so the runner's discovery of bench/ is covered too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service, services_required

ROOT = Path(__file__).resolve().parents[1]
MEMORY_KEYS = ("memory_publish_per_s", "memory_consume_per_s", "memory_roundtrip_per_s")
NATS_KEYS = (
    "nats_publish_per_s",
    "nats_consume_per_s",
    "nats_roundtrip_per_s",
    "nats_publish_pipelined_per_s",
    "ratio_nats_over_memory_publish",
    "ratio_nats_over_memory_roundtrip",
    "ratio_nats_pipelined_over_sequential_publish",
)
API_KEYS = (
    "api_rps",
    "api_p99_ms",
    "hello_rps",
    "hello_p99_ms",
    "ratio_hello_over_api_rps",
    "ratio_api_over_hello_p99",
)
TRACKING_ENGINE_KEYS = (
    "positions_per_s",
    "positions_per_s_zones_off",
    "ratio_zones_on_over_off",
    "paced_positions_per_s",
    "paced_sos_p50_ms",
    "paced_sos_p99_ms",
    "server_cpu_s_per_1000_positions",
    "sos_idle_p50_ms",
    "sos_p50_ms",
    "sos_p99_ms",
)
TRACKING_SQLITE_KEYS = (
    "decode_positions_per_s",
    *(f"sqlite_{key}" for key in TRACKING_ENGINE_KEYS),
    "ratio_sqlite_over_decode",
)
TRACKING_PG_KEYS = (*(f"postgresql_{key}" for key in TRACKING_ENGINE_KEYS), "ratio_postgresql_over_decode")


def smartseoul(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartseoul.cli", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def figures_of(name: str) -> dict[str, Any]:
    result = smartseoul("bench", name, "--quick", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["_stderr"] = result.stderr
    return figures


def assert_positive(figures: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        value = figures.get(key)
        assert isinstance(value, int | float), f"{key} = {value!r}"
        assert value > 0, f"{key} = {value!r}"


@pytest.fixture(scope="module")
def bus_figures() -> dict[str, Any]:
    """One quick run of the bus benchmark, shared by the memory and NATS checks."""
    return figures_of("bus")


def test_list_names_both_benchmarks() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    assert result.returncode == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"api", "bus"} <= names


def test_list_is_one_name_tab_description_per_line() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == 2 and row[0] and row[1] for row in rows), rows
    assert {"api", "bus"} <= {row[0] for row in rows}


def test_bus_memory_figures(bus_figures: dict[str, Any]) -> None:
    assert_positive(bus_figures, MEMORY_KEYS)


def test_bus_nats_figures(bus_figures: dict[str, Any]) -> None:
    assert set(NATS_KEYS) <= set(bus_figures)
    if bus_figures["nats_publish_per_s"] is None:
        assert all(bus_figures[key] is None for key in NATS_KEYS)
        assert "NATS skipped" in bus_figures["_stderr"]
        message = "NATS skipped by the bus benchmark: " + bus_figures["_stderr"].strip()[-300:]
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    require_service("nats")
    assert_positive(bus_figures, NATS_KEYS)


def test_api_figures() -> None:
    figures = figures_of("api")
    assert_positive(figures, API_KEYS)


def test_tracking_figures() -> None:
    figures = figures_of("tracking")
    assert_positive(figures, TRACKING_SQLITE_KEYS)
    assert set(TRACKING_PG_KEYS) <= set(figures)
    if figures["postgresql_positions_per_s"] is None:
        assert all(figures[key] is None for key in TRACKING_PG_KEYS)
        assert "PostgreSQL skipped" in figures["_stderr"]
        message = "PostgreSQL skipped by the tracking benchmark: " + figures["_stderr"].strip()[-300:]
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    require_service("postgres")
    assert_positive(figures, TRACKING_PG_KEYS)
