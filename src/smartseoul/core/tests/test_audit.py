"""The audit ledger: append-only, hash-chained, and a broken link is found and named."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smartseoul.core import audit


def _fill(db: Session, count: int = 5) -> list[int]:
    return [
        audit.record(db, actor="tester", action="location.read", target=f"person:{i}", reason="case 7").id
        for i in range(count)
    ]


def test_rows_chain_onto_each_other(db: Session) -> None:
    ids = _fill(db)
    rows = sorted(audit.entries(db, limit=10), key=lambda r: r.id)
    assert [r.id for r in rows][-5:] == ids
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert audit.verify(db).ok


def test_the_database_refuses_to_alter_or_delete_rows(db: Session) -> None:
    row_id = _fill(db, 1)[0]
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": row_id})
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": row_id})


def _drop_guards(db: Session) -> None:
    """What an attacker with database rights would do first."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("DROP TRIGGER audit_log_refuse ON audit_log"))
    else:
        db.execute(text("DROP TRIGGER audit_log_no_update"))
        db.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_an_altered_row_is_named(db: Session) -> None:
    ids = _fill(db)
    _drop_guards(db)
    db.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE id = :id"), {"id": ids[2]})
    db.expire_all()
    result = audit.verify(db)
    assert not result.ok
    assert result.broken_at == ids[2]
    assert "altered" in result.problem


def test_a_removed_row_is_named(db: Session) -> None:
    ids = _fill(db)
    _drop_guards(db)
    db.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[3]})
    db.expire_all()
    result = audit.verify(db)
    assert result.broken_at == ids[3]
    assert "missing" in result.problem


def test_a_rewritten_tail_is_caught_by_its_link(db: Session) -> None:
    ids = _fill(db)
    _drop_guards(db)
    # Recomputing the hash of an altered row is not enough: the next row still points at the old one.
    db.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": ids[1]})
    db.expire_all()
    row = next(r for r in audit.entries(db, limit=10) if r.id == ids[1])
    new_hash = audit.compute_hash(row)
    db.execute(text("UPDATE audit_log SET hash = :h WHERE id = :id"), {"h": new_hash, "id": ids[1]})
    db.expire_all()
    result = audit.verify(db)
    assert result.broken_at == ids[2]
    assert "does not link" in result.problem
