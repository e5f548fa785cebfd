"""Tables of the alerts domain.

An *alert* is what the public sees as one warning; every CAP message sent about it (the original
``Alert``, each ``Update``, the ``Cancel``) is a row of ``alerts_messages`` with the exact XML that
went out, so the feed and ``/api/v1/alerts/{id}.cap`` serve what was validated, never a re-rendering.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

ALERT_STATES = ("pending", "active", "cancelled", "rejected")


class Alert(Base):
    """One public alert and its current content (the latest message's)."""

    __tablename__ = "alerts_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    cap_status: Mapped[str] = mapped_column(String(16), default="Actual")
    category: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(16))
    response_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    headline_ko: Mapped[str] = mapped_column(String(160))
    headline_en: Mapped[str] = mapped_column(String(160))
    description_ko: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    instruction_ko: Mapped[str] = mapped_column(Text, default="")
    instruction_en: Mapped[str] = mapped_column(Text, default="")
    area: Mapped[dict[str, Any]] = mapped_column(JSON)
    district_codes: Mapped[list[str]] = mapped_column(JSON)
    city_wide: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_by: Mapped[str] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertMessage(Base):
    """One CAP message as sent (validated against the OASIS schema before it was stored)."""

    __tablename__ = "alerts_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts_alerts.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    msg_type: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    references: Mapped[str | None] = mapped_column(Text, nullable=True)
    xml: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(String(128))
