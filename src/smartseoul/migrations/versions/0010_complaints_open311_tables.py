"""Complaints (Open311 GeoReport v2): departments, services, requests, the delivery outbox and its
attempts, the demo departments' inbox, status updates with their push state, Open311 client keys.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_complaints_api_keys_prefix")),
    )
    op.create_table(
        "complaints_departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("name_ko", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_complaints_departments_code")),
    )
    with op.batch_alter_table("complaints_departments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_departments_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_departments_kind"), ["kind"], unique=False)

    op.create_table(
        "complaints_services",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_ko", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("description_ko", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("group", sa.String(length=64), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("department_kinds", sa.JSON(), nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_complaints_services")),
    )
    op.create_table(
        "complaints_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("work_state", sa.String(length=16), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("address_id", sa.String(length=64), nullable=False),
        sa.Column("zipcode", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("media_url", sa.String(length=1000), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("client_key_id", sa.Integer(), nullable=True),
        sa.Column("delivery_state", sa.String(length=8), nullable=False),
        sa.Column("requested_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_key_id"],
            ["complaints_api_keys.id"],
            name=op.f("fk_complaints_requests_client_key_id_complaints_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["complaints_departments.id"],
            name=op.f("fk_complaints_requests_department_id_complaints_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["complaints_services.code"],
            name=op.f("fk_complaints_requests_service_code_complaints_services"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_complaints_requests_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_requests")),
        sa.UniqueConstraint("token", name=op.f("uq_complaints_requests_token")),
    )
    with op.batch_alter_table("complaints_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_requests_delivery_state"), ["delivery_state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_requests_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_requests_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_requests_expected_at"), ["expected_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_complaints_requests_requested_at"), ["requested_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_requests_service_code"), ["service_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "complaints_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["complaints_departments.id"],
            name=op.f("fk_complaints_deliveries_department_id_complaints_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["complaints_requests.id"],
            name=op.f("fk_complaints_deliveries_request_id_complaints_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_deliveries")),
    )
    with op.batch_alter_table("complaints_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_deliveries_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaints_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_deliveries_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_deliveries_status"), ["status"], unique=False)

    op.create_table(
        "complaints_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("work_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("push_state", sa.String(length=16), nullable=False),
        sa.Column("push_attempts", sa.Integer(), nullable=False),
        sa.Column("push_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["complaints_requests.id"],
            name=op.f("fk_complaints_updates_request_id_complaints_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_updates")),
    )
    with op.batch_alter_table("complaints_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_updates_push_state"), ["push_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_updates_request_id"), ["request_id"], unique=False)

    op.create_table(
        "complaints_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["complaints_deliveries.id"],
            name=op.f("fk_complaints_delivery_attempts_delivery_id_complaints_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_delivery_attempts")),
    )
    with op.batch_alter_table("complaints_delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_delivery_attempts_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "complaints_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("received_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["complaints_deliveries.id"],
            name=op.f("fk_complaints_inbox_delivery_id_complaints_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["complaints_departments.id"],
            name=op.f("fk_complaints_inbox_department_id_complaints_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints_inbox")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_complaints_inbox_delivery_id")),
    )
    with op.batch_alter_table("complaints_inbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_inbox_department_id"), ["department_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_inbox_department_id"))

    op.drop_table("complaints_inbox")
    with op.batch_alter_table("complaints_delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_delivery_attempts_delivery_id"))

    op.drop_table("complaints_delivery_attempts")
    with op.batch_alter_table("complaints_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_updates_request_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_updates_push_state"))

    op.drop_table("complaints_updates")
    with op.batch_alter_table("complaints_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_complaints_deliveries_request_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_deliveries_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_deliveries_department_id"))

    op.drop_table("complaints_deliveries")
    with op.batch_alter_table("complaints_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_status"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_service_code"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_requested_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_expected_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_district_code"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_department_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_requests_delivery_state"))

    op.drop_table("complaints_requests")
    op.drop_table("complaints_services")
    with op.batch_alter_table("complaints_departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_departments_kind"))
        batch_op.drop_index(batch_op.f("ix_complaints_departments_district_code"))

    op.drop_table("complaints_departments")
    op.drop_table("complaints_api_keys")
