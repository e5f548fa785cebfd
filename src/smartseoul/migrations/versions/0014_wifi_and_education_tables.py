"""Public WiFi and smart-device education tables.

WiFi: facilities, access points (health kept on the row), outages, RADIUS accounting records.
Education: courses, instructors, sessions (seat counter), learners, enrolments, attendance, the
message outbox and the yearly history the dashboard starts from.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "education_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title_ko", sa.String(length=128), nullable=False),
        sa.Column("title_en", sa.String(length=128), nullable=False),
        sa.Column("summary_ko", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Integer(), nullable=False),
        sa.Column("min_attended", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_education_courses_code")),
    )
    op.create_table(
        "education_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("target_group", sa.String(length=16), nullable=False),
        sa.Column("trained", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_history")),
        sa.UniqueConstraint("year", "district_code", "target_group", name="uq_education_history"),
    )
    op.create_table(
        "education_instructors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_instructors")),
    )
    op.create_table(
        "education_learners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("target_group", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("consent_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consent_by", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_learners")),
    )
    with op.batch_alter_table("education_learners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_education_learners_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_education_learners_phone"), ["phone"], unique=False)

    op.create_table(
        "wifi_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name_ko", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_facilities")),
    )
    with op.batch_alter_table("wifi_facilities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_facilities_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_wifi_facilities_kind"), ["kind"], unique=False)

    op.create_table(
        "education_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=True),
        sa.Column("venue_kind", sa.String(length=32), nullable=False),
        sa.Column("venue_ko", sa.String(length=128), nullable=False),
        sa.Column("venue_en", sa.String(length=128), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("starts_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["education_courses.id"],
            name=op.f("fk_education_sessions_course_id_education_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["education_instructors.id"],
            name=op.f("fk_education_sessions_instructor_id_education_instructors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_sessions")),
    )
    with op.batch_alter_table("education_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_education_sessions_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_education_sessions_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_education_sessions_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "wifi_access_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("ssids", sa.JSON(), nullable=False),
        sa.Column("backhaul", sa.String(length=16), nullable=False),
        sa.Column("vendor", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("last_report_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("rx_bytes", sa.BigInteger(), nullable=False),
        sa.Column("tx_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["wifi_facilities.id"],
            name=op.f("fk_wifi_access_points_facility_id_wifi_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_access_points")),
        sa.UniqueConstraint("code", name=op.f("uq_wifi_access_points_code")),
        sa.UniqueConstraint("mac", name=op.f("uq_wifi_access_points_mac")),
    )
    with op.batch_alter_table("wifi_access_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wifi_access_points_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_wifi_access_points_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wifi_access_points_health"), ["health"], unique=False)

    op.create_table(
        "education_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("certificate_no", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["education_learners.id"],
            name=op.f("fk_education_enrolments_learner_id_education_learners"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["education_sessions.id"],
            name=op.f("fk_education_enrolments_session_id_education_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_enrolments")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_education_enrolments_certificate_no")),
        sa.UniqueConstraint("session_id", "learner_id", name="uq_education_enrolment"),
    )
    with op.batch_alter_table("education_enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_education_enrolments_learner_id"), ["learner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_education_enrolments_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_education_enrolments_state"), ["state"], unique=False)

    op.create_table(
        "wifi_accounting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("status_type", sa.String(length=16), nullable=False),
        sa.Column("event_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("ap_mac", sa.String(length=17), nullable=False),
        sa.Column("ssid", sa.String(length=64), nullable=False),
        sa.Column("ap_id", sa.Integer(), nullable=True),
        sa.Column("session_time_s", sa.Integer(), nullable=False),
        sa.Column("input_octets", sa.BigInteger(), nullable=False),
        sa.Column("output_octets", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["ap_id"], ["wifi_access_points.id"], name=op.f("fk_wifi_accounting_ap_id_wifi_access_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_accounting")),
        sa.UniqueConstraint("session_id", "status_type", "event_at", name="uq_wifi_accounting"),
    )
    with op.batch_alter_table("wifi_accounting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_accounting_ap_id"), ["ap_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wifi_accounting_ap_mac"), ["ap_mac"], unique=False)
        batch_op.create_index(batch_op.f("ix_wifi_accounting_event_at"), ["event_at"], unique=False)

    op.create_table(
        "wifi_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ap_id", sa.Integer(), nullable=False),
        sa.Column("started_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["ap_id"], ["wifi_access_points.id"], name=op.f("fk_wifi_outages_ap_id_wifi_access_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_outages")),
    )
    with op.batch_alter_table("wifi_outages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_outages_ap_id"), ["ap_id"], unique=False)

    op.create_table(
        "education_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("lesson", sa.Integer(), nullable=False),
        sa.Column("marked_by", sa.String(length=128), nullable=False),
        sa.Column("marked_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["education_enrolments.id"],
            name=op.f("fk_education_attendance_enrolment_id_education_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_attendance")),
        sa.UniqueConstraint("enrolment_id", "lesson", name="uq_education_attendance"),
    )
    with op.batch_alter_table("education_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_education_attendance_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "education_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("sent_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["education_enrolments.id"],
            name=op.f("fk_education_outbox_enrolment_id_education_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_outbox")),
        sa.UniqueConstraint("enrolment_id", "kind", name="uq_education_outbox"),
    )
    with op.batch_alter_table("education_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_education_outbox_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_education_outbox_sent"), ["sent"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("education_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_outbox_sent"))
        batch_op.drop_index(batch_op.f("ix_education_outbox_enrolment_id"))

    op.drop_table("education_outbox")
    with op.batch_alter_table("education_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_attendance_enrolment_id"))

    op.drop_table("education_attendance")
    with op.batch_alter_table("wifi_outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_outages_ap_id"))

    op.drop_table("wifi_outages")
    with op.batch_alter_table("wifi_accounting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_accounting_event_at"))
        batch_op.drop_index(batch_op.f("ix_wifi_accounting_ap_mac"))
        batch_op.drop_index(batch_op.f("ix_wifi_accounting_ap_id"))

    op.drop_table("wifi_accounting")
    with op.batch_alter_table("education_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_enrolments_state"))
        batch_op.drop_index(batch_op.f("ix_education_enrolments_session_id"))
        batch_op.drop_index(batch_op.f("ix_education_enrolments_learner_id"))

    op.drop_table("education_enrolments")
    with op.batch_alter_table("wifi_access_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_access_points_health"))
        batch_op.drop_index(batch_op.f("ix_wifi_access_points_facility_id"))
        batch_op.drop_index(batch_op.f("ix_wifi_access_points_district_code"))

    op.drop_table("wifi_access_points")
    with op.batch_alter_table("education_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_sessions_starts_at"))
        batch_op.drop_index(batch_op.f("ix_education_sessions_district_code"))
        batch_op.drop_index(batch_op.f("ix_education_sessions_course_id"))

    op.drop_table("education_sessions")
    with op.batch_alter_table("wifi_facilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_facilities_kind"))
        batch_op.drop_index(batch_op.f("ix_wifi_facilities_district_code"))

    op.drop_table("wifi_facilities")
    with op.batch_alter_table("education_learners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_learners_phone"))
        batch_op.drop_index(batch_op.f("ix_education_learners_district_code"))

    op.drop_table("education_learners")
    op.drop_table("education_instructors")
    op.drop_table("education_history")
    op.drop_table("education_courses")
