"""Incidents and their timeline, raw alarms, emergency bells, intercom sessions, agencies and the
hand-over outbox with its delivery attempts.

Written from the models (autogenerate output, reviewed); deadlines are columns so that timers
survive a restart.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_ko", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("district_codes", sa.JSON(), nullable=False),
        sa.Column("area", sa.JSON(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("webhook_url", sa.String(length=512), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_incidents_agencies_code")),
    )
    with op.batch_alter_table("incidents_agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_agencies_kind"), ["kind"], unique=False)

    op.create_table(
        "incidents_bells",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("has_speaker", sa.Boolean(), nullable=False),
        sa.Column("has_intercom", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fault_reason", sa.String(length=256), nullable=False),
        sa.Column("http_key_hash", sa.String(length=64), nullable=True),
        sa.Column("last_heartbeat_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_pressed_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_bells")),
    )
    with op.batch_alter_table("incidents_bells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_bells_district_code"), ["district_code"], unique=False)

    op.create_table(
        "incidents_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title_ko", sa.String(length=256), nullable=False),
        sa.Column("title_en", sa.String(length=256), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("district_code", sa.String(length=5), nullable=True),
        sa.Column("school_zone", sa.Boolean(), nullable=False),
        sa.Column("night", sa.Boolean(), nullable=False),
        sa.Column("alarm_count", sa.Integer(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("bell_id", sa.String(length=64), nullable=True),
        sa.Column("opened_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_alarm_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("dispatched_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_by", sa.String(length=128), nullable=True),
        sa.Column("on_scene_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_scene_by", sa.String(length=128), nullable=True),
        sa.Column("resolved_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("closed_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("ack_deadline", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_incidents")),
    )
    with op.batch_alter_table("incidents_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incidents_incidents_ack_deadline"), ["ack_deadline"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incidents_incidents_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(
            "ix_incidents_incidents_status_last_alarm_at", ["status", "last_alarm_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incidents_incidents_subject"), ["subject"], unique=False)

    op.create_table(
        "incidents_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=96), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents_incidents.id"],
            name=op.f("fk_incidents_alarms_incident_id_incidents_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_alarms")),
    )
    with op.batch_alter_table("incidents_alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_alarms_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_alarms_ref"), ["ref"], unique=False)

    op.create_table(
        "incidents_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ack_deadline", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("realerts", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["incidents_agencies.id"],
            name=op.f("fk_incidents_handovers_agency_id_incidents_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents_incidents.id"],
            name=op.f("fk_incidents_handovers_incident_id_incidents_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_handovers")),
    )
    with op.batch_alter_table("incidents_handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_handovers_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_handovers_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            "ix_incidents_handovers_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "incidents_intercom_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bell_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ringing_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("connected_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["bell_id"],
            ["incidents_bells.id"],
            name=op.f("fk_incidents_intercom_sessions_bell_id_incidents_bells"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents_incidents.id"],
            name=op.f("fk_incidents_intercom_sessions_incident_id_incidents_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_intercom_sessions")),
    )
    with op.batch_alter_table("incidents_intercom_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_intercom_sessions_bell_id"), ["bell_id"], unique=False)

    op.create_table(
        "incidents_timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents_incidents.id"],
            name=op.f("fk_incidents_timeline_incident_id_incidents_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_timeline")),
    )
    with op.batch_alter_table("incidents_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_timeline_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "incidents_delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["incidents_handovers.id"],
            name=op.f("fk_incidents_delivery_attempts_handover_id_incidents_handovers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents_delivery_attempts")),
    )
    with op.batch_alter_table("incidents_delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incidents_delivery_attempts_handover_id"), ["handover_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents_delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_delivery_attempts_handover_id"))

    op.drop_table("incidents_delivery_attempts")
    with op.batch_alter_table("incidents_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_timeline_incident_id"))

    op.drop_table("incidents_timeline")
    with op.batch_alter_table("incidents_intercom_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_intercom_sessions_bell_id"))

    op.drop_table("incidents_intercom_sessions")
    with op.batch_alter_table("incidents_handovers", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_handovers_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_incidents_handovers_incident_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_handovers_agency_id"))

    op.drop_table("incidents_handovers")
    with op.batch_alter_table("incidents_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_alarms_ref"))
        batch_op.drop_index(batch_op.f("ix_incidents_alarms_incident_id"))

    op.drop_table("incidents_alarms")
    with op.batch_alter_table("incidents_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_incidents_subject"))
        batch_op.drop_index("ix_incidents_incidents_status_last_alarm_at")
        batch_op.drop_index(batch_op.f("ix_incidents_incidents_district_code"))
        batch_op.drop_index(batch_op.f("ix_incidents_incidents_ack_deadline"))

    op.drop_table("incidents_incidents")
    with op.batch_alter_table("incidents_bells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_bells_district_code"))

    op.drop_table("incidents_bells")
    with op.batch_alter_table("incidents_agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_agencies_kind"))

    op.drop_table("incidents_agencies")
