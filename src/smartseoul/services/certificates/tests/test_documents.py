"""Certificate documents end to end: the assurance each step needs, the sealed PDF a standard
validator accepts, /verify (valid, revoked, unknown), tampering, revocation by staff."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import make_account, make_settings, token_for
from smartseoul.core import auth
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.models import AuditEntry
from smartseoul.services.catalog import service as catalog
from smartseoul.services.certificates import service
from smartseoul.services.identity import pki
from smartseoul.services.identity.tests.helpers import certificate_login, citizen, with_certificate


def standard_validation(pdf: bytes, root: Any) -> Any:
    """What any PAdES validator does: trust only the city root, check the one signature."""
    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[anchor]))


def test_the_verification_number_has_a_check_digit() -> None:
    number = service.new_number(2026)
    assert service.well_formed(number)
    assert number.startswith("SS-2026-")
    last = int(number[-1])
    assert not service.well_formed(number[:-1] + str((last + 1) % 10))
    assert not service.well_formed("SS-2026-1234")
    assert service.mask_name("홍길동") == "홍*동"


def test_a_citizen_gets_a_sealed_tax_certificate_that_a_standard_validator_accepts(
    client: Any, platform: Platform
) -> None:
    with platform.db.session() as session:
        catalog.load_demo(session)
    person = with_certificate(client, citizen(client, platform, "tax.payer"))
    # the catalogue says a tax certificate needs a certificate login: a password is not enough
    refused = client.post(
        "/api/v1/certificates/documents", json={"kind": "local_tax"}, headers=person.headers
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "assurance_required"
    assert refused.json()["needed"] == "certificate"
    headers = certificate_login(client, person)
    issued = client.post(
        "/api/v1/certificates/documents",
        json={"kind": "local_tax", "purpose": "은행 제출용"},
        headers=headers,
    )
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    # the download needs the same assurance as the request
    assert (
        client.get(f"/api/v1/certificates/documents/{number}.pdf", headers=person.headers).status_code == 403
    )
    download = client.get(f"/api/v1/certificates/documents/{number}.pdf", headers=headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    status = standard_validation(download.content, pki.city_ca(platform.settings.data_dir).root)
    assert status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    assert "Seoul Metropolitan Government Document Seal" in status.signing_cert.subject.human_friendly
    assert number.encode() in download.content  # the number is in the document
    verified = client.get(f"/api/v1/certificates/{number}/verify").json()
    assert verified["status"] == "valid"
    assert verified["holder"] == "t*******r"  # masked: enough to match the paper, no more
    checked = client.post(
        "/api/v1/certificates/check", files={"file": ("doc.pdf", download.content, "application/pdf")}
    )
    assert checked.status_code == 200
    assert checked.json()["status"] == "valid", checked.json()
    with platform.db.session() as session:
        reads = list(
            session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "certificates.document.read"))
        )
    assert reads == ["tax.payer"]
    # another citizen cannot fetch it
    stranger = certificate_login(client, with_certificate(client, citizen(client, platform, "stranger")))
    assert client.get(f"/api/v1/certificates/documents/{number}.pdf", headers=stranger).status_code == 404


def test_a_tampered_or_extended_pdf_fails_and_a_foreign_seal_is_not_trusted(
    client: Any, platform: Platform
) -> None:
    account = make_account(platform.db, "resident.tamper", ["citizen"])
    with platform.db.session() as session:
        user = auth.get_user(session, account.username)
        assert user is not None
        document = service.issue(
            session, platform.settings, user_id=user.id, kind_key="resident", purpose="", form={}
        )
        number, pdf = document.number, document.pdf
    assert pdf is not None
    edited = bytearray(pdf)
    at = edited.find(b"Holder")
    edited[at : at + 6] = b"HOLDER"
    tampered = client.post(
        "/api/v1/certificates/check", files={"file": ("x.pdf", bytes(edited), "application/pdf")}
    ).json()
    assert tampered["status"] == "tampered"
    assert tampered["signature"]["intact"] is False
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("en")  # a revision appended after the seal
    writer.update_root()
    extended = io.BytesIO()
    writer.write(extended)
    appended = client.post(
        "/api/v1/certificates/check", files={"file": ("x.pdf", extended.getvalue(), "application/pdf")}
    ).json()
    assert appended["status"] == "tampered", appended
    # a forger draws the same number and seals it with a look-alike CA of the same names
    content = service.pdf.DocumentContent(
        number, "공공시설 이용확인서", "Facility use", "위조", [], utcnow(), "http://x/verify"
    )
    forged = service.pdf.seal(service.pdf.render_pdf(content), pki.make_ca())
    foreign = client.post(
        "/api/v1/certificates/check", files={"file": ("x.pdf", forged, "application/pdf")}
    ).json()
    assert foreign["status"] == "tampered"
    assert foreign["signature"]["trusted"] is False
    assert foreign["number"] == number
    junk = client.post(
        "/api/v1/certificates/check", files={"file": ("x.pdf", b"%PDF-1.7 junk", "application/pdf")}
    ).json()
    assert junk["status"] == "unknown"
    empty = client.post("/api/v1/certificates/check", files={"file": ("x.pdf", b"", "application/pdf")})
    assert empty.status_code == 422
    assert empty.json()["field"] == "file"


def test_staff_revoke_a_document_and_verify_says_so(client: Any, platform: Platform) -> None:
    person = citizen(client, platform, "resident.one")
    headers = certificate_login(client, with_certificate(client, person))
    number = client.post("/api/v1/certificates/documents", json={"kind": "resident"}, headers=headers).json()[
        "number"
    ]
    assert (
        client.post(
            f"/api/v1/certificates/{number}/revoke", json={"reason": "오발급"}, headers=person.headers
        ).status_code
        == 403
    )
    staff = make_account(platform.db, "staff.jongno", ["district_staff"], district_code="11010")
    staff_headers = {"Authorization": f"Bearer {token_for(client, staff)}"}
    assert (
        client.post(
            f"/api/v1/certificates/{number}/revoke", json={"reason": ""}, headers=staff_headers
        ).status_code
        == 422
    )
    revoked = client.post(
        f"/api/v1/certificates/{number}/revoke", json={"reason": "오발급"}, headers=staff_headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    verified = client.get(f"/api/v1/certificates/{number}/verify").json()
    assert verified["status"] == "revoked"
    assert verified["revoke_reason"] == "오발급"
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert 'data-status="revoked"' in page.text
    unknown = service.new_number(2026)
    assert client.get(f"/api/v1/certificates/{unknown}/verify").json() == {
        "number": unknown,
        "status": "unknown",
    }
    assert 'data-status="unknown"' in client.get(f"/verify/{unknown}").text
    malformed = client.get("/api/v1/certificates/SS-2026-1/verify")
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "number"


def test_bad_requests_name_the_field(client: Any, platform: Platform) -> None:
    person = citizen(client, platform, "bad.input")
    unknown = client.post("/api/v1/certificates/documents", json={"kind": "passport"}, headers=person.headers)
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "kind"
    no_date = client.post(
        "/api/v1/certificates/documents",
        json={"kind": "facility_use", "facility": "체육관", "used_on": "yesterday"},
        headers=person.headers,
    )
    assert no_date.status_code == 422
    assert no_date.json()["field"] == "used_on"
    assert client.post("/api/v1/certificates/documents", json={"kind": "local_tax"}).status_code == 401
    guardian = make_account(platform.db, "guard.one", ["guardian"])
    as_guardian = client.post(
        "/api/v1/certificates/documents",
        json={"kind": "facility_use"},
        headers={"Authorization": f"Bearer {token_for(client, guardian)}"},
    )
    assert as_guardian.status_code == 403


def test_a_document_with_a_fee_is_sealed_when_the_payment_is_captured(
    client: Any, platform: Platform
) -> None:
    """Facility use costs 500 KRW: the citizen pays on the provider's page, the payments domain
    announces the capture, and only then is the document sealed and verifiable."""
    person = citizen(client, platform, "fee.payer")
    body = {"kind": "facility_use", "facility": "서울시립 체육관", "used_on": "2026-11-20"}
    requested = client.post("/api/v1/certificates/documents", json=body, headers=person.headers)
    assert requested.status_code == 201, requested.text
    number, pay_url = requested.json()["number"], requested.json()["pay_url"]
    assert requested.json()["state"] == "awaiting_payment"
    assert requested.json()["fee_krw"] == 500
    assert pay_url.startswith("/pay/")
    assert client.get(f"/api/v1/certificates/{number}/verify").json()["status"] == "unknown"
    unpaid = client.get(f"/api/v1/certificates/documents/{number}.pdf", headers=person.headers)
    assert unpaid.status_code == 409
    assert unpaid.json()["code"] == "awaiting_payment"
    assert client.get(pay_url).status_code == 200  # the provider's page (sets the CSRF cookie)
    paid = client.post(
        pay_url, data={"action": "pay", "csrf_token": client.cookies.get("ss_csrf")}, follow_redirects=False
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/services/documents/{number}/return"
    for _ in range(100):  # the capture event is handled on the bus, just after the redirect
        mine = client.get("/api/v1/certificates/documents", headers=person.headers).json()
        if mine[0]["state"] == "issued":
            break
        time.sleep(0.05)
    assert mine[0]["status"] == "valid"
    download = client.get(f"/api/v1/certificates/documents/{number}.pdf", headers=person.headers)
    assert download.status_code == 200
    assert standard_validation(download.content, pki.city_ca(platform.settings.data_dir).root).bottom_line
    assert client.get(f"/api/v1/certificates/{number}/verify").json()["status"] == "valid"


def test_a_capture_that_does_not_match_the_document_issues_nothing(db: Session, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    account = make_account(db, "fee.mismatch", ["citizen"])
    user = auth.get_user(db, account.username)
    assert user is not None
    form = {"facility": "체육관", "used_on": "2026-11-20"}
    document = service._new_document(db, settings, service.KINDS["facility_use"], user.id, "", form)
    document.payment_id = 77
    wrong = {"reference": f"certificate:{document.number}", "user_id": user.id, "payment_id": 77}
    assert service.on_payment_captured(db, settings, amount_krw=1, **wrong) is None
    assert service.on_payment_captured(db, settings, **{**wrong, "payment_id": 78}, amount_krw=500) is None
    assert document.state == "awaiting_payment"
    sealed = service.on_payment_captured(db, settings, amount_krw=500, **wrong)
    assert sealed is document
    assert document.state == "issued"
    assert document.pdf is not None
    assert service.on_payment_captured(db, settings, amount_krw=500, **wrong) is None  # redelivered


def _page_login(client: Any, platform: Platform, name: str) -> int:
    """A citizen signed in by the login form (the documents pages use the session cookie)."""
    account = make_account(platform.db, name, ["citizen"], mfa=False)
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": name, "password": account.password, "csrf_token": client.cookies.get("ss_csrf")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    with platform.db.session() as session:
        user = auth.get_user(session, name)
        assert user is not None
        return int(user.id)


def _with_csrf(client: Any, form: dict[str, str]) -> dict[str, str]:
    return {**form, "csrf_token": str(client.cookies.get("ss_csrf"))}


def test_back_from_the_payment_page_the_document_is_sealed_even_without_the_callback(
    client: Any, platform: Platform
) -> None:
    """The provider took the fee but its callback never reached us: coming back from its page is
    enough to finish the payment and seal the document (once); a cancelled payment says so."""
    from smartseoul.services.payments.models import Payment
    from smartseoul.services.payments.provider import provider_for

    user_id = _page_login(client, platform, "lost.callback")
    form = {"kind": "facility_use", "facility": "서울시립 체육관", "used_on": "2026-11-20"}
    requested = client.post(
        "/services/documents",
        data=_with_csrf(client, form),
        follow_redirects=False,
    )
    assert requested.status_code == 303, requested.text
    ref = requested.headers["location"].removeprefix("/pay/sim/")
    with platform.db.session() as session:
        provider_for(platform.settings).authorise(session, ref, approve=True)  # no callback sent
        number = service.documents_of(session, user_id)[0].number
    waiting = client.get(f"/services/documents?issued={number}")
    assert 'id="awaiting-notice"' in waiting.text
    assert f'href="/pay/sim/{ref}"' in waiting.text  # the fee can still be paid from here

    back = client.get(f"/services/documents/{number}/return", follow_redirects=False)
    assert back.headers["location"] == f"/services/documents?issued={number}"
    assert 'id="issued-notice"' in client.get(back.headers["location"]).text
    with platform.db.session() as session:
        payment = session.scalar(select(Payment).where(Payment.reference == f"certificate:{number}"))
        assert payment is not None
        assert payment.state == "captured"
        document = service.find(session, number)
        assert document is not None
        assert document.state == "issued"
        sealed = document.sha256
    client.get(f"/services/documents/{number}/return")  # again: nothing changes
    with platform.db.session() as session:
        again = service.find(session, number)
        assert again is not None
        assert again.sha256 == sealed

    requested = client.post(
        "/services/documents",
        data=_with_csrf(client, form),
        follow_redirects=False,
    )
    ref = requested.headers["location"].removeprefix("/pay/sim/")
    cancelled = client.post(
        requested.headers["location"],
        data={"action": "cancel", "csrf_token": client.cookies.get("ss_csrf")},
        follow_redirects=True,
    )
    assert 'id="stopped-notice"' in cancelled.text  # not "waiting": this payment will never come
    assert f'href="/pay/sim/{ref}"' not in cancelled.text


def test_a_facility_use_confirmation_states_the_booking_as_recorded(db: Session, tmp_path: Path) -> None:
    """From a booking of ours the facility and the day come from the reservation (what was typed
    does not count); another citizen's booking, or one not confirmed, is refused with the field."""
    from smartseoul.services.reservations import service as reservations
    from smartseoul.services.reservations.tests.helpers import citizen as resident
    from smartseoul.services.reservations.tests.helpers import facility, slots

    settings = make_settings(tmp_path)
    owner, other = resident(db, "use.owner"), resident(db, "use.other")
    hall = facility(db, name_ko="마포 체육관", name_en="Mapo gym")
    slot = slots(db, hall, hours=(9,))[0]
    booking = reservations.book(
        db, settings, user_id=owner, district=None, slot_id=slot.id, idempotency_key="b1"
    ).booking
    typed = {"booking": str(booking.id), "facility": "다른 곳", "used_on": "2000-01-01"}
    document = service._new_document(db, settings, service.KINDS["facility_use"], owner, "", typed)
    lines = dict(tuple(line) for line in document.details["lines"])
    assert lines["시설 Facility"] == "마포 체육관 (Mapo gym)"
    assert lines["이용일 Date of use"] == slot.starts_at.astimezone(service.SEOUL).date().isoformat()
    assert lines["예약번호 Booking"] == str(booking.id)

    with pytest.raises(service.DocumentError) as foreign:
        service._new_document(db, settings, service.KINDS["facility_use"], other, "", typed)
    assert (foreign.value.code, foreign.value.field) == ("unknown_booking", "booking")
    reservations.cancel(db, settings, booking.id, user_id=owner)
    with pytest.raises(service.DocumentError) as cancelled:
        service._new_document(db, settings, service.KINDS["facility_use"], owner, "", typed)
    assert (cancelled.value.code, cancelled.value.field) == ("booking_not_confirmed", "booking")
    elsewhere = {"booking": "KSPO-2026-17", "facility": "잠실 체육관", "used_on": "2026-11-20"}
    kept = service._new_document(db, settings, service.KINDS["facility_use"], owner, "", elsewhere)
    assert ["시설 Facility", "잠실 체육관"] in kept.details["lines"]


def test_a_double_click_on_request_opens_one_document_and_one_payment(
    client: Any, platform: Platform
) -> None:
    """The form carries a key drawn with the page: sent twice, it is one document and one fee."""
    from smartseoul.services.payments.models import Payment

    user_id = _page_login(client, platform, "double.click")
    form = {
        "kind": "facility_use",
        "facility": "서울시립 체육관",
        "used_on": "2026-11-20",
        "key": "Zx9-double-click-facility_use",
    }
    first = client.post("/services/documents", data=_with_csrf(client, form), follow_redirects=False)
    second = client.post("/services/documents", data=_with_csrf(client, form), follow_redirects=False)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == first.headers["location"]
    assert first.headers["location"].startswith("/pay/sim/")
    with platform.db.session() as session:
        assert len(service.documents_of(session, user_id)) == 1
        assert len(session.scalars(select(Payment).where(Payment.user_id == user_id)).all()) == 1
