"""The migrations build exactly the tables the code declares, on both engines.

A model changed without its migration (or a migration that drifted from its model) would only
show on a production upgrade; here it fails the suite, naming the difference.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from smartseoul.core.db import Base
from smartseoul.domains import import_models
from smartseoul.portal.content.search import include_name


def test_the_migrations_match_the_models(engine: Engine) -> None:
    """``engine`` is a database migrated to head (on each engine)."""
    import_models()
    with engine.connect() as connection:
        # the same filter as migrations/env.py: engine-only search tables (FTS5, tsvector) have no model
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ:\n" + "\n".join(map(str, differences))
