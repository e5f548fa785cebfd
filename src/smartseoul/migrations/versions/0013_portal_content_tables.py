"""Portal content: sites, navigation, documents with revisions, attachments, old-URL redirects and
the search index (Korean bigrams and words, one row per term and document).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_ko", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_sites")),
        sa.UniqueConstraint("slug", name=op.f("uq_content_sites_slug")),
    )
    op.create_index(op.f("ix_content_sites_district_code"), "content_sites", ["district_code"], unique=False)
    op.create_index(op.f("ix_content_sites_kind"), "content_sites", ["kind"], unique=False)
    op.create_table(
        "content_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("published_revision_id", sa.Integer(), nullable=True),
        sa.Column("published_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["content_sites.id"],
            name=op.f("fk_content_documents_site_id_content_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_documents")),
        sa.UniqueConstraint("site_id", "path", name=op.f("uq_content_documents_site_id")),
    )
    op.create_index(op.f("ix_content_documents_kind"), "content_documents", ["kind"], unique=False)
    op.create_index("ix_content_documents_listing", "content_documents", ["published_at"], unique=False)
    op.create_index(op.f("ix_content_documents_site_id"), "content_documents", ["site_id"], unique=False)
    op.create_table(
        "content_nav_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_ko", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["content_sites.id"],
            name=op.f("fk_content_nav_items_site_id_content_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_nav_items")),
    )
    op.create_index(op.f("ix_content_nav_items_site_id"), "content_nav_items", ["site_id"], unique=False)
    op.create_table(
        "content_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["content_documents.id"],
            name=op.f("fk_content_attachments_document_id_content_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_content_attachments_stored_name")),
    )
    op.create_index(
        op.f("ix_content_attachments_document_id"), "content_attachments", ["document_id"], unique=False
    )
    op.create_table(
        "content_redirects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("old_path", sa.String(length=500), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["content_documents.id"],
            name=op.f("fk_content_redirects_document_id_content_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["content_sites.id"],
            name=op.f("fk_content_redirects_site_id_content_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_redirects")),
        sa.UniqueConstraint("site_id", "old_path", name=op.f("uq_content_redirects_site_id")),
    )
    op.create_index(
        op.f("ix_content_redirects_document_id"), "content_redirects", ["document_id"], unique=False
    )
    op.create_table(
        "content_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("event_start", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("event_end", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["content_documents.id"],
            name=op.f("fk_content_revisions_document_id_content_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_revisions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_content_revisions_document_id")),
    )
    op.create_index(
        op.f("ix_content_revisions_document_id"), "content_revisions", ["document_id"], unique=False
    )
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


def downgrade() -> None:
    op.drop_index(op.f("ix_content_search_terms_document_id"), table_name="content_search_terms")
    op.drop_table("content_search_terms")
    op.drop_index(op.f("ix_content_revisions_document_id"), table_name="content_revisions")
    op.drop_table("content_revisions")
    op.drop_index(op.f("ix_content_redirects_document_id"), table_name="content_redirects")
    op.drop_table("content_redirects")
    op.drop_index(op.f("ix_content_attachments_document_id"), table_name="content_attachments")
    op.drop_table("content_attachments")
    op.drop_index(op.f("ix_content_nav_items_site_id"), table_name="content_nav_items")
    op.drop_table("content_nav_items")
    op.drop_index(op.f("ix_content_documents_site_id"), table_name="content_documents")
    op.drop_index("ix_content_documents_listing", table_name="content_documents")
    op.drop_index(op.f("ix_content_documents_kind"), table_name="content_documents")
    op.drop_table("content_documents")
    op.drop_index(op.f("ix_content_sites_kind"), table_name="content_sites")
    op.drop_index(op.f("ix_content_sites_district_code"), table_name="content_sites")
    op.drop_table("content_sites")
