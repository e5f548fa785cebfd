"""`smartseoul open311 key create|list|revoke` as the city's administrator uses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.db import make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.core.models import AuditEntry
from smartseoul.core.settings import Settings, get_settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.services.complaints import service


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The in-process CLI reads the cached settings: another test's would name another database."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_create_list_use_and_revoke_a_key(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path), "USER": "city.admin"}
    engine = make_engine(f"sqlite:///{tmp_path / 'smartseoul.db'}")
    upgrade(engine)  # in-process: the subprocess below is the command under test
    engine.dispose()
    created = run_cli("open311", "key", "create", "SeoulTalk app", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("o311_")
    prefix = key.split("_")[1]

    platform = bootstrap(Settings(data_dir=tmp_path))
    try:
        with platform.db.session() as session:
            assert service.check_key(session, key).name == "SeoulTalk app"
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "open311.key.create")).one()
            assert entry.actor == "cli:city.admin"
    finally:
        platform.db.dispose()

    runner = CliRunner()
    from smartseoul.cli import app

    listed = runner.invoke(app, ["open311", "key", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["prefix"], r["name"], r["revoked_at"]) for r in rows] == [(prefix, "SeoulTalk app", None)]
    assert key.split("_", 2)[2] not in listed.output  # never printed again

    revoked = runner.invoke(app, ["open311", "key", "revoke", prefix], env=env)
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(app, ["open311", "key", "revoke", prefix], env=env)
    assert again.exit_code == 1
    empty = runner.invoke(app, ["open311", "key", "create", "   "], env=env)
    assert empty.exit_code == 2
    platform = bootstrap(Settings(data_dir=tmp_path))
    try:
        with platform.db.session() as session:
            assert service.list_keys(session)[0].revoked_at is not None
    finally:
        platform.db.dispose()
