"""The citizen's form and status page, the staff desk and its JSON API, roles and the audit trail."""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

from sqlalchemy import select

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import AuditEntry
from smartseoul.services.complaints.models import Delivery, ServiceRequest

GANGNAM_POINT = ("37.4981", "127.0286")


def tiny_png() -> bytes:
    """A real 1x1 PNG (what a phone camera would send, only smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def file_by_page(client: Any, photo: tuple[str, bytes, str] | None = None, **fields: str) -> Any:
    assert client.get("/complaints/new").status_code == 200
    data = {
        "csrf_token": client.cookies.get("ss_csrf"),
        "service_code": "illegal_parking",
        "description": "소화전 앞 불법 주차",
        "lat": GANGNAM_POINT[0],
        "long": GANGNAM_POINT[1],
        "email": "kim@example.com",
        "attribute[plate]": "12가3456",
    }
    data.update(fields)
    files = {"photo": photo} if photo else None
    return client.post("/complaints/new", data=data, files=files, follow_redirects=False)


def test_the_citizen_form_and_its_refusals(client: Any) -> None:
    check_bad_form_input(client)  # first: it checks that nothing refused was stored
    check_citizen_files_with_a_photo(client)


def check_citizen_files_with_a_photo(client: Any) -> None:
    page = client.get("/complaints/new", headers={"Accept-Language": "ko"})
    assert "불법 주정차" in page.text
    assert 'id="complaints-map"' in page.text

    filed = file_by_page(client, ("photo.png", tiny_png(), "image/png"))
    assert filed.status_code == 303, filed.text
    location = filed.headers["location"]
    assert location.startswith("/complaints/")
    status = client.get(location)
    assert status.status_code == 200
    assert "소화전 앞 불법 주차" in status.text
    assert "kim@example.com" not in status.text  # contact details never on the public page
    media_url = status.text.split('class="complaints-photo" src="')[1].split('"')[0]
    photo = client.get(media_url)
    assert (photo.status_code, photo.headers["content-type"]) == (200, "image/png")
    assert photo.content == tiny_png()

    request_id = location.split("/")[2].split("?")[0]
    token = location.split("token=")[1].split("&")[0]
    tracked = client.get("/complaints/track", params={"token": token}, follow_redirects=False)
    assert tracked.headers["location"].startswith(f"/complaints/{request_id}")
    assert client.get("/complaints/track", params={"token": "nope"}).status_code == 404
    open311 = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert open311["media_url"] == f"http://127.0.0.1{media_url}"


def check_bad_form_input(client: Any) -> None:
    assert file_by_page(client, csrf_token="forged").status_code == 403
    wrong_type = file_by_page(client, ("photo.png", b"MZ\x90\x00 not an image", "image/png"))
    assert wrong_type.status_code == 415
    assert 'data-field="photo"' in wrong_type.text
    outside = file_by_page(client, lat="35.1796", long="129.0756")
    assert outside.status_code == 422
    assert 'data-field="lat"' in outside.text
    assert "소화전 앞 불법 주차" in outside.text  # what was typed is kept
    assert client.get("/complaints/media/..%2F..%2Fsecret.txt").status_code in (404, 422)
    assert client.get("/open311/v2/requests.json").json() == []


def test_staff_roles_district_scope_updates_and_audit(client: Any, platform: Platform) -> None:
    request_id = file_by_page(client).headers["location"].split("/")[2].split("?")[0]
    gangnam = make_account(platform.db, "gangnam.officer", ["district_staff"], district_code="11230")
    jongno = make_account(platform.db, "jongno.officer", ["district_staff"], district_code="11010")
    citizen = make_account(platform.db, "citizen.park", ["citizen"])
    own = {"Authorization": f"Bearer {token_for(client, gangnam)}"}
    other = {"Authorization": f"Bearer {token_for(client, jongno)}"}

    assert client.get("/api/v1/complaints/queue").status_code == 401
    assert (
        client.get("/api/v1/complaints/queue", headers={"Authorization": "Bearer forged.token"}).status_code
        == 401
    )
    citizen_token = {"Authorization": f"Bearer {token_for(client, citizen)}"}
    assert client.get("/api/v1/complaints/queue", headers=citizen_token).status_code == 403

    queue = client.get("/api/v1/complaints/queue", headers=own).json()
    assert request_id in [r["service_request_id"] for r in queue["requests"]]
    assert queue["counts"]["open"] == 1
    assert client.get("/api/v1/complaints/queue", headers=other).json()["requests"] == []
    assert (
        client.get(
            f"/api/v1/complaints/{request_id}", params={"reason": "call back"}, headers=other
        ).status_code
        == 404
    )

    detail = client.get(
        f"/api/v1/complaints/{request_id}", params={"reason": "call back"}, headers=own
    ).json()
    assert detail["contact"]["email"] == "kim@example.com"
    assert (
        client.get(f"/api/v1/complaints/{request_id}", headers=own).status_code == 422
    )  # a reason is needed
    with platform.db.session() as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "complaints.contact.read")
        ).all()
        assert [(e.actor, e.reason) for e in reads] == [("gangnam.officer", "call back")]

    bad = client.post(
        f"/api/v1/complaints/{request_id}/updates", json={"work_state": "teleported"}, headers=own
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "work_state"
    assert (
        client.post(f"/api/v1/complaints/{request_id}/updates", json={"note": "x"}, headers=other).status_code
        == 404
    )
    done = client.post(
        f"/api/v1/complaints/{request_id}/updates",
        json={"work_state": "resolved", "note": "견인 조치했습니다"},
        headers=own,
    )
    assert done.status_code == 201
    public = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert (public["status"], public["status_notes"]) == ("closed", "견인 조치했습니다")
    assert "견인 조치했습니다" in client.get(f"/complaints/{request_id}").text
    check_retry(client, platform, int(request_id), own, other)
    check_staff_page_roles(client, platform)


def check_staff_page_roles(client: Any, platform: Platform) -> None:
    file_by_page(client)
    anonymous = client.get("/complaints/staff", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307)
    assert "/login" in anonymous.headers["location"]
    citizen = make_account(platform.db, "citizen.choi", ["citizen"])
    officer = make_account(platform.db, "gangnam.staff", ["district_staff"], district_code="11230")
    for account, status in ((citizen, 403), (officer, 200)):
        client.cookies.clear()
        client.get("/login")
        login = client.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "csrf_token": client.cookies.get("ss_csrf"),
            },
            follow_redirects=False,
        )
        assert login.status_code in (302, 303), login.text
        page = client.get("/complaints/staff")
        assert page.status_code == status
    assert 'id="complaints-queue"' in page.text
    assert "12" in page.text


def check_retry(
    client: Any, platform: Platform, request_id: int, own: dict[str, str], other: dict[str, str]
) -> None:
    """A dead letter is resent by the district's staff; a sent delivery is not sent twice."""
    with platform.db.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.request_id == request_id)).one()
        row.status, row.attempts, row.last_error, row.next_attempt_at = "failed", 6, "HTTP 500", None
        session.get(ServiceRequest, request_id).delivery_state = "failed"  # type: ignore[union-attr]
        delivery_id = row.id
    assert client.post(f"/api/v1/complaints/deliveries/{delivery_id}/retry", headers=other).status_code == 404
    assert client.get("/api/v1/complaints/queue", headers=own).json()["counts"]["delivery_failed"] == 1
    retried = client.post(f"/api/v1/complaints/deliveries/{delivery_id}/retry", headers=own)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    deadline = time.monotonic() + 60  # the app's worker, woken by the retry, delivers it to the inbox
    state = ""
    while time.monotonic() < deadline and state != "sent":
        time.sleep(0.2)
        with platform.db.session() as session:
            request = session.get(ServiceRequest, request_id)
            assert request is not None
            state = request.delivery_state
    assert state == "sent"
    again = client.post(f"/api/v1/complaints/deliveries/{delivery_id}/retry", headers=own)
    assert again.status_code == 409


def test_a_citizen_subscribes_a_browser_to_updates(client: Any, platform: Platform) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from smartseoul.core.push import b64url, subscriptions_for_user

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    body = {
        "endpoint": "https://push.example.com/send/abc123",
        "keys": {"p256dh": b64url(raw), "auth": b64url(b"0123456789abcdef")},
        "language": "ko",
    }
    url = "/api/v1/complaints/push-subscriptions"
    assert client.post(url, json=body).status_code == 401
    citizen = make_account(platform.db, "citizen.han", ["citizen"])
    headers = {"Authorization": f"Bearer {token_for(client, citizen)}"}
    bad = client.post(url, json={**body, "keys": {"p256dh": "A" * 30, "auth": "short-auth"}}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "keys.p256dh"
    made = client.post(url, json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["scope"] == "complaints"
    with platform.db.session() as session:
        from smartseoul.core.auth import get_user

        user = get_user(session, "citizen.han")
        assert user is not None
        assert [s.endpoint for s in subscriptions_for_user(session, user.id, "complaints")] == [
            body["endpoint"]
        ]
