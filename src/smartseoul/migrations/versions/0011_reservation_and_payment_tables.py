"""Reservation and payment tables: facilities, slots, bookings, quotas, waitlist; payments, refunds,
callback nonces and the simulated provider's ledger.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartseoul.core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments_callback_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=False),
        sa.Column("received_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_payments_callback_nonces")),
    )
    op.create_table(
        "payments_sim_transactions",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("merchant_ref", sa.String(length=64), nullable=False),
        sa.Column("amount_krw", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("return_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("captured_krw", sa.Integer(), nullable=False),
        sa.Column("refunded_krw", sa.Integer(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("authorised_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_krw > 0", name=op.f("ck_payments_sim_transactions_amount_positive")),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_payments_sim_transactions")),
        sa.UniqueConstraint("merchant_ref", name=op.f("uq_payments_sim_transactions_merchant_ref")),
    )
    op.create_table(
        "reservations_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_ko", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("who_may_book", sa.String(length=16), nullable=False),
        sa.Column("book_ahead_days", sa.Integer(), nullable=False),
        sa.Column("weekly_limit", sa.Integer(), nullable=False),
        sa.Column("cancel_deadline_hours", sa.Integer(), nullable=False),
        sa.Column("fee_krw", sa.Integer(), nullable=False),
        sa.Column("no_show_limit", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "book_ahead_days >= 1", name=op.f("ck_reservations_facilities_book_ahead_positive")
        ),
        sa.CheckConstraint("fee_krw >= 0", name=op.f("ck_reservations_facilities_fee_not_negative")),
        sa.CheckConstraint(
            "weekly_limit >= 1", name=op.f("ck_reservations_facilities_weekly_limit_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations_facilities")),
        sa.UniqueConstraint("code", name=op.f("uq_reservations_facilities_code")),
    )
    with op.batch_alter_table("reservations_facilities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_facilities_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reservations_facilities_kind"), ["kind"], unique=False)

    op.create_table(
        "payments_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount_krw", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("capture_ref", sa.String(length=64), nullable=True),
        sa.Column("redirect_url", sa.String(length=500), nullable=False),
        sa.Column("return_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("captured_krw", sa.Integer(), nullable=False),
        sa.Column("refunded_krw", sa.Integer(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("captured_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_krw > 0", name=op.f("ck_payments_payments_amount_positive")),
        sa.CheckConstraint(
            "captured_krw >= 0 AND captured_krw <= amount_krw",
            name=op.f("ck_payments_payments_capture_bounded"),
        ),
        sa.CheckConstraint(
            "refunded_krw >= 0 AND refunded_krw <= captured_krw",
            name=op.f("ck_payments_payments_refund_bounded"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payments_payments_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_payments")),
        sa.UniqueConstraint("capture_ref", name=op.f("uq_payments_payments_capture_ref")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_payments_payments_provider_ref")),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_payments_payments_user_key"),
    )
    with op.batch_alter_table("payments_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_payments_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_payments_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_payments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "payments_sim_operations",
        sa.Column("op_ref", sa.String(length=64), nullable=False),
        sa.Column("transaction_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_krw", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_ref"],
            ["payments_sim_transactions.ref"],
            name=op.f("fk_payments_sim_operations_transaction_ref_payments_sim_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("op_ref", name=op.f("pk_payments_sim_operations")),
        sa.UniqueConstraint("idempotency_key", name="uq_payments_sim_operations_key"),
    )
    with op.batch_alter_table("payments_sim_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_sim_operations_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_sim_operations_transaction_ref"), ["transaction_ref"], unique=False
        )

    op.create_table(
        "reservations_quotas",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_reservations_quotas_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["reservations_facilities.id"],
            name=op.f("fk_reservations_quotas_facility_id_reservations_facilities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reservations_quotas_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "facility_id", "week_start", name=op.f("pk_reservations_quotas")),
    )
    op.create_table(
        "reservations_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_reservations_slots_booked_within_capacity")
        ),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_reservations_slots_capacity_positive")),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["reservations_facilities.id"],
            name=op.f("fk_reservations_slots_facility_id_reservations_facilities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations_slots")),
        sa.UniqueConstraint("facility_id", "starts_at", name="uq_reservations_slots_facility_start"),
    )
    with op.batch_alter_table("reservations_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservations_slots_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_slots_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "payments_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_krw", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("provider_refund_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_krw > 0", name=op.f("ck_payments_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments_payments.id"],
            name=op.f("fk_payments_refunds_payment_id_payments_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_refunds")),
        sa.UniqueConstraint("payment_id", "idempotency_key", name="uq_payments_refunds_payment_key"),
        sa.UniqueConstraint("provider_refund_ref", name=op.f("uq_payments_refunds_provider_refund_ref")),
    )
    with op.batch_alter_table("payments_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_refunds_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "reservations_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active_slot_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("fee_krw", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("hold_expires_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("from_waitlist", sa.Boolean(), nullable=False),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["reservations_facilities.id"],
            name=op.f("fk_reservations_bookings_facility_id_reservations_facilities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["reservations_slots.id"],
            name=op.f("fk_reservations_bookings_slot_id_reservations_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reservations_bookings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations_bookings")),
        sa.UniqueConstraint("user_id", "active_slot_id", name="uq_reservations_bookings_user_active_slot"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_reservations_bookings_user_key"),
    )
    with op.batch_alter_table("reservations_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_bookings_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reservations_bookings_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_bookings_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_bookings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "reservations_waitlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active_slot_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", smartseoul.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["reservations_slots.id"],
            name=op.f("fk_reservations_waitlist_slot_id_reservations_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reservations_waitlist_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations_waitlist")),
        sa.UniqueConstraint("user_id", "active_slot_id", name="uq_reservations_waitlist_user_active_slot"),
    )
    with op.batch_alter_table("reservations_waitlist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservations_waitlist_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_waitlist_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reservations_waitlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_waitlist_user_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_waitlist_slot_id"))

    op.drop_table("reservations_waitlist")
    with op.batch_alter_table("reservations_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_bookings_user_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_bookings_state"))
        batch_op.drop_index(batch_op.f("ix_reservations_bookings_slot_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_bookings_facility_id"))

    op.drop_table("reservations_bookings")
    with op.batch_alter_table("payments_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_refunds_payment_id"))

    op.drop_table("payments_refunds")
    with op.batch_alter_table("reservations_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_slots_starts_at"))
        batch_op.drop_index(batch_op.f("ix_reservations_slots_facility_id"))

    op.drop_table("reservations_slots")
    op.drop_table("reservations_quotas")
    with op.batch_alter_table("payments_sim_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_sim_operations_transaction_ref"))
        batch_op.drop_index(batch_op.f("ix_payments_sim_operations_at"))

    op.drop_table("payments_sim_operations")
    with op.batch_alter_table("payments_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_payments_user_id"))
        batch_op.drop_index(batch_op.f("ix_payments_payments_state"))
        batch_op.drop_index(batch_op.f("ix_payments_payments_reference"))

    op.drop_table("payments_payments")
    with op.batch_alter_table("reservations_facilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_facilities_kind"))
        batch_op.drop_index(batch_op.f("ix_reservations_facilities_district_code"))

    op.drop_table("reservations_facilities")
    op.drop_table("payments_sim_transactions")
    op.drop_table("payments_callback_nonces")
