"""`smartseoul wifi ...` as an administrator runs it (a real subprocess, on a seeded SQLite copy;
the same code runs on PostgreSQL, which the service and API tests cover)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from conftest import _app_database_url
from smartseoul.core.db import make_engine
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.portal.wifi import service
from smartseoul.portal.wifi.tests.helpers import small_registry
from smartseoul.portal.wifi.tests.test_radius import DETAIL


def test_import_radius_and_coverage(
    tmp_path: Path,
    _app_templates: dict[str, str],  # noqa: PT019  (the shared migrated template, by value)
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = _app_database_url("sqlite", _app_templates, tmp_path, tmp_path_factory)
    engine = make_engine(url)
    with Session(engine) as session:
        small_registry(session, datetime.now(UTC))
        service.ingest_reports(session, [service.StatusReport("jongno-1", datetime.now(UTC))])
        session.commit()
    engine.dispose()
    detail = tmp_path / "detail-20261202"
    detail.write_text(DETAIL, encoding="utf-8")
    env = {"SMARTSEOUL_DATABASE_URL": url, "SMARTSEOUL_DATA_DIR": str(tmp_path), "USER": "netops"}
    first = run_cli("wifi", "import-radius", str(detail), env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "stored 2, duplicates 0, malformed 1"
    assert "Accounting-On" in first.stderr  # the malformed record is named with its line
    coverage = json.loads(run_cli("wifi", "coverage", "--json", env=env).stdout.splitlines()[-1])
    assert coverage["city"] == {"facilities": 3, "covered": 1, "ratio": 0.3333}
