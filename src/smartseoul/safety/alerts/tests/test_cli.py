"""`smartseoul alert ...` as an operator scripting a drill would use it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from smartseoul.city import service as city
from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.models import AuditEntry
from smartseoul.core.settings import Settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.safety.alerts.cap import validation_errors

ISSUE = ["--event", "Flood", "--severity", "Severe", "--urgency", "Immediate", "--certainty", "Observed"]


def test_issue_list_cancel_and_city_wide_approval(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path), "USER": "drill.lead"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("seed", "demo", env=env).returncode == 0  # the districts (and the demo drill alert)

    issued = run_cli("alert", "issue", "--district", "11230", *ISSUE, "--headline", "강남 침수 훈련", env=env)
    assert issued.returncode == 0, issued.stderr
    alert_id = int(issued.stdout.strip())
    rows = json.loads(run_cli("alert", "list", "--json", env=env).stdout)
    mine = next(row for row in rows if row["id"] == alert_id)
    assert (mine["state"], mine["district_codes"], mine["issued_by"]) == (
        "active",
        ["11230"],
        "cli:drill.lead",
    )
    document = run_cli("alert", "cap", str(alert_id), env=env).stdout.strip().encode()
    assert validation_errors(document) == []

    refused = run_cli("alert", "issue", "--district", "11999", *ISSUE, "--headline", "x", env=env)
    assert refused.returncode == 2
    assert "area.districts[0]: unknown district code '11999'" in refused.stderr

    settings = Settings(data_dir=tmp_path)
    platform = bootstrap(settings)
    with platform.db.session() as session:
        everything = [part for d in city.list_districts(session) for part in ("--district", d["code"])]
    platform.db.dispose()
    city_wide = run_cli("alert", "issue", *everything, *ISSUE, "--headline", "서울 전역 훈련", env=env)
    assert city_wide.returncode == 0
    assert "waits for another person's approval" in city_wide.stderr
    wide_id = city_wide.stdout.strip()
    own = run_cli("alert", "approve", wide_id, env=env)
    assert own.returncode == 1
    assert "cannot approve their own alert" in own.stderr
    assert run_cli("alert", "approve", wide_id, "--as", "duty.officer", env=env).returncode == 0

    assert run_cli("alert", "cancel", str(alert_id), "--reason", "drill over", env=env).returncode == 0
    current = {row["id"] for row in json.loads(run_cli("alert", "list", "--json", env=env).stdout)}
    assert alert_id not in current
    assert int(wide_id) in current

    platform = bootstrap(settings)
    with platform.db.session() as session:
        actions = [
            (row.actor, row.action)
            for row in session.scalars(select(AuditEntry).where(AuditEntry.action.like("alert.%")))
        ]
    platform.db.dispose()
    assert ("cli:drill.lead", "alert.issue") in actions
    assert ("duty.officer", "alert.approve") in actions
    assert ("cli:drill.lead", "alert.cancel") in actions
