"""Service catalogue, citizen identity and issued certificate tables.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _catalog() -> None:
    op.create_table(
        "catalog_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_ko", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("assurance", sa.String(length=16), nullable=False),
        sa.Column("fee_krw", sa.Integer(), nullable=False),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("mobile_since", sa.Integer(), nullable=True),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_services")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_services_code")),
    )
    with op.batch_alter_table("catalog_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_services_department"), ["department"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_catalog_services_district_code"), ["district_code"], unique=False
        )


def _identity() -> None:
    op.create_table(
        "identity_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("not_before", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=False),
        sa.Column("last_login_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identity_certificates_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_identity_certificates_fingerprint")),
        sa.UniqueConstraint("serial", name=op.f("uq_identity_certificates_serial")),
    )
    with op.batch_alter_table("identity_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_certificates_user_id"), ["user_id"], unique=False)
    op.create_table(
        "identity_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_challenges")),
        sa.UniqueConstraint("nonce", name=op.f("uq_identity_challenges_nonce")),
    )


def _certificates() -> None:
    op.create_table(
        "certificates_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("fee_krw", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("issued_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=False),
        sa.Column("revoke_reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_certificates_documents_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_documents_number")),
        sa.UniqueConstraint("sha256", name=op.f("uq_certificates_documents_sha256")),
    )
    with op.batch_alter_table("certificates_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_documents_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_documents_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_documents_user_id"), ["user_id"], unique=False)


def upgrade() -> None:
    _catalog()
    _identity()
    _certificates()


def downgrade() -> None:
    for table, indexes in (
        ("certificates_documents", ("kind", "state", "user_id")),
        ("identity_challenges", ()),
        ("identity_certificates", ("user_id",)),
        ("catalog_services", ("department", "district_code")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
