"""Tables of the videowall domain: camera groups, tours, camera health, alarms, reference frames.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videowall_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videowall_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_videowall_groups_name")),
    )
    op.create_table(
        "videowall_group_cameras",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["videowall_groups.id"],
            name=op.f("fk_videowall_group_cameras_group_id_videowall_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "camera_id", name=op.f("pk_videowall_group_cameras")),
    )
    with op.batch_alter_table("videowall_group_cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_videowall_group_cameras_camera_id"), ["camera_id"], unique=False)

    op.create_table(
        "videowall_tours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("dwell_s", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videowall_tours")),
        sa.UniqueConstraint("name", name=op.f("uq_videowall_tours_name")),
    )
    op.create_table(
        "videowall_camera_health",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=16), nullable=False),
        sa.Column("since", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.Column("last_frame_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_videowall_camera_health")),
    )
    with op.batch_alter_table("videowall_camera_health", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_videowall_camera_health_problem"), ["problem"], unique=False)

    op.create_table(
        "videowall_health_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.Column("camera_name", sa.String(length=128), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("raised_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videowall_health_alarms")),
    )
    with op.batch_alter_table("videowall_health_alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_videowall_health_alarms_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_videowall_health_alarms_cleared_at"), ["cleared_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_videowall_health_alarms_raised_at"), ["raised_at"], unique=False)

    op.create_table(
        "videowall_reference_frames",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("taken_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_videowall_reference_frames")),
    )


def downgrade() -> None:
    op.drop_table("videowall_reference_frames")
    with op.batch_alter_table("videowall_health_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_videowall_health_alarms_raised_at"))
        batch_op.drop_index(batch_op.f("ix_videowall_health_alarms_cleared_at"))
        batch_op.drop_index(batch_op.f("ix_videowall_health_alarms_camera_id"))
    op.drop_table("videowall_health_alarms")
    with op.batch_alter_table("videowall_camera_health", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_videowall_camera_health_problem"))
    op.drop_table("videowall_camera_health")
    op.drop_table("videowall_tours")
    with op.batch_alter_table("videowall_group_cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_videowall_group_cameras_camera_id"))
    op.drop_table("videowall_group_cameras")
    op.drop_table("videowall_groups")
