"""`smartseoul reservations ...` and `smartseoul payments reconcile` as district staff script them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import update
from typer.testing import CliRunner

from smartseoul.core.bootstrap import bootstrap
from smartseoul.core.db import make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.core.settings import Settings, get_settings
from smartseoul.services.payments import service as payments
from smartseoul.services.payments.models import Payment
from smartseoul.services.payments.provider import SEOUL, provider_for
from smartseoul.services.reservations.tests.helpers import citizen


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """The `smartseoul` command in this process (a subprocess costs seconds of imports), on tmp_path."""
    from smartseoul.cli import app

    monkeypatch.delenv("SMARTSEOUL_DATABASE_URL", raising=False)
    monkeypatch.setenv("SMARTSEOUL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("USER", "staff.park")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_facility_add_list_and_a_reconciliation_that_finds_a_mismatch(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    upgrade(make_engine(f"sqlite:///{tmp_path / 'smartseoul.db'}"))
    added = cli(
        "reservations", "facility", "add", "11230-900", "--name-ko", "역삼 풋살장",
        "--name-en", "Yeoksam futsal", "--kind", "sports", "--district", "11230", "--fee-krw", "20000",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    bad = cli(
        "reservations",
        "facility",
        "add",
        "X-1",
        "--name-ko",
        "x",
        "--name-en",
        "x",
        "--kind",
        "pool",
        "--district",
        "11230",
    )
    assert bad.exit_code == 2
    assert "kind" in bad.output
    listed = json.loads(cli("reservations", "facility", "list", "--json").output)
    assert [(f["code"], f["rules"]["fee_krw"]) for f in listed] == [("11230-900", 20_000)]

    platform = bootstrap(Settings(data_dir=tmp_path))
    with platform.db.session() as session:
        payment = payments.start_payment(
            session,
            platform.settings,
            user_id=citizen(session, "kim.cli"),
            amount_krw=20_000,
            purpose="풋살장",
            reference="reservation:1",
            idempotency_key="cli-1",
            return_url="/reservations/mine",
        )
        callback = provider_for(platform.settings).authorise(session, str(payment.provider_ref), approve=True)
        payments.handle_callback(session, platform.settings, *callback)
    today = datetime.now(SEOUL).date().isoformat()
    clean = cli("payments", "reconcile", "--date", today)
    assert clean.exit_code == 0, clean.output
    assert "matched 1" in clean.output
    with platform.db.session() as session:
        session.execute(update(Payment).values(captured_krw=19_000))
    platform.db.dispose()
    differs = cli("payments", "reconcile", "--date", today, "--json")
    assert differs.exit_code == 1
    assert json.loads(differs.output)["amount_mismatch"] == 1
    assert "double bookings: 0" in cli("reservations", "check").output
