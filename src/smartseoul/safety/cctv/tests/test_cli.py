"""`smartseoul camera ...` as an administrator runs it, in a subprocess on a real database file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.settings import Settings
from smartseoul.core.tests.cli_helpers import run_cli
from smartseoul.safety.cctv.tests.helpers import national_csv, national_row, offset


def test_import_list_near_export_and_coverage(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    platform = bootstrap(Settings(data_dir=tmp_path))
    with Session(platform.db.engine) as session:
        city.load_reference_data(session)
        session.commit()
    platform.db.dispose()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(national_csv(national_row(), national_row(35.18, 129.07), encoding="cp949"))
    refused = run_cli("camera", "import", str(bad), env=env)
    assert refused.returncode == 2
    assert "row 3, WGS84위도" in refused.stderr
    assert "nothing imported" in refused.stderr

    good = tmp_path / "cctv.csv"
    good.write_bytes(
        national_csv(national_row(cameras="2"), national_row(37.5126, 127.059, cameras="1"), encoding="cp949")
    )
    imported = run_cli("camera", "import", str(good), "--encoding", "cp949", "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"imported": True, "sites": 2, "cameras": 3}

    listed = json.loads(run_cli("camera", "list", "--district", "11230", "--json", env=env).stdout)
    assert listed["total"] == 1
    assert listed["items"][0]["district_code"] == "11230"

    lat, lon = offset(37.5663, 126.9779, north_m=15, east_m=0)
    near = json.loads(run_cli("camera", "near", str(lat), str(lon), "--json", env=env).stdout)
    assert [c["covers"] for c in near["items"]] == [True]

    exported = run_cli("camera", "export", "--output", str(tmp_path / "out.csv"), env=env)
    assert exported.returncode == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert sorted(r["카메라대수"] for r in rows) == ["1", "2"]

    figures = json.loads(run_cli("camera", "coverage", "--json", env=env).stdout)
    assert figures["city"]["cameras"] == 3
    assert len(figures["districts"]) == 25

    added = run_cli(
        "user",
        "add",
        "--username",
        "police.kang",
        "--role",
        "dispatcher",
        "--password-stdin",
        env=env,
        stdin="Police-officer-2016!\n",
    )
    assert added.returncode == 0, added.stderr
    assert run_cli("camera", "agency", "police.kang", "police", env=env).returncode == 0
    wrong = run_cli("camera", "agency", "police.kang", "army", env=env)
    assert wrong.returncode == 2
    assert "agency: choose from" in wrong.stderr
    assert json.loads(run_cli("camera", "policies", "--json", env=env).stdout) == []
