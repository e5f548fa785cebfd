"""DDL shared by migrations: tables the database itself keeps append-only."""

from __future__ import annotations

from alembic import op


def refuse(table: str, verbs: tuple[str, ...], reason: str) -> None:
    """Make the database refuse ``verbs`` (UPDATE, DELETE) on ``table``, on SQLite and PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{reason}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_refuse BEFORE {' OR '.join(verbs)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
        )
        return
    for verb in verbs:
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        )


def allow(table: str, verbs: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")
        return
    for verb in verbs:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb.lower()}")
