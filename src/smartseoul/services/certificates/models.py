"""Tables of the certificates domain: the documents the city issued.

The signed PDF is kept byte for byte with its SHA-256: a document presented for checking is
valid only when its signature validates *and* its bytes are the ones issued. A document with a fee
waits in state ``awaiting_payment`` (no PDF yet) until the payments domain announces the capture.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

DOCUMENT_STATES = ("awaiting_payment", "issued")


class IssuedDocument(Base):
    """One certificate document (증명서) issued to a citizen."""

    __tablename__ = "certificates_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    holder_name: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    fee_krw: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(24), default="issued", index=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(128), default="")
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")
