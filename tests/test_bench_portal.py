"""Smoke test of ``smartseoul bench portal --quick``: it runs and reports sane figures (never a speed)."""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of, smartseoul

PAGE_KEYS = ("page_rps", "page_p99_ms", "portal_rps", "healthz_rps", "ratio_healthz_over_page_rps")
SEARCH_KEYS = (
    "search_sqlite_p50_ms",
    "search_sqlite_p95_ms",
    "like_sqlite_p95_ms",
    "ratio_like_over_search_sqlite_p95",
)


def test_portal_benchmark_is_listed() -> None:
    result = smartseoul("bench", "--list", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "portal" in {line.split("\t")[0] for line in result.stdout.splitlines()}


def test_portal_figures() -> None:
    figures = figures_of("portal")
    assert_positive(figures, PAGE_KEYS + SEARCH_KEYS)
    assert figures["search_documents"] == 500
    assert figures["search_sqlite_p50_ms"] <= figures["search_sqlite_p95_ms"]
    postgres = figures["search_postgresql_p95_ms"]
    assert postgres is None or postgres > 0
