"""Routing to district and department, deliveries that are retried and never marked sent when they
were not, SLA timers, status updates and their push state, Open311 client keys (service level)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.city.service import CityIndex
from smartseoul.core import push
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.core.settings import Settings
from smartseoul.services.complaints import delivery, service
from smartseoul.services.complaints.models import (
    Delivery,
    DeliveryAttempt,
    Department,
    InboxItem,
    RequestUpdate,
    ServiceRequest,
)
from smartseoul.services.complaints.service import ComplaintError, Draft

GANGNAM = "11230"
GANGNAM_POINT = (37.4981, 127.0286)
JONGNO_POINT = (37.5730, 126.9794)


@pytest.fixture
def index(db: Session) -> CityIndex:
    service.ensure_catalogue(db)
    return CityIndex.from_session(db)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, complaints_delivery_max_attempts=3, complaints_delivery_backoff_s=10)


def file(
    db: Session,
    index: CityIndex,
    code: str = "illegal_parking",
    where: tuple[float, float] = GANGNAM_POINT,
    **extra: Any,
) -> ServiceRequest:
    return service.file_request(
        db, Draft(service_code=code, lat=where[0], lon=where[1], **extra), index=index
    )


def runner(db: Session) -> Callable[[Callable[[Session], Any]], Any]:
    """The worker's ``run``, on the test's session (its transaction is rolled back at the end)."""

    async def run(work: Callable[[Session], Any]) -> Any:
        result = work(db)
        db.flush()
        return result

    return run


def webhook_answering(status: int, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="ok" if status < 300 else "down for maintenance")

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def deliver(db: Session, settings: Settings, client: httpx.AsyncClient, now: Any = None) -> int:
    return int(asyncio.run(delivery.deliver_once(runner(db), settings, client, now)))


def test_catalogue_is_complete_and_idempotent(db: Session, index: CityIndex) -> None:
    services = service.list_services(db)
    assert len(services) >= 20
    assert all(s.sla_hours > 0 and s.department_kinds for s in services)
    assert service.ensure_catalogue(db) == 0  # nothing added twice
    city_wide = db.scalars(select(Department).where(Department.district_code.is_(None))).all()
    assert [d.kind for d in city_wide] == ["animals"]


def test_routing_by_point_in_polygon_and_category(db: Session, index: CityIndex) -> None:
    parking = file(db, index)
    owner = db.get(Department, parking.department_id)
    assert owner is not None
    assert (parking.district_code, owner.district_code, owner.kind) == (GANGNAM, GANGNAM, "traffic")
    assert parking.expected_at - parking.requested_at == timedelta(hours=4)

    flood = file(db, index, "flooding", JONGNO_POINT, attributes={"hazard": ["yes"]})
    kinds = [db.get(Department, d.department_id).kind for d in service.deliveries_of(db, flood.id)]  # type: ignore[union-attr]
    assert kinds == ["roads", "disaster"]  # the owner first, then the copy
    assert flood.district_code == "11010"

    animal = file(db, index, "stray_animal", attributes={"animal": ["dog"]})
    city_dept = db.get(Department, animal.department_id)
    assert city_dept is not None
    assert city_dept.district_code is None  # Seoul's own department, wherever in the city

    with pytest.raises(ComplaintError, match="outside Seoul") as refused:
        file(db, index, where=(35.1796, 129.0756))  # Busan
    assert (refused.value.status, refused.value.field) == (400, "lat")


def test_a_department_without_an_owner_is_refused_not_lost(db: Session, index: CityIndex) -> None:
    for department in db.scalars(select(Department).where(Department.kind == "traffic")):
        department.active = False
    with pytest.raises(ComplaintError) as refused:
        file(db, index)
    assert refused.value.status == 503


def test_inbox_delivery_marks_the_request_sent(db: Session, index: CityIndex, settings: Settings) -> None:
    request = file(db, index, "flooding", attributes={"hazard": ["no"]})
    assert request.delivery_state == "pending"
    assert service.service_notice(request) == "delivery pending"
    seen: list[httpx.Request] = []
    assert deliver(db, settings, webhook_answering(200, seen)) >= 2
    assert request.delivery_state == "sent"
    assert service.service_notice(request) == ""
    inbox = db.scalars(select(InboxItem).join(Delivery).where(Delivery.request_id == request.id)).all()
    assert len(inbox) == 2
    assert inbox[0].payload["service_request_id"] == str(request.id)
    assert seen == []  # demo departments have no webhook


def test_one_failed_delivery_keeps_the_request_unsent_then_dead_letter(
    db: Session, index: CityIndex, settings: Settings
) -> None:
    """FixMyStreet's complaint: a report marked sent when one of its deliveries failed. Not here."""
    request = file(db, index, "flooding", attributes={"hazard": ["yes"]})
    deliveries = service.deliveries_of(db, request.id)
    disaster = db.get(Department, deliveries[1].department_id)
    assert disaster is not None
    disaster.webhook_url = "https://disaster.example.go.kr/hook"
    seen: list[httpx.Request] = []
    failing = webhook_answering(503, seen)
    now = utcnow()
    deliver(db, settings, failing, now)
    assert [d.status for d in deliveries] == ["sent", "pending"]
    assert request.delivery_state == "pending"  # the inbox took it, the webhook did not
    assert deliveries[1].next_attempt_at == now + timedelta(seconds=10)

    assert deliver(db, settings, failing, now + timedelta(seconds=5)) == 0  # backoff respected
    deliver(db, settings, failing, now + timedelta(seconds=11))
    assert deliveries[1].next_attempt_at == now + timedelta(seconds=31)  # doubled
    deliver(db, settings, failing, now + timedelta(seconds=40))
    assert deliveries[1].status == "failed"
    assert request.delivery_state == "failed"
    assert "503" in deliveries[1].last_error
    attempts = db.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == deliveries[1].id)
    ).all()
    assert [(a.number, a.ok, a.status_code) for a in attempts] == [
        (1, False, 503),
        (2, False, 503),
        (3, False, 503),
    ]
    assert deliver(db, settings, failing, now + timedelta(hours=1)) == 0  # a dead letter is not retried alone

    signed = seen[0]
    body = signed.content
    assert delivery.verify(disaster.secret, dict(signed.headers), body)
    assert not delivery.verify("another secret", dict(signed.headers), body)
    assert signed.headers["Idempotency-Key"] == f"complaint-delivery-{deliveries[1].id}"

    delivery.retry(db, deliveries[1].id, actor="staff")
    assert request.delivery_state == "pending"
    deliver(db, settings, webhook_answering(202, seen), now + timedelta(hours=1))
    assert deliveries[1].status == "sent"
    assert request.delivery_state == "sent"


def test_unreachable_webhook_is_a_failure_with_its_reason(
    db: Session, index: CityIndex, settings: Settings
) -> None:
    request = file(db, index)
    owner = db.get(Department, request.department_id)
    assert owner is not None
    owner.webhook_url = "https://traffic.example.go.kr/hook"

    def refuse(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    deliver(db, settings, httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    row = service.deliveries_of(db, request.id)[0]
    assert (row.status, request.delivery_state) == ("pending", "pending")
    assert row.last_error.startswith("ConnectError")


def test_sla_overdue_flag_and_list(db: Session, index: CityIndex) -> None:
    late = file(db, index)  # 4 hours
    later = file(db, index, "graffiti")  # 120 hours
    soon = utcnow() + timedelta(hours=5)
    assert service.is_overdue(late, soon)
    assert not service.is_overdue(later, soon)
    overdue_ids = [r.id for r in service.overdue(db, GANGNAM, now=soon)]
    assert late.id in overdue_ids
    assert later.id not in overdue_ids
    assert late.id not in [r.id for r in service.overdue(db, "11010", now=soon)]
    service.update_status(db, late, actor="staff", work_state="resolved", note="견인 조치 완료")
    assert late.status == "closed"
    assert not service.is_overdue(late, soon)


def test_updates_are_history_with_a_push_state(db: Session, index: CityIndex, tmp_path: Path) -> None:
    anonymous = file(db, index)
    first = service.update_status(db, anonymous, actor="staff", work_state="in_progress", note="현장 확인 중")
    assert (anonymous.status, anonymous.work_state, anonymous.status_notes) == (
        "open",
        "in_progress",
        "현장 확인 중",
    )
    with pytest.raises(ComplaintError, match="nothing to record"):
        service.update_status(db, anonymous, actor="staff")
    with pytest.raises(ComplaintError, match="work_state"):
        service.update_status(db, anonymous, actor="staff", work_state="teleported")
    assert delivery.claim_updates(db) == []  # no account, no subscription: noted, not dropped
    assert first.push_state == "no_subscription"
    assert [u.note for u in service.updates_of(db, anonymous.id)] == ["현장 확인 중"]


def test_push_failures_are_retried_then_shown_as_failed(db: Session, index: CityIndex) -> None:
    from conftest import make_account

    make_account(db, "citizen.kim", ["citizen"])
    from smartseoul.core.auth import get_user

    user = get_user(db, "citizen.kim")
    assert user is not None
    subscription = push.PushSubscription(
        endpoint="https://push.example.com/abc", p256dh="x", auth="y", user_id=user.id, scope="alerts"
    )
    db.add(subscription)
    db.flush()
    request = file(db, index, user_id=user.id)
    update = service.update_status(db, request, actor="staff", work_state="in_progress")
    jobs = delivery.claim_updates(db)
    assert [j.update_id for j in jobs] == [update.id]
    assert jobs[0].payload["url"] == f"/complaints/{request.id}?token={request.token}"
    failed = [push.DeliveryResult(subscription.id, subscription.endpoint, "failed", 500, 3, "boom")]
    for _ in range(delivery.PUSH_MAX_ATTEMPTS - 1):
        assert delivery.record_push(db, jobs[0], failed) == "pending"
    assert delivery.record_push(db, jobs[0], failed) == "failed"
    assert "500" in update.push_error
    second = service.update_status(db, request, actor="staff", work_state="resolved")
    job = next(j for j in delivery.claim_updates(db) if j.update_id == second.id)
    ok = [push.DeliveryResult(subscription.id, subscription.endpoint, "delivered", 201, 1)]
    assert delivery.record_push(db, job, ok) == "pushed"
    states = {
        u.id: u.push_state
        for u in db.scalars(select(RequestUpdate).where(RequestUpdate.request_id == request.id))
    }
    assert states == {update.id: "failed", second.id: "pushed"}


def test_contact_reads_are_audited(db: Session, index: CityIndex) -> None:
    request = file(db, index, email="kim@example.com", phone="010-1234-5678")
    contact = service.contact_of(db, request, actor="officer.lee", client="10.0.0.1", reason="call back")
    assert contact["phone"] == "010-1234-5678"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "complaints.contact.read")).all()[-1]
    assert (entry.actor, entry.target, entry.reason) == (
        "officer.lee",
        f"complaint:{request.id}",
        "call back",
    )


def test_client_keys_are_hashed_checked_and_revocable(db: Session) -> None:
    key = service.create_key(db, "SeoulTalk", actor="admin")
    prefix = key.split("_")[1]
    stored = next(k for k in service.list_keys(db) if k.prefix == prefix)
    assert key.split("_", 2)[2] not in stored.key_hash
    assert service.check_key(db, key).id == stored.id
    assert stored.last_used_at is not None
    with pytest.raises(ComplaintError):
        service.check_key(db, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert service.revoke_key(db, prefix, actor="admin")
    assert not service.revoke_key(db, prefix, actor="admin")
    with pytest.raises(ComplaintError) as refused:
        service.check_key(db, key)
    assert refused.value.status == 403
