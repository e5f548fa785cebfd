"""Getting complaints to departments and updates to citizens, tracked, retried, never faked.

Deliveries (the outbox, one row per receiving department) are claimed with a lease, posted, and
every attempt is stored. A department with a ``webhook_url`` gets a signed POST (the same scheme
as incident hand-overs: ``X-SmartSeoul-Timestamp`` and ``X-SmartSeoul-Signature:
v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``, ``Idempotency-Key: complaint-delivery-<id>``);
only a 2xx answer counts. A department without one is an in-process inbox (the demo) read by its
staff page. Failures are retried with exponential backoff; the last one makes the delivery a dead
letter (``failed``) that staff see and can send again.

The request's ``delivery_state`` is derived from its deliveries after every attempt: ``sent`` only
when *every* delivery is sent, ``failed`` when any is a dead letter, else ``pending`` (FixMyStreet
marks a report sent when one of its deliveries failed; this never does).

Updates (status changes, notes) are pushed to the citizen's subscribed browsers (Web Push); each
update keeps its push state (``pushed``, ``no_subscription``, ``failed`` after retries), so none is
dropped silently; the status page shows every update whatever its push state.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import push
from smartseoul.core.auth import InvalidInput
from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.services.complaints.models import (
    Delivery,
    DeliveryAttempt,
    Department,
    InboxItem,
    RequestUpdate,
    ServiceRequest,
)

log = logging.getLogger("smartseoul.complaints")
SIGNATURE_HEADER = "X-SmartSeoul-Signature"
TIMESTAMP_HEADER = "X-SmartSeoul-Timestamp"
LEASE_S = 60
PUSH_MAX_ATTEMPTS = 3
WAKE_KEY = "complaints.wake"
BATCH_WAIT_S = 0.1
T = TypeVar("T")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """What a receiving department does: recompute the signature, refuse stale timestamps."""
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    if not stamp.isdigit() or abs((now if now is not None else time.time()) - int(stamp)) > 300:
        return False
    return hmac.compare_digest(signature(secret, int(stamp), body), lowered.get(SIGNATURE_HEADER.lower(), ""))


def payload_for(request: ServiceRequest, department: Department, delivery_id: int) -> dict[str, Any]:
    """What a department receives: the complaint and how to reach the citizen (it must act on it)."""
    return {
        "delivery_id": delivery_id,
        "department": department.code,
        "service_request_id": str(request.id),
        "service_code": request.service_code,
        "description": request.description,
        "lat": request.lat,
        "long": request.lon,
        "address": request.address,
        "district_code": request.district_code,
        "attributes": request.attributes,
        "media_url": request.media_url,
        "requested_datetime": request.requested_at.isoformat(),
        "expected_datetime": request.expected_at.isoformat(),
        "contact": {
            "email": request.email,
            "first_name": request.first_name,
            "last_name": request.last_name,
            "phone": request.phone,
        },
    }


@dataclass(frozen=True)
class Job:
    """One claimed delivery, detached from the session."""

    delivery_id: int
    attempt: int
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str


# ---------------------------------------------------------------- deliveries


def claim_due(session: Session, now: datetime | None = None, limit: int = 50) -> list[Job]:
    """Take the due deliveries (a lease: another worker skips them until it runs out)."""
    now = now or utcnow()
    rows = session.execute(
        select(Delivery, Department, ServiceRequest)
        .join(Department, Department.id == Delivery.department_id)
        .join(ServiceRequest, ServiceRequest.id == Delivery.request_id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    ).all()
    jobs = []
    for delivery, department, request in rows:
        delivery.next_attempt_at = now + timedelta(seconds=LEASE_S)
        body = json.dumps(payload_for(request, department, delivery.id), ensure_ascii=False).encode()
        jobs.append(Job(delivery.id, delivery.attempts + 1, department.webhook_url, department.secret, body))
    return jobs


async def post(client: httpx.AsyncClient, job: Job, timeout_s: float) -> Outcome:
    """One signed POST; only a 2xx answer is a delivery."""
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: signature(job.secret, stamp, job.body),
        "X-SmartSeoul-Delivery": f"{job.delivery_id}-{job.attempt}",
        "Idempotency-Key": f"complaint-delivery-{job.delivery_id}",
    }
    try:
        response = await client.post(job.url, content=job.body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, "")
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")


def to_inbox(session: Session, job: Job, now: datetime | None = None) -> Outcome:
    """The in-process adapter: the department's inbox row is the delivery (same transaction)."""
    delivery = session.get(Delivery, job.delivery_id)
    if delivery is None:
        return Outcome(False, None, "delivery vanished")
    exists = session.scalars(select(InboxItem.id).where(InboxItem.delivery_id == job.delivery_id)).first()
    if exists is None:
        session.add(
            InboxItem(
                department_id=delivery.department_id,
                delivery_id=delivery.id,
                received_at=now or utcnow(),
                payload=json.loads(job.body),
            )
        )
    return Outcome(True, None, "")


def backoff_s(settings: Settings, attempt: int) -> float:
    return float(settings.complaints_delivery_backoff_s * 2 ** (attempt - 1))


def refresh_state(session: Session, request_id: int) -> str:
    """``sent`` only when every delivery is sent; ``failed`` when any is a dead letter."""
    request = session.get(ServiceRequest, request_id)
    if request is None:
        return ""
    states = set(session.scalars(select(Delivery.status).where(Delivery.request_id == request_id)))
    if states == {"sent"}:
        request.delivery_state = "sent"
    elif "failed" in states:
        request.delivery_state = "failed"
    else:
        request.delivery_state = "pending"
    return request.delivery_state


def record_attempt(
    session: Session, settings: Settings, job: Job, outcome: Outcome, now: datetime | None = None
) -> str:
    """Store the attempt and move the delivery on: sent, retried later, or a dead letter."""
    now = now or utcnow()
    delivery = session.get(Delivery, job.delivery_id, with_for_update=True)
    if delivery is None or delivery.status != "pending":
        return ""
    delivery.attempts += 1
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
        )
    )
    if outcome.ok:
        delivery.status, delivery.sent_at, delivery.last_error, delivery.next_attempt_at = (
            "sent",
            now,
            "",
            None,
        )
    elif delivery.attempts >= settings.complaints_delivery_max_attempts:
        delivery.status, delivery.last_error, delivery.next_attempt_at = "failed", outcome.error, None
        log.error("complaint delivery %s failed for good: %s", delivery.id, outcome.error)
    else:
        delivery.last_error = outcome.error
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s(settings, delivery.attempts))
    session.flush()
    refresh_state(session, delivery.request_id)
    return delivery.status


def retry(session: Session, delivery_id: int, *, actor: str) -> Delivery:
    """Staff send a dead-lettered (or waiting) delivery again, with a fresh set of attempts."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise InvalidInput(f"no delivery {delivery_id}")
    if delivery.status == "sent":
        raise InvalidInput(f"delivery {delivery_id} was already sent")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    log.info("complaint delivery %s sent again by %s", delivery_id, actor)
    session.flush()
    refresh_state(session, delivery.request_id)
    return delivery


async def deliver_once(
    run: Callable[[Callable[[Session], Any]], Any],
    settings: Settings,
    client: httpx.AsyncClient,
    now: datetime | None = None,
) -> int:
    """Claim due deliveries, deliver (webhook or inbox), record each attempt; how many were tried.

    ``run`` runs a function in one committed transaction off the event loop."""
    jobs: list[Job] = await run(lambda session: claim_due(session, now))
    if not jobs:
        return 0
    webhooks = [job for job in jobs if job.url]
    posted = await asyncio.gather(
        *(post(client, job, settings.complaints_delivery_timeout_s) for job in webhooks)
    )
    outcomes = dict(zip([job.delivery_id for job in webhooks], posted, strict=True))

    def record(session: Session) -> None:
        for job in jobs:
            outcome = outcomes.get(job.delivery_id) or to_inbox(session, job, now)
            record_attempt(session, settings, job, outcome, now)

    await run(record)
    return len(jobs)


# ---------------------------------------------------------------- pushing updates


@dataclass(frozen=True)
class PushJob:
    update_id: int
    targets: list[push.PushTarget]
    payload: dict[str, Any]


def claim_updates(session: Session, limit: int = 50) -> list[PushJob]:
    """Pending updates with their citizen's subscriptions; one without any is marked so at once."""
    rows = session.execute(
        select(RequestUpdate, ServiceRequest)
        .join(ServiceRequest, ServiceRequest.id == RequestUpdate.request_id)
        .where(RequestUpdate.push_state == "pending")
        .order_by(RequestUpdate.id)
        .limit(limit)
    ).all()
    jobs = []
    for update, request in rows:
        subscriptions = push.subscriptions_for_user(session, request.user_id) if request.user_id else []
        if not subscriptions:
            update.push_state = "no_subscription"
            continue
        payload = {
            "title": f"민원 #{request.id}: {update.work_state}",
            "body": update.note or update.work_state,
            "url": f"/complaints/{request.id}?token={request.token}",
            "tag": f"complaint-{request.id}",
        }
        jobs.append(PushJob(update.id, [push.target_of(s) for s in subscriptions], payload))
    return jobs


def record_push(session: Session, job: PushJob, results: list[push.DeliveryResult]) -> str:
    """Pushed when any browser took it; else retried, and ``failed`` (shown to staff) at the end."""
    push.record_results(session, results)
    update = session.get(RequestUpdate, job.update_id)
    if update is None:
        return ""
    update.push_attempts += 1
    if any(r.outcome == "delivered" for r in results):
        update.push_state, update.push_error = "pushed", ""
    elif all(r.outcome == "gone" for r in results):
        update.push_state, update.push_error = "no_subscription", "every subscription is gone"
    else:
        update.push_error = "; ".join(f"{r.status or 'no answer'} {r.error}" for r in results)[:500]
        update.push_state = "failed" if update.push_attempts >= PUSH_MAX_ATTEMPTS else "pending"
    return update.push_state


async def push_once(platform: Any, run: Callable[[Callable[[Session], Any]], Any]) -> int:
    jobs: list[PushJob] = await run(claim_updates)
    if not jobs:
        return 0
    keys = push.platform_vapid(platform)
    results = [
        await push.deliver(keys, job.targets, job.payload, ttl=86400, urgency="normal") for job in jobs
    ]

    def record(session: Session) -> None:
        for job, outcome in zip(jobs, results, strict=True):
            record_push(session, job, outcome)

    await run(record)
    return len(jobs)


# ---------------------------------------------------------------- the worker


def runner(platform: Any) -> Callable[[Callable[[Session], T]], Any]:
    """``await run(work)``: ``work(session)`` in one committed transaction, in a thread."""

    async def run(work: Callable[[Session], T]) -> T:
        def inside() -> T:
            with platform.db.session() as session:
                return work(session)

        return await asyncio.to_thread(inside)

    return run


def wake(platform: Any) -> None:
    """Tell the worker there is something to do now (a new complaint, an update)."""
    event = platform.cache.get(WAKE_KEY)
    if isinstance(event, asyncio.Event):
        event.set()


async def worker_forever(platform: Any) -> None:
    """Deliver and push, then sleep until woken or the interval passes; never dies of one failure."""
    event = asyncio.Event()
    platform.cache[WAKE_KEY] = event
    run = runner(platform)
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await deliver_once(run, platform.settings, client)
                await push_once(platform, run)
            except Exception:
                log.exception("complaints worker: a pass failed; trying again")
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), platform.settings.complaints_worker_interval_s)
                # woken: let a burst of complaints (a storm) gather, and deliver it in one pass
                # rather than one pass (and several database transactions) per complaint
                await asyncio.sleep(BATCH_WAIT_S)
