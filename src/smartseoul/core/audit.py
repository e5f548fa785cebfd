"""The audit ledger: who read or changed what, when and why, in a hash chain.

Each row stores the hash of the row before it, so altering or removing any row breaks the chain
at that point and ``smartseoul audit verify`` names it. The database refuses UPDATE and DELETE on
the table (triggers made by the migration); the chain catches whoever bypasses that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry

GENESIS = "0" * 64


def _canonical(entry_id: int, at: datetime, fields: dict[str, Any], prev_hash: str) -> bytes:
    body = {"id": entry_id, "at": at.isoformat(timespec="microseconds"), "prev": prev_hash, **fields}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "client": entry.client,
        "details": entry.details or {},
    }


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry.id, entry.at, _fields(entry), entry.prev_hash)).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialise appends so two writers never chain onto the same previous row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727210)"))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    reason: str = "",
    outcome: str = "ok",
    client: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row to the ledger inside the caller's transaction."""
    _lock_chain(session)
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor=actor[:128],
        action=action[:64],
        target=target[:256],
        reason=reason,
        outcome=outcome[:16],
        client=client[:64],
        details=details or {},
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class Verification:
    checked: int
    broken_at: int | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _iter_entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the chain and report the first row whose link or content does not hold."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    for entry in _iter_entries(session):
        if entry.id != expected_id:
            return Verification(
                checked, expected_id, f"row {expected_id} is missing (next row is {entry.id})"
            )
        if entry.prev_hash != expected_prev:
            return Verification(checked, entry.id, f"row {entry.id} does not link to row {entry.id - 1}")
        if compute_hash(entry) != entry.hash:
            return Verification(checked, entry.id, f"row {entry.id} was altered (hash mismatch)")
        expected_prev = entry.hash
        expected_id += 1
        checked += 1
    return Verification(checked, None, "")


def entries(
    session: Session,
    *,
    limit: int = 100,
    before_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """Newest first, for the auditors' page and API."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return list(session.scalars(query))
