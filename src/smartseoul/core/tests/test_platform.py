"""Settings, health, metrics, the CLI, and clear one-line errors when a dependency is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import make_account
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import Database
from smartseoul.core.tests.cli_helpers import run_cli


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMARTSEOUL_PORT", "99999"),
        ("SMARTSEOUL_BUS_URL", "kafka://x"),
        ("SMARTSEOUL_SECRET_KEY", "short"),
        ("SMARTSEOUL_LOG_LEVEL", "LOUD"),
        ("SMARTSEOUL_DATABASE_URL", "mysql://x"),
    ],
)
def test_an_invalid_setting_stops_with_exit_code_2_naming_it(
    variable: str, value: str, tmp_path: Path
) -> None:
    result = run_cli("config", env={variable: value, "SMARTSEOUL_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert f"invalid setting {variable}" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_lists_every_setting_with_a_description(tmp_path: Path) -> None:
    result = run_cli("config", "--json", env={"SMARTSEOUL_DATA_DIR": str(tmp_path)})
    rows = __import__("json").loads(result.stdout)
    assert all(row["description"] for row in rows)
    assert {"SMARTSEOUL_DATABASE_URL", "SMARTSEOUL_BUS_URL", "SMARTSEOUL_PORT"} <= {
        row["variable"] for row in rows
    }


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        env={
            "SMARTSEOUL_DATA_DIR": str(tmp_path),
            "SMARTSEOUL_DATABASE_URL": "postgresql+psycopg://postgres:pw@127.0.0.1:1/none",
        },
    )
    assert result.returncode == 1
    assert "database postgresql+psycopg://postgres:***@127.0.0.1:1/none unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_bus_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "serve", env={"SMARTSEOUL_DATA_DIR": str(tmp_path), "SMARTSEOUL_BUS_URL": "nats://127.0.0.1:1"}
    )
    assert result.returncode == 1
    assert "NATS at nats://127.0.0.1:1 unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_migrates_adds_users_and_verifies_the_ledger(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    added = run_cli(
        "user",
        "add",
        "--username",
        "kim.admin",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        stdin="a-long-password-9\n",
    )
    assert added.returncode == 0, added.stderr
    assert "two-step verification" in added.stdout
    weak = run_cli("user", "add", "--username", "weak.one", "--role", "citizen", env=env, stdin="short\n")
    assert weak.returncode == 2
    assert "at least 10 characters" in weak.stderr
    listed = __import__("json").loads(run_cli("user", "list", "--json", env=env).stdout)
    assert listed == [{"username": "kim.admin", "roles": ["admin"], "mfa": False, "active": True}]
    assert run_cli("audit", "verify", env=env).returncode == 0
    database = Database(f"sqlite:///{tmp_path / 'smartseoul.db'}")
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = 1"))
    database.dispose()
    broken = run_cli("audit", "verify", env=env)
    assert broken.returncode == 1
    assert "broken at row 1" in broken.stderr


def test_health_and_metrics(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["failures"] == []
    client.get("/api/v1/districts")
    metrics = client.get("/metrics").text
    assert 'smartseoul_http_requests_total{method="GET",route="/api/v1/districts",status="200"}' in metrics
    assert client.get("/openapi.json").json()["info"]["title"] == "Smart Seoul"


def test_readyz_names_the_database_when_it_goes_away(client: Any, platform: Platform) -> None:
    healthy = platform.db
    platform.db = Database("postgresql+psycopg://postgres@127.0.0.1:1/gone")
    try:
        response = client.get("/readyz")
    finally:
        platform.db.dispose()
        platform.db = healthy
    assert response.status_code == 503
    assert "127.0.0.1:1/gone unreachable" in response.json()["failures"][0]


def test_security_headers_on_every_page(client: Any) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_the_stream_needs_a_control_room_role(client: Any, platform: Platform) -> None:
    citizen = make_account(platform.db, "citizen.stream", ["citizen"])
    from conftest import token_for

    response = client.get(
        "/api/v1/stream/events", headers={"Authorization": f"Bearer {token_for(client, citizen)}"}
    )
    assert response.status_code == 403


def test_the_readme_documents_every_setting() -> None:
    from smartseoul.core.settings import Settings

    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`SMARTSEOUL_{name.upper()}`" not in readme]
    assert missing == []


def test_simulate_publishes_city_activity(tmp_path: Path) -> None:
    env = {"SMARTSEOUL_DATA_DIR": str(tmp_path)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert run_cli("seed", "demo", env=env).returncode == 0
    result = run_cli("simulate", "--duration", "1.5", "--rate", "20", "--seed", "1", env=env)
    assert result.returncode == 0, result.stderr
    published = int(result.stdout.split("published ")[1].split()[0])
    assert published > 5


def test_api_docs_are_served_without_a_cdn(client: Any) -> None:
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http" not in html.replace("http-equiv", "")
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
