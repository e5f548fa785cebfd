"""`smartseoul person ...` and `smartseoul device ...` as an administrator would use them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_async
from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.tracking.ingest import Ingestor
from smartseoul.tracking.protocols import Fix, Message


def test_register_consent_and_read_positions_and_alarms(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    person = run_cli(
        "person",
        "add",
        "--name",
        "한민수",
        "--category",
        "intellectual_disability",
        "--birth-date",
        "1985-07-07",
        env=env,
    )
    person_id = person.stdout.strip()
    refused = run_cli("device", "add", "358000000000001", "--protocol", "teltonika", env=env)
    assert refused.returncode == 2
    assert "protocol: choose from" in refused.stderr
    assert run_cli("person", "consent", person_id, "--by", "person", env=env).returncode == 0
    added = run_cli("device", "add", "358000000000001", "--protocol", "gt06", "--person", person_id, env=env)
    assert added.returncode == 0, added.stderr

    platform = bootstrap(Settings(data_dir=tmp_path))
    fix = Fix(utcnow(), 37.5796, 126.9770, True)

    async def report() -> None:
        ingestor = Ingestor(platform)
        await ingestor.accept(Message("gt06", "358000000000001", "position", 0, fix=fix))
        await ingestor.accept(Message("gt06", "358000000000001", "alarm", 1, fix=None, alarms=("sos",)))

    run_async(report())
    platform.db.dispose()

    no_reason = run_cli("device", "positions", "358000000000001", "--json", env=env)
    assert no_reason.returncode == 2
    assert "--reason is required" in no_reason.stderr
    positions = json.loads(
        run_cli(
            "device", "positions", "358000000000001", "--json", "--reason", "welfare check", env=env
        ).stdout
    )
    assert [(p["lat"], p["lon"], p["valid"], p["source"]) for p in positions] == [
        (37.5796, 126.977, True, "gps")
    ]
    alarms = json.loads(
        run_cli("device", "alarms", "358000000000001", "--json", "--reason", "welfare check", env=env).stdout
    )
    assert [(a["type"], a["lat"], a["position_is_last_known"]) for a in alarms] == [("sos", 37.5796, True)]
    unknown = run_cli("device", "positions", "000", "--reason", "x", env=env)
    assert unknown.returncode == 1
