"""`smartseoul placement ...` as a planner would use it from the shell."""

from __future__ import annotations

import json
from pathlib import Path

from smartseoul.core.tests.cli_helpers import run_cli


def test_plan_list_and_show(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    args = ("placement", "plan", "--cameras", "10", "--radius", "300", "--cell", "400", "--candidates", "100")
    made = run_cli(*args, "--per-year", "4", "--json", env=env)
    assert made.returncode == 0, made.stderr
    plan = json.loads(made.stdout)
    assert plan["status"] == "done"
    assert len(plan["sites"]) == 10
    assert [y["cameras_installed"] for y in plan["years"]] == [4, 8, 10]

    text = run_cli(*args, env=env)
    assert text.returncode == 0, text.stderr
    assert "proven gap 0.000%" in text.stdout
    assert "disparity (max/min cameras per 1,000 residents) 7.1827" in text.stdout

    listed = json.loads(run_cli("placement", "list", "--json", env=env).stdout)
    assert [p["id"] for p in listed] == [2, 1]
    shown = json.loads(run_cli("placement", "show", "1", "--json", env=env).stdout)
    assert shown["sites"] == plan["sites"]
    assert run_cli("placement", "show", "99", env=env).returncode == 1


def test_infeasible_request_is_a_clear_error_and_stores_nothing(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    refused = run_cli(
        "placement", "plan", "--cameras", "10", "--mode", "equity", "--target-ratio", "2", env=env
    )
    assert refused.returncode == 2
    assert "cameras: bringing the disparity ratio from 7.18 to 2 needs at least" in refused.stderr
    zero = run_cli("placement", "plan", "--cameras", "10", "--radius", "0", env=env)
    assert zero.returncode == 2
    assert "radius_m: must be more than 0" in zero.stderr
    assert json.loads(run_cli("placement", "list", "--json", env=env).stdout) == []
