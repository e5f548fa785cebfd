"""Danger-sound detection tables.

Microphones (own, or on a bell or a camera) with per-class thresholds and health; detections with
their scores over time and the name of the stored clip.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sound_devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("bell_id", sa.String(length=64), nullable=True),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("stream_url", sa.String(length=512), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("last_audio_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sound_devices")),
    )
    with op.batch_alter_table("sound_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sound_devices_bell_id"), ["bell_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sound_devices_camera_id"), ["camera_id"], unique=False)

    op.create_table(
        "sound_detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("detected_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("level_dbfs", sa.Float(), nullable=False),
        sa.Column("clip_name", sa.String(length=128), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sound_devices.id"],
            name=op.f("fk_sound_detections_device_id_sound_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sound_detections")),
    )
    with op.batch_alter_table("sound_detections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sound_detections_device_detected", ["device_id", "detected_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sound_detections_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sound_detections_label"), ["label"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sound_detections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sound_detections_label"))
        batch_op.drop_index(batch_op.f("ix_sound_detections_detected_at"))
        batch_op.drop_index("ix_sound_detections_device_detected")

    op.drop_table("sound_detections")
    with op.batch_alter_table("sound_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sound_devices_camera_id"))
        batch_op.drop_index(batch_op.f("ix_sound_devices_bell_id"))

    op.drop_table("sound_devices")
