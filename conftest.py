"""Shared fixtures: real services (or a clear skip), both database engines, the app, factories.

Database tests run on SQLite and PostgreSQL, each inside a transaction rolled back at the end
(the Warehouse way). HTTP tests need real commits (a denial is audited in its own transaction),
so they get a fresh copy of a migrated, seeded SQLite file, or a PostgreSQL database whose
mutable tables are truncated after each test.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform, bootstrap
from smartseoul.core.bus import InProcessBus
from smartseoul.core.db import Database, make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.core.models import User
from smartseoul.core.settings import Settings

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "nats": ("127.0.0.1", 4222),
    "mqtt": ("127.0.0.1", 1883),
}
PG_ADMIN_URL = os.environ.get("SMARTSEOUL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct-horse-battery"

# Property tests check what a decoder or parser does with any input, never how fast: on the shared,
# loaded CI machine Hypothesis's speed checks (200 ms a case, slow generation) failed a test whose
# every case was right.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")


def services_required() -> bool:
    return os.environ.get("SMARTSEOUL_REQUIRE_SERVICES", "") in ("1", "true", "yes")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, with SMARTSEOUL_REQUIRE_SERVICES=1, fail) when a real service is not there."""
    host, port = SERVICES[name]
    if reachable(host, port):
        return
    message = f"{name} not reachable at {host}:{port}: integration test skipped"
    if services_required():
        pytest.fail(message.replace("skipped", "required by SMARTSEOUL_REQUIRE_SERVICES=1"))
    pytest.skip(message)


def require_chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    message = "Chromium not installed (Debian package chromium): browser test skipped"
    if services_required():
        pytest.fail(message.replace("skipped", "required by SMARTSEOUL_REQUIRE_SERVICES=1"))
    pytest.skip(message)


BROWSER_RERUNS = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each page test one retry.

    A page test drives a real server and a real Chromium on a shared, loaded machine, where a
    poll or a redraw can lose a race that no user would meet; one lost race must not sink a
    whole CI run. A test that fails twice still fails, and every retry shows as ``R`` with
    its first failure in the summary (pytest-rerunfailures), so a flaky page stays visible.
    """
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=1))


# ---------------------------------------------------------------- databases


def _pg_database(name: str) -> str:
    """A fresh PostgreSQL database ``name`` (dropped and created), returned as a URL."""
    require_service("postgres")
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _seed_city(engine: Engine) -> None:
    from smartseoul.city import service

    with Session(engine) as session:
        service.load_reference_data(session)
        service.seed_schools(session, 20151, service.CityIndex.from_session(session))
        session.commit()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def _engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(scope="session")
def engine(engine_kind: str, _engines: dict[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A migrated database with the city loaded, shared by the session (tests roll back)."""
    if engine_kind not in _engines:
        if engine_kind == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        else:
            url = _pg_database(f"smartseoul_test_{os.getpid()}")
        created = make_engine(url)
        upgrade(created)
        _seed_city(created)
        _engines[engine_kind] = created
    return _engines[engine_kind]


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


# ---------------------------------------------------------------- the app


@pytest.fixture(scope="session")
def _app_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {}


def _app_database_url(
    kind: str, templates: dict[str, str], tmp: Path, factory: pytest.TempPathFactory
) -> str:
    if kind == "sqlite":
        if "sqlite" not in templates:
            path = factory.mktemp("template") / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            _seed_city(engine)
            engine.dispose()
            templates["sqlite"] = str(path)
        target = tmp / "app.db"
        shutil.copy(templates["sqlite"], target)
        return f"sqlite:///{target}"
    if "postgresql" not in templates:
        url = _pg_database(f"smartseoul_app_{os.getpid()}")
        engine = make_engine(url)
        upgrade(engine)
        _seed_city(engine)
        engine.dispose()
        templates["postgresql"] = url
    return templates["postgresql"]


def mutable_tables() -> list[str]:
    """Every table but the city's reference data (loaded once per session)."""
    from smartseoul.core.db import Base
    from smartseoul.domains import import_models

    import_models()
    return [name for name in Base.metadata.tables if not name.startswith("city_")]


def _truncate(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(mutable_tables())} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "secret_key": "test-secret-" + "x" * 40,
        "language": "en",
        "tracking_listeners": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def platform(
    engine_kind: str, tmp_path: Path, _app_templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """A platform on a committed, seeded database of each engine, with the in-process bus."""
    url = _app_database_url(engine_kind, _app_templates, tmp_path, tmp_path_factory)
    built = bootstrap(make_settings(tmp_path, database_url=url), bus=InProcessBus())
    try:
        yield built
    finally:
        built.db.dispose()
        if engine_kind == "postgresql":
            _truncate(url)


@pytest.fixture
def client(platform: Platform) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from smartseoul.web.app import create_app

    with TestClient(create_app(platform), base_url="http://127.0.0.1") as test_client:
        yield test_client


# ---------------------------------------------------------------- factories


@dataclass
class Account:
    username: str
    password: str
    roles: list[str]
    totp_secret: str | None

    def otp(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


def _reset_account(session: Session, user: User, roles: list[str], district_code: str | None) -> None:
    """Bring an existing account back to what a fresh one would be (password, roles, no lock)."""
    auth.set_roles(session, user, roles, actor="test")
    user.password_hash = auth.hash_password(PASSWORD)
    user.district_code = district_code
    user.active, user.failed_logins, user.locked_until = True, 0, None
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, 0


def make_account(
    database: Database | Session,
    username: str,
    roles: list[str],
    *,
    mfa: bool | None = None,
    district_code: str | None = None,
) -> Account:
    """An account (with TOTP enrolled when its roles need MFA, unless ``mfa`` says otherwise)."""
    enrol = auth.mfa_required_for(roles) if mfa is None else mfa

    def build(session: Session) -> Account:
        user = auth.get_user(session, username)
        if user is None:
            user = auth.create_user(
                session,
                username=username,
                password=PASSWORD,
                roles=roles,
                actor="test",
                district_code=district_code,
            )
        else:  # a retried page test meets the account its first run made on the module's server
            _reset_account(session, user, roles, district_code)
        secret = None
        if enrol:
            secret = auth.new_totp_secret()
            user.totp_secret, user.totp_enabled = secret, True
        session.flush()
        return Account(username, PASSWORD, roles, secret)

    if isinstance(database, Session):
        return build(database)
    with database.session() as session:
        return build(session)


def token_for(client: Any, account: Account) -> str:
    data = {"username": account.username, "password": account.password}
    if account.totp_secret:
        data["otp"] = account.otp()
    response = client.post("/api/v1/auth/token", data=data)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def reset_otp_replay(database: Database, username: str) -> None:
    """Let a test log the same account in twice within one 30-second TOTP step."""
    with database.session() as session:
        user = auth.get_user(session, username)
        assert isinstance(user, User)
        user.totp_last_step = 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def run_async(coroutine: Any) -> Any:
    """Run a coroutine to completion from a synchronous test, in a thread of its own (the browser
    tests' Playwright leaves an event loop registered on the main thread)."""
    import asyncio
    import threading

    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed back to the test below
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")
