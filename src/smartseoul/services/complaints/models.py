"""Tables of the complaints domain.

A *request* (Open311's service request) is what a citizen or an Open311 client filed. It is routed
to the district that contains its point and to the departments that own its category; one
*delivery* row per receiving department is the outbox (a request is ``sent`` only once every one
of its deliveries succeeded). Every status change or note is an *update* with its own push state,
so nothing a citizen should hear about is dropped without a trace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartseoul.core.db import Base, UTCDateTime, utcnow

REQUEST_STATUSES = ("open", "closed")
WORK_STATES = ("received", "in_progress", "resolved", "rejected")
DELIVERY_STATES = ("pending", "sent", "failed")
PUSH_STATES = ("pending", "pushed", "no_subscription", "failed")


class Department(Base):
    """A receiving department: of one district (``district_code``) or city-wide (null).

    ``kind`` is the duty it owns (``parking``, ``roads``...); a category names the kinds that must
    receive it. With ``webhook_url`` empty the department reads its in-process inbox (the demo)."""

    __tablename__ = "complaints_departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    name_ko: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    """An Open311 service (a complaint category) with its SLA and the departments that receive it."""

    __tablename__ = "complaints_services"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_ko: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    department_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    sla_hours: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceRequest(Base):
    """One complaint. ``status`` is Open311's open/closed; ``work_state`` says more for people.

    Contact fields (email, names, phone) are personal data: only staff read them, audited."""

    __tablename__ = "complaints_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("complaints_services.code"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    work_state: Mapped[str] = mapped_column(String(16), default="received")
    status_notes: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    address_id: Mapped[str] = mapped_column(String(64), default="")
    zipcode: Mapped[str] = mapped_column(String(16), default="")
    district_code: Mapped[str] = mapped_column(String(5), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("complaints_departments.id"), index=True)
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email: Mapped[str] = mapped_column(String(254), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    device_id: Mapped[str] = mapped_column(String(100), default="")
    account_id: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    client_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints_api_keys.id", ondelete="SET NULL"), nullable=True
    )
    delivery_state: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    """The outbox row of one request to one department: retried with backoff, then a dead letter."""

    __tablename__ = "complaints_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_requests.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("complaints_departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryAttempt(Base):
    """One try of a delivery, kept: staff see exactly what happened and when."""

    __tablename__ = "complaints_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class InboxItem(Base):
    """What an in-process (demo) department received: its staff page reads these."""

    __tablename__ = "complaints_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("complaints_departments.id"), index=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_deliveries.id", ondelete="CASCADE"), unique=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RequestUpdate(Base):
    """A status change or note on a request, and whether the citizen was told (push state)."""

    __tablename__ = "complaints_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(8))
    work_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    push_state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    push_error: Mapped[str] = mapped_column(Text, default="")


class ClientKey(Base):
    """An Open311 client's API key: only the SHA-256 of its secret is kept; revocable."""

    __tablename__ = "complaints_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
