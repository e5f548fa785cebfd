"""Portal pages/s (50 clients) next to /healthz; search p95 over 100,000 documents on SQLite and PostgreSQL.

Why: the portal is the city's front door for ~200 sites, so server-rendered pages must be cheap,
and search across every site must stay fast at the issue's scale (200 sites x 500 documents).

Pages: the real ``smartseoul serve`` subprocess on a temporary SQLite database with the city and
the demo's ~200 sites seeded; the keep-alive load generator of ``bench api`` (``bench/_load.py``)
drives 50 clients at, in turn, ``/healthz`` (the baseline: the same server doing no work), a news
page (``/sites/gangnam-gu/news/1``: site, published revision, alert banner, JSON-LD) and the portal
home (``/portal``: latest news, notices, events and the ~200 site links).

Search: the store is filled with 200 sites x 500 generated Korean documents (20 x 25 with
``--quick``) on SQLite, and on PostgreSQL when it answers at 127.0.0.1:5432 (else those figures are
None). Each query of a fixed Korean mix (a word inside longer words, two words, a one-syllable
prefix, with and without site/type filters) runs through ``search.search`` (count and first page,
newest first; then once more best match first) and its wall time is recorded. The index is the
engine's own: SQLite FTS5, PostgreSQL tsvector + GIN (``portal/content/search.py``). The baseline in
the same run and database is a plain ``LIKE '%word%'`` scan over the published titles and bodies
(what one would do without the index).

Reported: ``page_rps``, ``page_p99_ms``, ``portal_rps``, ``healthz_rps``,
``ratio_healthz_over_page_rps``; ``search_documents``; for each engine E (sqlite, postgresql):
``search_E_p50_ms``, ``search_E_p95_ms``, ``search_E_relevance_p95_ms`` (``sort="relevance"``),
``like_E_p95_ms`` and ``ratio_like_over_search_E_p95``.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from rich.console import Console

HERE = Path(__file__).resolve().parent
PG_ADMIN = os.environ.get("SMARTSEOUL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
QUERIES: tuple[tuple[str, dict[str, object]], ...] = (
    ("도서관", {}),
    ("독서교실", {}),
    ("와이파이", {"type": "news"}),
    ("미세먼지 저감", {}),
    ("치매 검진", {}),
    ("음악회", {"type": "event"}),
    ("제설", {"site": True}),
    ("청년 일자리", {}),
    ("여권", {"type": "service"}),
    ("어린이보호구역", {}),
    ("주민참여예산", {"site": True}),
    ("자", {}),
)
err = Console(stderr=True, soft_wrap=True)


def _sibling(name: str) -> ModuleType:
    """Import ``bench/NAME.py``; bench/ is not a package (the runner loads files by path)."""
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_api = _sibling("api")  # serve(), _measure(), _seed_database(): the same server handling as bench api


def _seed_demo_content(url: str) -> None:
    from sqlalchemy.orm import Session

    from smartseoul.core.db import make_engine
    from smartseoul.portal.content.simulate import seed_demo

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            seed_demo(SimpleNamespace(settings=SimpleNamespace(demo_seed=20151)), session)  # type: ignore[arg-type]
            session.commit()
    finally:
        engine.dispose()


def page_figures(quick: bool) -> dict[str, float]:
    warmup, duration, settle = (0.5, 2.0, 1.0) if quick else (2.0, 8.0, 10.0)
    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-portal-"))
    try:
        url = f"sqlite:///{(workdir / 'bench.db').as_posix()}"
        with err.status("seeding the city and the demo's sites"):
            _api._seed_database(url)
            _seed_demo_content(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
        env.update(
            SMARTSEOUL_DATA_DIR=str(workdir), SMARTSEOUL_DATABASE_URL=url, SMARTSEOUL_BUS_URL="memory://"
        )
        command = [sys.executable, "-m", "smartseoul.cli", "serve", "--host", "{host}", "--port", "{port}"]
        with _api.serve(command, env, "/healthz", workdir) as server:
            # other domains start background work (sweeps, catalogues) with the server: let it pass
            time.sleep(settle)
            healthz = _api._measure("healthz", server, "/healthz", warmup, duration)
            page = _api._measure("news page", server, "/sites/gangnam-gu/news/1", warmup, duration)
            portal = _api._measure("portal home", server, "/portal", warmup, duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "page_rps": round(page.rps, 1),
        "page_p99_ms": round(page.percentile_ms(0.99), 2),
        "portal_rps": round(portal.rps, 1),
        "healthz_rps": round(healthz.rps, 1),
        "ratio_healthz_over_page_rps": round(healthz.rps / page.rps, 3),
    }


def _fill(url: str, sites: int, per_site: int) -> int:
    """Migrate ``url`` and store ``sites`` x ``per_site`` published documents; returns index terms."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from smartseoul.core.db import make_engine
    from smartseoul.core.migrate import upgrade
    from smartseoul.portal.content.models import ContentSite
    from smartseoul.portal.content.simulate import GeneratedDocument, bulk_publish, documents

    engine = make_engine(url)
    rng = random.Random(7)
    rows = 0
    try:
        upgrade(engine)
        with Session(engine) as session:
            for number in range(sites):
                site = ContentSite(slug=f"site-{number}", kind="facility", name_ko=f"서울 시설 {number}",
                                   name_en=f"Facility {number}", description="")  # fmt: skip
                session.add(site)
                session.flush()
                place = rng.choice(("강남구", "종로구", "마포구", "노원구", "서초구")) + f" {number}번 시설"
                docs: list[GeneratedDocument] = list(documents(rng, place, per_site))
                rows += bulk_publish(session, [(site, d) for d in docs], "bench")
                if number % 20 == 19:
                    session.commit()
            session.commit()
        with engine.begin() as connection:  # planner statistics, as autovacuum / a DBA would have them
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return rows


def _search_latencies(url: str, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Wall times (s) of the indexed search (newest first, best match first) and of a LIKE scan
    baseline: the same queries on the same database."""
    from sqlalchemy import func, or_, select
    from sqlalchemy.orm import Session

    from smartseoul.core.db import make_engine
    from smartseoul.portal.content import search
    from smartseoul.portal.content.models import ContentDocument, ContentRevision

    engine = make_engine(url)
    indexed: list[float] = []
    ranked: list[float] = []
    scanned: list[float] = []
    try:
        with Session(engine) as session:
            search.search(session, "서울")  # warm the connection and the caches
            for round_number in range(rounds):
                for text, options in QUERIES:
                    filters = search.Filters(
                        site=f"site-{round_number % 20}" if options.get("site") else None,
                        kind=str(options["type"]) if "type" in options else None,
                    )
                    started = time.perf_counter()
                    search.search(session, text, filters)
                    indexed.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    search.search(session, text, filters, sort="relevance")
                    ranked.append(time.perf_counter() - started)
                word = QUERIES[round_number % len(QUERIES)][0]
                started = time.perf_counter()
                session.scalar(
                    select(func.count())
                    .select_from(ContentDocument)
                    .join(ContentRevision, ContentRevision.id == ContentDocument.published_revision_id)
                    .where(
                        or_(
                            ContentRevision.title.like(f"%{word}%"),
                            ContentRevision.body_html.like(f"%{word}%"),
                        )
                    )
                )
                scanned.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return indexed, ranked, scanned


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000.0


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def _pg_database(name: str, drop_only: bool = False) -> str:
    from sqlalchemy import text

    from smartseoul.core.db import make_engine

    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def search_figures(quick: bool) -> dict[str, Any]:
    sites, per_site, rounds = (20, 25, 3) if quick else (200, 500, 20)
    figures: dict[str, Any] = {"search_documents": sites * per_site}
    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-search-"))
    pg_name = f"smartseoul_bench_portal_{os.getpid()}"
    engines = {"sqlite": f"sqlite:///{(workdir / 'search.db').as_posix()}"}
    try:
        if _pg_reachable():
            engines["postgresql"] = _pg_database(pg_name)
        else:
            err.print("PostgreSQL not reachable at 127.0.0.1:5432: its search figures are None")
        for kind in ("sqlite", "postgresql"):
            if kind not in engines:
                names = (
                    "search_{}_p50_ms",
                    "search_{}_p95_ms",
                    "search_{}_relevance_p95_ms",
                    "like_{}_p95_ms",
                    "ratio_like_over_search_{}_p95",
                )
                figures.update({name.format(kind): None for name in names})
                continue
            started = time.perf_counter()
            with err.status(f"{kind}: storing {sites * per_site:,} documents"):
                rows = _fill(engines[kind], sites, per_site)
            seconds = time.perf_counter() - started
            err.print(f"{kind}: {sites * per_site:,} documents, {rows:,} index terms in {seconds:.1f} s")
            indexed, ranked, scanned = _search_latencies(engines[kind], rounds)
            figures[f"search_{kind}_p50_ms"] = round(statistics.median(indexed) * 1000.0, 2)
            figures[f"search_{kind}_p95_ms"] = round(_p(indexed, 0.95), 2)
            figures[f"search_{kind}_relevance_p95_ms"] = round(_p(ranked, 0.95), 2)
            figures[f"like_{kind}_p95_ms"] = round(_p(scanned, 0.95), 2)
            figures[f"ratio_like_over_search_{kind}_p95"] = round(_p(scanned, 0.95) / _p(indexed, 0.95), 3)
    finally:
        if "postgresql" in engines:
            _pg_database(pg_name, drop_only=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    return {**page_figures(quick), **search_figures(quick)}
