"""`smartseoul pki`, `smartseoul catalog` and `smartseoul certificate` as a city operator runs them
(in process with Typer's runner, on a migrated SQLite file: the same code as the real command)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import _seed_city, make_account
from smartseoul.core import auth
from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.db import make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.core.settings import Settings, get_settings
from smartseoul.services.certificates import service as documents
from smartseoul.services.identity import pki, service


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The CLI reads the process's cached settings: an earlier test's would point at its database."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_operator_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smartseoul.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    _seed_city(engine)
    engine.dispose()
    for key, value in {
        "SMARTSEOUL_DATA_DIR": str(tmp_path),
        "SMARTSEOUL_DATABASE_URL": url,
        "USER": "ca.op",
    }.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    made = runner.invoke(app, ["pki", "init"])
    assert made.exit_code == 0, made.output
    assert "city CA made" in made.output
    assert "already there" in runner.invoke(app, ["pki", "init"]).output

    assert runner.invoke(app, ["catalog", "load-demo"]).output.strip() == "108 services added"
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["catalog", "coverage", "--csv"]).output)))
    assert {row["year"]: row["share_percent"] for row in rows if not row["department"]}["2013"] == "62.0"

    platform = bootstrap(Settings(data_dir=tmp_path, database_url=url))
    account = make_account(platform.db, "cli.citizen", ["citizen"])
    with platform.db.session() as session:
        user = auth.get_user(session, account.username)
        assert user is not None
        serial = service.issue_certificate(session, platform.settings, user).serial_hex
        number = documents.issue(
            session, platform.settings, user_id=user.id, kind_key="local_tax", purpose="", form={}
        ).number
    platform.db.dispose()

    revoked = runner.invoke(app, ["pki", "revoke", serial, "--reason", "key compromise"])
    assert revoked.exit_code == 0, revoked.output
    shown = json.loads(runner.invoke(app, ["pki", "show", "--json"]).output)
    assert shown["revoked"] == [serial]
    assert shown["root"]["sha256"] == pki.fingerprint(pki.load_ca(pki.pki_dir(tmp_path)).root)
    unknown = runner.invoke(app, ["pki", "revoke", "abc123"])
    assert unknown.exit_code == 1

    assert runner.invoke(app, ["certificate", "verify", number]).exit_code == 0
    assert runner.invoke(app, ["certificate", "revoke", number, "--reason", "오발급"]).exit_code == 0
    after = runner.invoke(app, ["certificate", "verify", number])
    assert after.exit_code == 1
    assert json.loads(after.output)["status"] == "revoked"
