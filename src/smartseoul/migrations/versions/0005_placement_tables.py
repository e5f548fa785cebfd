"""Tables of the placement domain: stored plans, their proposed cameras, incident points.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "placement_incident_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_incident_points")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_placement_incident_points_incident_id")),
    )
    with op.batch_alter_table("placement_incident_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_placement_incident_points_opened_at"), ["opened_at"], unique=False
        )

    op.create_table(
        "placement_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("solver_status", sa.String(length=16), nullable=True),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("solve_seconds", sa.Float(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("years", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_plans")),
    )
    with op.batch_alter_table("placement_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placement_plans_status"), ["status"], unique=False)

    op.create_table(
        "placement_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("gain", sa.Float(), nullable=False),
        sa.Column("gain_share", sa.Float(), nullable=False),
        sa.Column("shares_site", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["placement_plans.id"],
            name=op.f("fk_placement_sites_plan_id_placement_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_sites")),
    )
    with op.batch_alter_table("placement_sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placement_sites_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placement_sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_sites_plan_id"))
    op.drop_table("placement_sites")
    with op.batch_alter_table("placement_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_plans_status"))
    op.drop_table("placement_plans")
    with op.batch_alter_table("placement_incident_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_incident_points_opened_at"))
    op.drop_table("placement_incident_points")
