"""Alembic environment: the URL and connection come from Smart Seoul, never from an ini file."""

from __future__ import annotations

from alembic import context

from smartseoul.core.db import Base, make_engine
from smartseoul.domains import import_models
from smartseoul.portal.content.search import include_name

import_models()
config = context.config
target_metadata = Base.metadata
# Engine-only tables (the portal's FTS5 table and its shadow tables, its tsvector table) are made
# by raw DDL and have no model: the same filter keeps them out of autogenerate and of the
# migrations-match-models test, deliberately and by name (``include_name`` below).


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, render_as_batch=True, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `smartseoul db upgrade`")
run_migrations()
