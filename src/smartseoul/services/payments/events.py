"""Events of the payments domain: other domains confirm what was paid for by these, never by our tables."""

from __future__ import annotations

from smartseoul.core.events import Event


class PaymentCaptured(Event):
    """Money was taken: ``reference`` (e.g. ``reservation:123``) names what it pays for."""

    type_name = "services.payment.captured.v1"
    payment_id: int
    reference: str
    amount_krw: int
    user_id: int


class PaymentRefunded(Event):
    """Money went back (``amount_krw`` of this refund; ``total_refunded_krw`` so far)."""

    type_name = "services.payment.refunded.v1"
    payment_id: int
    reference: str
    amount_krw: int
    total_refunded_krw: int
    user_id: int
