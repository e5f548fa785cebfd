"""Video monitoring tables: monitored cameras, zone rules, detections with operator verdicts.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_cameras",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("stream_url", sa.String(length=512), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("masks", sa.JSON(), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_monitoring_cameras")),
    )
    op.create_table(
        "monitoring_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("zone", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=True),
        sa.Column("end", sa.String(length=5), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_rules")),
    )
    with op.batch_alter_table("monitoring_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_rules_camera_id"), ["camera_id"], unique=False)

    op.create_table(
        "monitoring_detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("snapshot", sa.String(length=256), nullable=False),
        sa.Column("started_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("verdict_by", sa.String(length=128), nullable=False),
        sa.Column("verdict_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_detections")),
    )
    with op.batch_alter_table("monitoring_detections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_detections_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_detections_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("monitoring_detections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_detections_created_at"))
        batch_op.drop_index(batch_op.f("ix_monitoring_detections_camera_id"))
    op.drop_table("monitoring_detections")
    with op.batch_alter_table("monitoring_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_rules_camera_id"))
    op.drop_table("monitoring_rules")
    op.drop_table("monitoring_cameras")
