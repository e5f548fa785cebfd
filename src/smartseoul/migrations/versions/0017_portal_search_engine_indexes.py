"""Portal search on the engines' own full-text indexes: an FTS5 table on SQLite, a tsvector with a
GIN index on PostgreSQL, filled from the published revisions; the bigram table goes.

The new tables are raw DDL, not models (a virtual table and its shadow tables; a column type only
one engine has): ``search.include_name`` keeps them out of Alembic's model comparison. The
backfill uses the application's tokenizer (``search.entry``/``search.store``), so the index holds
exactly what publishing would have written.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from smartseoul.portal.content import search

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BATCH = 2000


def _published(connection: sa.Connection) -> Iterator[Sequence[sa.Row[Any]]]:
    """The published revisions (document id, title, summary, body, location), in batches."""
    rows = connection.execute(
        sa.text(
            "SELECT d.id, r.title, r.summary, r.body_html, r.location FROM content_documents d "
            "JOIN content_revisions r ON r.id = d.published_revision_id ORDER BY d.id"
        )
    ).all()
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _create_index(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "CREATE TABLE content_search_vectors ("
            "document_id INTEGER PRIMARY KEY REFERENCES content_documents (id) ON DELETE CASCADE, "
            "terms TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_content_search_vectors_terms ON content_search_vectors USING gin (terms)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE content_search_fts USING fts5(title, body, "
        "tokenize = \"ascii tokenchars '_'\", detail = none, prefix = '1')"
    )
    # FTS5 has no foreign keys: forget a document when it is deleted (cascades included).
    op.execute(
        "CREATE TRIGGER content_search_fts_forget AFTER DELETE ON content_documents "
        "BEGIN DELETE FROM content_search_fts WHERE rowid = old.id; END"
    )


def _drop_index(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TABLE content_search_vectors")
        return
    op.execute("DROP TRIGGER IF EXISTS content_search_fts_forget")
    op.execute("DROP TABLE content_search_fts")


def _terms_table() -> sa.Table:
    return sa.Table(
        "content_search_terms",
        sa.MetaData(),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
    )


def upgrade() -> None:
    connection = op.get_bind()
    _create_index(connection.dialect.name)
    for batch in _published(connection):
        search.store(
            connection,
            [search.entry(row.id, row.title, row.summary, row.body_html, row.location) for row in batch],
        )
    op.drop_index(op.f("ix_content_search_terms_document_id"), table_name="content_search_terms")
    op.drop_table("content_search_terms")


def downgrade() -> None:
    """Back to the bigram table of 0013, refilled with the same terms."""
    op.create_table(
        "content_search_terms",
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["content_documents.id"],
            name=op.f("fk_content_search_terms_document_id_content_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "document_id", name=op.f("pk_content_search_terms")),
    )
    op.create_index(
        op.f("ix_content_search_terms_document_id"), "content_search_terms", ["document_id"], unique=False
    )
    connection = op.get_bind()
    terms = _terms_table()
    for batch in _published(connection):
        rows = [
            {"term": term, "document_id": row.id}
            for row in batch
            for term in sorted(search.terms(" ".join((row.title, row.summary, row.body_html, row.location))))
        ]
        if rows:
            connection.execute(sa.insert(terms), rows)
    _drop_index(connection.dialect.name)
