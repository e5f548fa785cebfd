"""Login challenges: one use, a few minutes, and the table does not grow without end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.core.db import utcnow
from smartseoul.services.identity import service
from smartseoul.services.identity.models import LoginChallenge


def test_an_expired_challenge_is_refused_and_stale_ones_are_cleared(db: Session, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    stale = service.new_challenge(db, settings)
    stale.expires_at = utcnow() - timedelta(hours=2)
    expired = service.new_challenge(db, settings)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    with pytest.raises(service.IdentityError) as refused:
        service._consume_challenge(db, expired.nonce)
    assert refused.value.code == "challenge_expired"
    fresh = service.new_challenge(db, settings)
    nonces = set(db.scalars(select(LoginChallenge.nonce)))
    assert stale.nonce not in nonces
    assert {expired.nonce, fresh.nonce} <= nonces
