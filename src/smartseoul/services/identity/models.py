"""Tables of the identity domain: citizen certificates issued by the city CA, login challenges.

The CA's keys live on disk under the data directory (see ``pki``); the database keeps what the
CA issued (to publish the CRL and to bind a certificate to its citizen) and the one-time
challenges a certificate login signs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow


class CitizenCertificate(Base):
    """An X.509 certificate the city CA issued to a citizen (the 공동인증서 of the demo)."""

    __tablename__ = "identity_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(256))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginChallenge(Base):
    """A nonce the server handed out for a certificate login; usable once, for a few minutes."""

    __tablename__ = "identity_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
