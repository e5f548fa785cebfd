"""Issuing, verifying and revoking city certificate documents.

A document kind names the catalogue service it is (``CERT-LOCALTAX``...): the catalogue decides
the assurance every step needs, so staff raising a service to "certificate" takes effect at once.
A verification number is ``SS-YYYY-NNNN-NNNN-NNNC`` (twelve random digits and a Luhn check digit),
which a counter clerk can read over the phone and a typo is caught before any lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.models import User
from smartseoul.core.settings import Settings
from smartseoul.services.catalog import service as catalog
from smartseoul.services.certificates import pdf
from smartseoul.services.certificates.models import IssuedDocument
from smartseoul.services.identity import pki

NUMBER = re.compile(r"^SS-\d{4}-\d{4}-\d{4}-\d{4}$")
STAFF = ("district_staff", "admin")
SEOUL = ZoneInfo("Asia/Seoul")
BOOKING_ID = re.compile(r"^\d{1,10}$")
USED_STATES = ("confirmed", "attended")  # a booking a facility use confirmation may name
STOPPED_PAYMENTS = ("failed", "cancelled")  # the fee will never come: the document is not issued


@dataclass(frozen=True)
class Kind:
    key: str
    service_code: str
    title_ko: str
    title_en: str
    default_assurance: str
    fee_krw: int


KINDS = {
    kind.key: kind
    for kind in (
        Kind(
            "local_tax",
            "CERT-LOCALTAX",
            "지방세 납세증명서",
            "Certificate of local tax payment",
            "certificate",
            0,
        ),
        Kind(
            "resident",
            "CERT-RESIDENT",
            "주민등록표 등본",
            "Resident registration certificate",
            "certificate",
            0,
        ),
        Kind(
            "facility_use",
            "CERT-FACILITY",
            "공공시설 이용확인서",
            "Public facility use confirmation",
            "login",
            500,
        ),
    )
}


class DocumentError(Exception):
    def __init__(self, status: int, code: str, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def kind_of(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise DocumentError(422, "unknown_kind", f"kind: one of {', '.join(KINDS)}", "kind")
    return kind


def needed_assurance(session: Session, key: str) -> str:
    """What the catalogue says this kind of document needs (its default if not catalogued)."""
    kind = kind_of(key)
    return catalog.assurance_of(session, kind.service_code, kind.default_assurance)


def fee_of(session: Session, key: str) -> int:
    """The fee in KRW the catalogue sets for this kind of document (its default if not catalogued)."""
    kind = kind_of(key)
    return catalog.fee_of(session, kind.service_code, kind.fee_krw)


def luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_number(year: int) -> str:
    body = f"{secrets.randbelow(10**11):011d}"
    digits = f"{year:04d}{body}"
    full = digits + luhn_digit(digits)
    return f"SS-{full[:4]}-{full[4:8]}-{full[8:12]}-{full[12:]}"


def well_formed(number: str) -> bool:
    if not NUMBER.match(number):
        return False
    digits = number[3:].replace("-", "")
    return luhn_digit(digits[:-1]) == digits[-1]


def mask_name(name: str) -> str:
    """Enough of the holder's name for a verifier to match the paper (홍*동, J*** K**)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ---------------------------------------------------------------- contents


def _tax_lines(user: User, year: int) -> list[tuple[str, str]]:
    """The demo's tax record: what the local tax office would return for this citizen (derived
    from the account, stable across requests, no arrears: a certificate is issued only then)."""
    seed = int(hashlib.sha256(user.username.encode()).hexdigest()[:8], 16)
    property_tax = 80_000 + seed % 400 * 1_000
    resident_tax = 6_000 + seed % 5 * 1_000
    car_tax = 0 if seed % 3 == 0 else 130_000 + seed % 200 * 1_000
    lines = [
        ("과세연도 Tax year", str(year - 1)),
        ("재산세 Property tax", f"{property_tax:,}원 납부 paid"),
        ("주민세 Resident tax", f"{resident_tax:,}원 납부 paid"),
    ]
    if car_tax:
        lines.append(("자동차세 Car tax", f"{car_tax:,}원 납부 paid"))
    lines.append(("체납액 Arrears", "없음 none"))
    return lines


def _resident_lines(session: Session, user: User) -> list[tuple[str, str]]:
    from smartseoul.city.models import District

    district = session.get(District, user.district_code) if user.district_code else None
    where = f"서울특별시 {district.name_ko} ({district.name_en})" if district else "서울특별시 Seoul"
    return [
        ("주소 Address", where),
        ("세대주 Head of household", user.display_name),
        ("구분 Type", "등본 full copy"),
    ]


def _facility_lines(details: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("시설 Facility", details["facility"]),
        ("이용일 Date of use", details["used_on"]),
        ("예약번호 Booking", details.get("booking") or "-"),
    ]


def booked_use(session: Session, user_id: int, booking: str) -> dict[str, str] | None:
    """What the reservations domain recorded for the citizen's own booking ``booking`` (a number of
    this platform): the facility, the day of use in Seoul, the number. None for text that is not
    one of our booking numbers (a booking made elsewhere, typed by hand); a number that is ours
    but not this citizen's confirmed or attended booking is refused, so a confirmation never
    names a booking the city cannot stand behind."""
    if not BOOKING_ID.match(booking):
        return None
    from smartseoul.services.reservations.models import Booking, Facility, Slot

    row = session.get(Booking, int(booking))
    if row is None or row.user_id != user_id:
        raise DocumentError(404, "unknown_booking", f"booking: you have no booking {booking}", "booking")
    if row.state not in USED_STATES:
        detail = f"booking: booking {booking} is {row.state}, not confirmed"
        raise DocumentError(409, "booking_not_confirmed", detail, "booking")
    slot, facility = session.get(Slot, row.slot_id), session.get(Facility, row.facility_id)
    if slot is None or facility is None:
        raise DocumentError(404, "unknown_booking", f"booking: you have no booking {booking}", "booking")
    return {
        "facility": f"{facility.name_ko} ({facility.name_en})",
        "used_on": slot.starts_at.astimezone(SEOUL).date().isoformat(),
        "booking": str(row.id),
    }


def _facility_details(session: Session, user: User, form: dict[str, str]) -> list[tuple[str, str]]:
    """A facility use confirmation: from the citizen's booking when it names one of ours (the
    recorded facility and day win over what was typed), else from the form as given."""
    booking = form.get("booking", "").strip()[:40]
    recorded = booked_use(session, user.id, booking)
    if recorded is not None:
        return _facility_lines(recorded)
    facility, used_on = form.get("facility", "").strip(), form.get("used_on", "").strip()
    if not 2 <= len(facility) <= 100:
        raise DocumentError(
            422, "invalid_facility", "facility: the facility used (2-100 characters)", "facility"
        )
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", used_on):
        raise DocumentError(422, "invalid_date", "used_on: the date of use as YYYY-MM-DD", "used_on")
    return _facility_lines({"facility": facility, "used_on": used_on, "booking": booking})


def _details(
    session: Session, kind: Kind, user: User, form: dict[str, str], year: int
) -> list[tuple[str, str]]:
    if kind.key == "local_tax":
        return _tax_lines(user, year)
    if kind.key == "resident":
        return _resident_lines(session, user)
    return _facility_details(session, user, form)


# ---------------------------------------------------------------- issue


@dataclass(frozen=True)
class Requested:
    """A requested document: issued at once (free) or waiting for its fee at ``pay_url``."""

    document: IssuedDocument
    pay_url: str | None = None


def request(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    kind_key: str,
    purpose: str,
    form: dict[str, str],
    client: str = "",
    request_key: str = "",
) -> Requested:
    """A citizen asks for a document (assurance checked by the caller). A free one is drawn and
    sealed now; one with a fee opens a payment (payments domain) and is sealed when the fee is
    captured. ``request_key`` (drawn with the page's form) makes a double click, or a request
    sent again, the same document and the same payment, never a second fee."""
    kind = kind_of(kind_key)
    key = _payment_key(request_key)
    if key:
        earlier = _requested_before(session, user_id, key)
        if earlier is not None:
            return earlier
    from smartseoul.services.payments import service as payments

    try:
        with session.begin_nested():  # undone alone if a concurrent twin of this request won
            document = _new_document(session, settings, kind, user_id, purpose, form)
            _record_request(session, document, client)
            if document.fee_krw == 0:
                _seal(session, settings, document)
                return Requested(document)
            payment = payments.start_payment(
                session,
                settings,
                user_id=user_id,
                amount_krw=document.fee_krw,
                purpose=f"{kind.title_ko} 발급 수수료",
                reference=f"certificate:{document.number}",
                idempotency_key=key or f"certificate:{document.number}",
                return_url=return_path(document.number),
            )
            document.payment_id = payment.id
            session.flush()
    except payments.PaymentError as error:
        twin = _requested_before(session, user_id, key) if key else None
        if error.code == "idempotency_key_reused" and twin is not None:
            return twin
        raise DocumentError(502, "payment_unavailable", f"the payment could not be opened: {error}") from None
    return Requested(document, payment.redirect_url)


def _payment_key(request_key: str) -> str:
    """The payment's idempotency key for a form's request key ("" when there is none)."""
    cleaned = request_key.strip()[:60]
    return f"certificate-request:{cleaned}" if re.fullmatch(r"[A-Za-z0-9_-]{8,60}", cleaned) else ""


def _requested_before(session: Session, user_id: int, key: str) -> Requested | None:
    """The document an earlier request with this key opened a payment for, if any."""
    from smartseoul.services.payments.models import Payment
    from smartseoul.services.payments.service import OPEN_STATES

    payment = session.scalar(
        select(Payment).where(Payment.user_id == user_id, Payment.idempotency_key == key)
    )
    if payment is None or not payment.reference.startswith("certificate:"):
        return None
    document = find(session, payment.reference.removeprefix("certificate:"))
    if document is None or document.user_id != user_id:
        return None
    still_open = document.state == "awaiting_payment" and payment.state in OPEN_STATES
    return Requested(document, payment.redirect_url if still_open else None)


def _record_request(session: Session, document: IssuedDocument, client: str) -> None:
    audit.record(
        session,
        actor=_username(session, document.user_id),
        action="certificates.request",
        target=f"document:{document.number}",
        client=client,
        details={"kind": document.kind, "fee_krw": document.fee_krw},
    )


def return_path(number: str) -> str:
    """Where the payment page sends the citizen back: it seals at once if the fee was captured."""
    return f"/services/documents/{number}/return"


def issue(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    kind_key: str,
    purpose: str,
    form: dict[str, str],
    client: str = "",
) -> IssuedDocument:
    """Draw, seal and store a document now, whatever its fee (the demo seed; a counter clerk who
    took the fee in cash). Citizens go through :func:`request`."""
    kind = kind_of(kind_key)
    document = _new_document(session, settings, kind, user_id, purpose, form)
    _seal(session, settings, document)
    audit.record(
        session,
        actor=_username(session, user_id),
        action="certificates.issue",
        target=f"document:{document.number}",
        client=client,
        details={"kind": kind.key},
    )
    return document


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.username if user is not None else "-"


def _new_document(
    session: Session, settings: Settings, kind: Kind, user_id: int, purpose: str, form: dict[str, str]
) -> IssuedDocument:
    user = session.get(User, user_id)
    if user is None:
        raise DocumentError(404, "unknown_user", "no such citizen", "user")
    if len(purpose) > 200:
        raise DocumentError(422, "invalid_purpose", "purpose: at most 200 characters", "purpose")
    now = utcnow()
    lines = _details(session, kind, user, form, now.year)
    if purpose:
        lines.append(("용도 Purpose", purpose))
    fee = fee_of(session, kind.key)
    document = IssuedDocument(
        number=new_number(now.year),
        kind=kind.key,
        user_id=user.id,
        holder_name=user.display_name,
        purpose=purpose,
        details={"lines": [list(line) for line in lines]},
        fee_krw=fee,
        state="awaiting_payment" if fee else "issued",
        issued_at=now,
        revoked_by="",
        revoke_reason="",
    )
    session.add(document)
    session.flush()
    return document


def _seal(session: Session, settings: Settings, document: IssuedDocument) -> bool:
    """Draw the document as recorded, seal it with the city's key and keep the exact bytes.

    A paid document is stored by a conditional UPDATE from ``awaiting_payment``: the capture event
    and the citizen coming back from the payment page may seal it at the same moment, and only one
    sealed file may be kept (the other would make a PDF already downloaded read as tampered).
    True when this call's file is the one kept.
    """
    kind = KINDS[document.kind]
    lines = [(str(label), str(value)) for label, value in document.details.get("lines", [])]
    verify_url = f"{settings.certificates_public_url.rstrip('/')}/verify/{document.number}"
    issued_at = utcnow()
    content = pdf.DocumentContent(
        document.number,
        kind.title_ko,
        kind.title_en,
        document.holder_name,
        lines,
        issued_at,
        verify_url,
    )
    sealed = pdf.seal(pdf.render_pdf(content), pki.city_ca(settings.data_dir))
    digest = hashlib.sha256(sealed).hexdigest()
    if document.state == "issued" and document.pdf is None:  # a free one, drawn in this transaction
        document.pdf, document.sha256, document.issued_at = sealed, digest, issued_at
        session.flush()
        return True
    won = cast(
        CursorResult[Any],
        session.execute(
            update(IssuedDocument)
            .where(IssuedDocument.id == document.id, IssuedDocument.state == "awaiting_payment")
            .values(pdf=sealed, sha256=digest, state="issued", issued_at=issued_at)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.refresh(document)
    return bool(won)


def on_payment_captured(
    session: Session, settings: Settings, *, reference: str, amount_krw: int, user_id: int, payment_id: int
) -> IssuedDocument | None:
    """Seal a document whose fee was captured. Anything that does not match exactly (another
    domain's reference, a wrong amount or payer, a document already issued) is ignored, and a
    redelivered event changes nothing."""
    if not reference.startswith("certificate:"):
        return None
    document = find(session, reference.removeprefix("certificate:"))
    if document is None or document.state != "awaiting_payment":
        return None
    if document.user_id != user_id or document.fee_krw != amount_krw or document.payment_id != payment_id:
        audit.record(
            session,
            actor="payments",
            action="certificates.payment.mismatch",
            target=f"document:{document.number}",
            outcome="denied",
            details={"amount_krw": amount_krw, "user_id": user_id, "payment_id": payment_id},
        )
        return None
    if not _seal(session, settings, document):
        return None  # sealed meanwhile by the other path (the event, or the citizen's return)
    audit.record(
        session,
        actor="payments",
        action="certificates.issue",
        target=f"document:{document.number}",
        details={"payment_id": payment_id},
    )
    return document


def sync_payment(session: Session, settings: Settings, document: IssuedDocument) -> list[Event]:
    """The citizen is back from the payment page: seal now if the fee was captured, without
    waiting for the bus, and ask the provider about a payment whose callback never came. The
    events returned (a capture found this way) are published by the caller after its commit."""
    if document.state != "awaiting_payment" or document.payment_id is None:
        return []
    from smartseoul.services.payments import service as payments

    payment = payments.get_payment(session, document.payment_id)
    events = payments.ask_provider_now(session, settings, payment)
    if payment.state == "captured":
        on_payment_captured(
            session,
            settings,
            reference=payment.reference,
            amount_krw=payment.amount_krw,
            user_id=payment.user_id,
            payment_id=payment.id,
        )
    return events


def payment_links(session: Session, documents: list[IssuedDocument]) -> dict[str, str]:
    """Per document waiting for its fee: the payment page while the payment is open, or "" when
    the citizen cancelled or the provider declined (the document will not be issued). A fee
    already captured and about to be sealed has no entry: it is simply waiting."""
    from smartseoul.services.payments.models import Payment
    from smartseoul.services.payments.service import OPEN_STATES

    links: dict[str, str] = {}
    for document in documents:
        if document.state != "awaiting_payment" or document.payment_id is None:
            continue
        payment = session.get(Payment, document.payment_id)
        if payment is None:
            continue
        if payment.state in OPEN_STATES and payment.redirect_url:
            links[document.number] = payment.redirect_url
        elif payment.state in STOPPED_PAYMENTS:
            links[document.number] = ""
    return links


def documents_of(session: Session, user_id: int) -> list[IssuedDocument]:
    query = select(IssuedDocument).where(IssuedDocument.user_id == user_id)
    return list(session.scalars(query.order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())))


def find(session: Session, number: str, *, issued_only: bool = False) -> IssuedDocument | None:
    """The document of ``number``; with ``issued_only``, None while it waits for its fee."""
    if not well_formed(number):
        return None
    document = session.scalar(select(IssuedDocument).where(IssuedDocument.number == number))
    if issued_only and document is not None and document.state != "issued":
        return None
    return document


def document_for_owner(
    session: Session, number: str, user_id: int, *, actor: str, client: str = ""
) -> IssuedDocument:
    """The citizen's own document (its PDF is personal data: the read is audited)."""
    document = find(session, number)
    if document is None or document.user_id != user_id:
        raise DocumentError(404, "unknown_document", f"no document {number} of yours", "number")
    if document.state != "issued" or document.pdf is None:
        raise DocumentError(409, "awaiting_payment", "the fee of this document is not paid yet", "number")
    audit.record(
        session, actor=actor, action="certificates.document.read", target=f"document:{number}", client=client
    )
    return document


def status_of(document: IssuedDocument) -> str:
    if document.state != "issued":
        return document.state
    return "revoked" if document.revoked_at else "valid"


def document_dict(document: IssuedDocument) -> dict[str, Any]:
    kind = KINDS[document.kind]
    return {
        "number": document.number,
        "kind": document.kind,
        "title_ko": kind.title_ko,
        "title_en": kind.title_en,
        "holder": document.holder_name,
        "purpose": document.purpose,
        "fee_krw": document.fee_krw,
        "issued_at": document.issued_at.isoformat(),
        "state": document.state,
        "status": status_of(document),
        "revoked_at": document.revoked_at.isoformat() if document.revoked_at else None,
        "sha256": document.sha256,
        "download": f"/api/v1/certificates/documents/{document.number}.pdf",
        "verify": f"/verify/{document.number}",
    }


# ---------------------------------------------------------------- verify and revoke


def verification(session: Session, number: str, *, client: str = "") -> dict[str, Any]:
    """What anyone may learn of a number: valid, revoked or unknown, with the kind, the date and a
    masked holder name (the lookup is recorded: it touches a person's document)."""
    document = find(session, number, issued_only=True)
    if document is None:
        return {"number": number, "status": "unknown"}
    audit.record(session, actor="-", action="certificates.verify", target=f"document:{number}", client=client)
    kind = KINDS[document.kind]
    return {
        "number": number,
        "status": "revoked" if document.revoked_at else "valid",
        "kind": document.kind,
        "title_ko": kind.title_ko,
        "title_en": kind.title_en,
        "holder": mask_name(document.holder_name),
        "issued_at": document.issued_at.isoformat(),
        "revoked_at": document.revoked_at.isoformat() if document.revoked_at else None,
        "revoke_reason": document.revoke_reason if document.revoked_at else "",
        "sha256": document.sha256,
    }


def check_upload(session: Session, settings: Settings, data: bytes, *, client: str = "") -> dict[str, Any]:
    """Check a presented PDF: the city seal must validate and the bytes must be exactly the ones
    issued under the number it carries. Status: valid, revoked, tampered or unknown."""
    seal = pdf.check_seal(data, pki.city_ca(settings.data_dir))
    digest = hashlib.sha256(data).hexdigest()
    document = session.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == digest))
    number = document.number if document is not None else seal.number
    result: dict[str, Any] = {
        "number": number,
        "signature": {
            "valid": seal.ok,
            "intact": seal.intact,
            "trusted": seal.trusted,
            "whole_file": seal.whole_file,
            "signer": seal.signer,
        },
        "problem": seal.problem,
    }
    if document is None:
        known = find(session, seal.number, issued_only=True) if seal.number else None
        result["status"] = "tampered" if known is not None or (seal.number and not seal.ok) else "unknown"
        if known is not None and not result["problem"]:
            result["problem"] = "the file differs from the document issued under this number"
        elif result["status"] == "unknown" and not result["problem"]:
            result["problem"] = "no document was issued with these contents"
        return result
    if not seal.ok:
        result["status"] = "tampered"
        return result
    audit.record(
        session,
        actor="-",
        action="certificates.verify",
        target=f"document:{number}",
        client=client,
        details={"by": "upload"},
    )
    result["status"] = "revoked" if document.revoked_at else "valid"
    return result


def revoke(session: Session, number: str, *, actor: str, reason: str) -> IssuedDocument:
    document = find(session, number)
    if document is None:
        raise DocumentError(404, "unknown_document", f"no document {number}", "number")
    if not reason.strip():
        raise DocumentError(422, "reason_required", "reason: say why the document is revoked", "reason")
    if document.revoked_at is None:
        document.revoked_at, document.revoked_by, document.revoke_reason = (
            utcnow(),
            actor,
            reason.strip()[:200],
        )
        audit.record(
            session, actor=actor, action="certificates.revoke", target=f"document:{number}", reason=reason
        )
    return document


def recent(session: Session, limit: int = 50) -> list[IssuedDocument]:
    return list(session.scalars(select(IssuedDocument).order_by(IssuedDocument.id.desc()).limit(limit)))
