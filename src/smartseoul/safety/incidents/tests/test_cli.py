"""`smartseoul bell|incident|agency ...` as an administrator scripting a drill would use them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.models import AuditEntry
from smartseoul.core.settings import Settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.safety.incidents import bells


def _city(tmp_path: Path) -> dict[str, str]:
    from smartseoul.city import service

    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    platform = bootstrap(Settings(data_dir=tmp_path))
    with Session(platform.db.engine) as session:
        service.load_reference_data(session)
        session.commit()
    platform.db.dispose()
    return env


def test_a_drill_from_the_command_line(tmp_path: Path) -> None:
    env = _city(tmp_path)
    added = run_cli(
        "bell", "add", "B-DRILL-1", "--lat", "37.5759", "--lon", "126.9769", "--camera", "4", env=env
    )
    assert added.returncode == 0, added.stderr
    assert "district 11010" in added.stdout
    refused = run_cli(
        "bell", "add", "B-DRILL-2", "--lat", "37.5759", "--lon", "126.9769", "--district", "11230", env=env
    )
    assert refused.returncode == 2
    assert "district: the point lies in 11010" in refused.stderr
    agency = run_cli(
        "agency", "add", "police-jongno", "--kind", "police", "--district", "11010", "--json", env=env
    )
    assert agency.returncode == 0
    assert json.loads(agency.stdout)["district_codes"] == ["11010"]
    bad_kind = run_cli("agency", "add", "navy", "--kind", "navy", env=env)
    assert bad_kind.returncode == 2
    assert "kind must be one of" in bad_kind.stderr

    platform = bootstrap(Settings(data_dir=tmp_path))
    with platform.db.session() as session:
        bells.press(session, platform.settings, "B-DRILL-1")
    platform.db.dispose()

    listed = run_cli("incident", "list", "--status", "open", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (incident,) = json.loads(listed.stdout)
    assert incident["bell_id"] == "B-DRILL-1"
    assert incident["camera_ids"] == [4]
    assert incident["status"] == "new"
    assert run_cli("incident", "list", "--status", "lost", env=env).returncode == 2
    bells_listed = json.loads(run_cli("bell", "list", "--json", env=env).stdout)
    assert [b["id"] for b in bells_listed] == ["B-DRILL-1"]

    platform = bootstrap(Settings(data_dir=tmp_path))
    with platform.db.session() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    platform.db.dispose()
    assert {"bell.add", "agency.add", "incident.list"} <= actions
