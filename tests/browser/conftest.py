"""A real server and a real headless Chromium for the page tests.

One uvicorn server (the whole app, with the demo simulator running) listens on a free port of
127.0.0.1 for the module, on a migrated and seeded SQLite file; each test gets a fresh browser
context (its own cookies) from one Chromium shared by the session.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from sqlalchemy.orm import Session

from conftest import Account, make_account, make_settings, require_chromium
from smartseoul.core.bootstrap import Platform, bootstrap
from smartseoul.core.bus import InProcessBus
from smartseoul.core.db import make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.web.i18n import catalogue

T = TypeVar("T")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# a shared, loaded machine: argon2, PDF sealing, a stream's first frame can take seconds
PATIENCE_MS = 30_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    platform: Platform
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop (publish on its in-process bus, say)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def account(self, username: str, roles: list[str], *, mfa: bool | None = None) -> Account:
        return make_account(self.platform.db, username, roles, mfa=mfa)


def text(lang: str, key: str) -> str:
    """The UI text the user sees for ``key`` in ``lang``."""
    return catalogue(lang)[key]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seeded_sqlite(path: Path) -> str:
    from smartseoul.city import service

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        service.load_reference_data(session)
        service.seed_schools(session, 20151, service.CityIndex.from_session(session))
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def live_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the simulator, served by uvicorn in a background thread."""
    from smartseoul.web.app import create_app

    tmp = tmp_path_factory.mktemp("browser")
    settings = make_settings(
        tmp,
        database_url=_seeded_sqlite(tmp / "app.db"),
        simulate_rate=5.0,
        language="ko",
        login_rate_per_minute=1000,
    )
    platform = bootstrap(settings, bus=InProcessBus())
    port = _free_port()
    config = uvicorn.Config(
        create_app(platform, simulate=True),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-browser-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", platform, server.servers[0].get_loop())
    finally:
        server.should_exit = True
        thread.join(15)
        platform.db.dispose()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser profile (no cookies) that prefers Korean, on a desktop-sized window."""
    created = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="ko-KR")
    created.set_default_timeout(10_000)
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Script errors, and resources (scripts, styles, API calls) that failed to load."""
    return []


@pytest.fixture
def page(context: Any, page_errors: list[str]) -> Iterator[Any]:
    created = context.new_page()

    def on_console(message: Any) -> None:
        url = message.location.get("url", "")
        # a page shown with an error status (a refused login, a 403 page) is what the test checks
        if message.type != "error" or (
            message.text.startswith("Failed to load resource") and url == created.url
        ):
            return
        page_errors.append(f"{message.text} ({url})")

    created.on("pageerror", lambda error: page_errors.append(str(error)))
    created.on("console", on_console)
    yield created
    assert not page_errors, f"the page reported errors: {page_errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[str]:
    """WCAG 2.2 AA violations axe-core finds on the page as it is now, one line each.

    axe-core is vendored from npm (``vendor/SOURCES.md``), so the check runs offline. It is
    evaluated through the DevTools protocol rather than added as a script tag, so the page's own
    Content-Security-Policy stays in force (a test never needs ``bypass_csp``).
    """
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA_TAGS)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in result["violations"]
    ]


@pytest.fixture
def patient_expect() -> Iterator[None]:
    """Playwright's ``expect`` waits PATIENCE_MS in this test, then its default again (5 s), so a
    module that asks for patience (``pytest.mark.usefixtures("patient_expect")``) leaves the
    others as they were."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PATIENCE_MS)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def staff_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page in a fresh Korean desktop context, patient like the rest of the module."""
    context = browser.new_context(base_url=live_server.url, locale="ko-KR")
    context.set_default_timeout(PATIENCE_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
