"""The FastAPI application, assembled from the platform core and every domain's routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

import smartseoul
from smartseoul.core import heap
from smartseoul.core.bootstrap import Platform
from smartseoul.core.bus import BusUnavailable
from smartseoul.core.db import DatabaseUnavailable, check_database
from smartseoul.domains import plugins
from smartseoul.web import pages, problems
from smartseoul.web.middleware import BodyLimit, Metrics, SecurityHeaders
from smartseoul.web.stream import StreamHub

log = logging.getLogger("smartseoul.web")


def _readiness_failures(platform: Platform) -> list[str]:
    failures = []
    try:
        check_database(platform.db.engine)
    except DatabaseUnavailable as error:
        failures.append(str(error))
    return failures


def create_app(platform: Platform, *, simulate: bool = False, server: bool = False) -> FastAPI:
    """The app for ``platform``; with ``simulate`` the demo simulator runs inside it. ``server``
    (``smartseoul serve``, never tests) freezes the start-up heap (core/heap.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not platform.started:
            await platform.start()
        hub = StreamHub(platform.bus)
        await hub.start()
        app.state.stream_hub = hub
        freezing = asyncio.create_task(heap.manage(platform.warmups)) if server else None
        simulator_task: asyncio.Task[int] | None = None
        if simulate:
            from smartseoul.core.simulate import Simulator

            simulator_task = asyncio.create_task(Simulator(platform).run())
        try:
            yield
        finally:
            if freezing is not None:
                freezing.cancel()
            if simulator_task is not None:
                simulator_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await simulator_task
            await hub.stop()
            await platform.close()

    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Smart Seoul",
        version=smartseoul.__version__,
        lifespan=lifespan,
        description="Integrated CCTV control, u-Seoul location safety, mobile civil services and one portal.",
    )
    app.state.platform = platform
    registry = CollectorRegistry()
    _install_gauges(registry, app, platform)
    problems.install(app)
    pages.install(app)
    app.add_middleware(BodyLimit, limit=platform.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics, registry=registry)
    _add_health(app, platform, registry)
    for plugin in plugins():
        for router in plugin.routers():
            app.include_router(router)
    app.include_router(pages.router)
    static = resources.files("smartseoul.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _install_gauges(registry: CollectorRegistry, app: FastAPI, platform: Platform) -> None:
    clients = Gauge("smartseoul_stream_clients", "Open Server-Sent-Event connections", registry=registry)
    clients.set_function(lambda: len(app.state.stream_hub.clients) if hasattr(app.state, "stream_hub") else 0)
    dead = Gauge("smartseoul_bus_dead_letters", "Events a consumer gave up on", registry=registry)
    dead.set_function(lambda: len(platform.bus.dead_letters))
    for plugin in plugins():
        if plugin.metrics is not None:
            plugin.metrics(platform, registry)


def _add_health(app: FastAPI, platform: Platform, registry: CollectorRegistry) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database and the bus answer (503 naming what does not)")
    async def readyz(request: Request) -> JSONResponse:
        failures = await asyncio.to_thread(_readiness_failures, platform)
        try:
            await asyncio.wait_for(platform.bus.health(), 3.0)
        except (BusUnavailable, TimeoutError) as error:
            failures.append(str(error) or "event bus did not answer")
        body: dict[str, Any] = {
            "status": "ok" if not failures else "unavailable",
            "database": platform.db.dialect,
            "failures": failures,
        }
        return JSONResponse(body, status_code=503 if failures else 200)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        """Swagger UI from vendored files: no CDN is reachable from a city's network."""
        return pages.templates.TemplateResponse(request, "docs.html", {})

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(registry).decode(), media_type=CONTENT_TYPE_LATEST)
