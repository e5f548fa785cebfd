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


def test_the_migrations_match_the_models(engine: Engine) -> None:
    """``engine`` is a database migrated to head (on each engine)."""
    import_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ:\n" + "\n".join(map(str, differences))
