"""Fees paid through a payment-provider adapter: idempotent, signed callbacks, refunds, reconciliation."""
