"""Migration 0017 on both engines: it fills the engine's full-text index from the documents already
published (an upgraded city keeps its search), and its downgrade brings the bigram table back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.orm import Session

from conftest import PG_ADMIN_URL, _pg_database
from smartseoul.core.db import make_engine, utcnow
from smartseoul.core.migrate import alembic_config, upgrade
from smartseoul.portal.content import search
from smartseoul.portal.content.models import ContentDocument, ContentRevision, ContentSite


@pytest.fixture
def fresh(engine_kind: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each engine (not the shared, migrated one)."""
    name = f"smartseoul_test_search_migration_{os.getpid()}"
    url = f"sqlite:///{tmp_path / 'fresh.db'}" if engine_kind == "sqlite" else _pg_database(name)
    created = make_engine(url)
    try:
        yield created
    finally:
        created.dispose()
        if engine_kind == "postgresql":
            admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        config = alembic_config(connection=connection)
        (command.downgrade if down else command.upgrade)(config, revision)


def _publish_at_0016(engine: Engine) -> None:
    """A published document written as the code before 0017 knew the tables (no index rows)."""
    now = utcnow()
    site = {"id": 1, "slug": "jongno-gu", "kind": "district", "name_ko": "종로구청", "name_en": "Jongno-gu"}
    document = {"id": 7, "site_id": 1, "path": "news/1", "kind": "news", "state": "published"}
    revision = {"id": 3, "document_id": 7, "number": 1, "author": "seed", "title": "종로구립도서관 야간 개관"}
    with engine.begin() as connection:
        connection.execute(insert(ContentSite).values(**site, description="", created_at=now))
        connection.execute(
            insert(ContentDocument).values(**document, created_at=now, updated_at=now, published_at=now)
        )
        connection.execute(
            insert(ContentRevision).values(
                **revision, summary="", body_html="<p>Night opening</p>", location="", note="", created_at=now
            )
        )
        connection.execute(text("UPDATE content_documents SET published_revision_id = 3 WHERE id = 7"))


def _ids(engine: Engine, query: str) -> list[int]:
    with Session(engine) as session:
        return [d.id for d in search.search(session, query)[1]]


def test_0017_backfills_the_engine_index_and_downgrades_to_the_bigram_table(fresh: Engine) -> None:
    _migrate(fresh, "0016")
    _publish_at_0016(fresh)
    upgrade(fresh)
    tables = set(inspect(fresh).get_table_names())
    assert "content_search_terms" not in tables
    assert {search.FTS_TABLE, search.PG_TABLE} & tables
    assert _ids(fresh, "도서관") == [7]
    assert _ids(fresh, "night") == [7]
    _migrate(fresh, "0016", down=True)
    tables = set(inspect(fresh).get_table_names())
    assert not {search.FTS_TABLE, search.PG_TABLE} & tables
    with fresh.connect() as connection:
        terms = set(connection.scalars(text("SELECT term FROM content_search_terms WHERE document_id = 7")))
    assert {"도서", "서관", "night"} <= terms
    upgrade(fresh)  # and up again, from the restored table
    assert _ids(fresh, "야간") == [7]
    table = search.PG_TABLE if fresh.dialect.name == "postgresql" else search.FTS_TABLE
    with fresh.begin() as connection:
        connection.execute(text("DELETE FROM content_sites WHERE id = 1"))  # documents cascade
        left = connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 (a constant)
    assert left == 0  # the index forgets deleted documents (a foreign key, or a trigger on SQLite)
