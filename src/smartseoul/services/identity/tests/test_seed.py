"""The demo: the published citizen account exists (once) and can log in; the CA is there."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.core import auth
from smartseoul.services.identity import seed


def test_the_demo_citizen_and_the_ca_are_seeded_once(db: Session, tmp_path: Path) -> None:
    platform = SimpleNamespace(settings=make_settings(tmp_path))
    seed.seed_demo(platform, db)  # type: ignore[arg-type]
    seed.seed_demo(platform, db)  # type: ignore[arg-type]
    user = auth.get_user(db, seed.DEMO_USERNAME)
    assert user is not None
    assert user.role_names == ["citizen"]
    assert auth.check_password(user.password_hash, seed.DEMO_PASSWORD)
    assert (tmp_path / "pki" / "root.pem").exists()
