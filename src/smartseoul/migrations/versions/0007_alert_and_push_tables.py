"""Public alerts (one row per alert, one per CAP message sent) and Web Push subscriptions.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cap_status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("certainty", sa.String(length=16), nullable=False),
        sa.Column("response_type", sa.String(length=16), nullable=True),
        sa.Column("headline_ko", sa.String(length=160), nullable=False),
        sa.Column("headline_en", sa.String(length=160), nullable=False),
        sa.Column("description_ko", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("instruction_ko", sa.Text(), nullable=False),
        sa.Column("instruction_en", sa.Text(), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("district_codes", sa.JSON(), nullable=False),
        sa.Column("city_wide", sa.Boolean(), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_alerts")),
        sa.UniqueConstraint("identifier", name=op.f("uq_alerts_alerts_identifier")),
    )
    with op.batch_alter_table("alerts_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_alerts_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_alerts_state"), ["state"], unique=False)

    op.create_table(
        "alerts_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("sent_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts_alerts.id"],
            name=op.f("fk_alerts_messages_alert_id_alerts_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_messages")),
        sa.UniqueConstraint("identifier", name=op.f("uq_alerts_messages_identifier")),
    )
    with op.batch_alter_table("alerts_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_messages_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1024), nullable=False),
        sa.Column("p256dh", sa.String(length=128), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("district_codes", sa.JSON(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_push_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_subscriptions_scope"), ["scope"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_subscriptions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_user_id"))
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_scope"))
    op.drop_table("push_subscriptions")
    with op.batch_alter_table("alerts_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_messages_alert_id"))
    op.drop_table("alerts_messages")
    with op.batch_alter_table("alerts_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_alerts_alerts_expires_at"))
    op.drop_table("alerts_alerts")
