"""A certificate document as PDF, sealed by the city with a PAdES signature, and its checking.

The PDF is drawn with reportlab (Korean in the CID font every reader has, as the CCTV report
does), carries its verification number in text, in a QR code to ``/verify/{number}`` and in the
document information, and is then signed with pyHanko (PAdES baseline B, SHA-256) by the
document-signing key the city CA certified. Checking a PDF validates that signature against the
city root and requires it to cover the whole file: any edit, or an appended revision, fails.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import qrcode
import qrcode.constants
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas as pdf_canvas

from smartseoul.services.identity.pki import CityCA

KOREAN_FONT = "HYSMyeongJo-Medium"  # the same CID font as the CCTV report: Hangul without a font file
SEOUL = ZoneInfo("Asia/Seoul")
FIELD = "CitySeal"
T = TypeVar("T")


@dataclass(frozen=True)
class DocumentContent:
    """What is printed: the title in both languages and (label, value) lines."""

    number: str
    title_ko: str
    title_en: str
    holder: str
    lines: list[tuple[str, str]]
    issued_at: datetime
    verify_url: str


def _font() -> str:
    if KOREAN_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(KOREAN_FONT))
    return KOREAN_FONT


def _qr(canvas: pdf_canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as filled squares (the ``qrcode`` matrix; reportlab's own widget is ten times slower)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    path = canvas.beginPath()
    for row, modules in enumerate(matrix):
        for column, dark in enumerate(modules):
            if dark:
                path.rect(x + column * cell, y + size - (row + 1) * cell, cell, cell)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, fill=1, stroke=0)


def render_pdf(content: DocumentContent) -> bytes:
    """The unsigned document (one A4 page)."""
    font = _font()
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{content.title_ko} ({content.number})")
    canvas.setSubject(content.number)
    canvas.setAuthor("서울특별시 Seoul Metropolitan Government")
    canvas.setKeywords(f"verification-number:{content.number}")
    width, height = A4
    canvas.setFont(font, 22)
    canvas.drawCentredString(width / 2, height - 90, content.title_ko)
    canvas.setFont(font, 12)
    canvas.drawCentredString(width / 2, height - 112, content.title_en)
    canvas.setFont(font, 11)
    canvas.drawString(60, height - 160, f"발급번호 Verification number: {content.number}")
    canvas.drawString(60, height - 180, f"성명 Holder: {content.holder}")
    y = height - 220
    for label, value in content.lines:
        canvas.drawString(60, y, f"{label}")
        canvas.drawString(260, y, value)
        y -= 20
    issued = content.issued_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M KST")
    canvas.drawString(60, y - 20, f"발급일시 Issued: {issued}")
    canvas.drawString(60, 150, "위 사실을 증명합니다. This is to certify the above.")
    canvas.setFont(font, 16)
    canvas.drawString(60, 120, "서울특별시장 Mayor of Seoul")
    canvas.setFont(font, 9)
    canvas.drawString(60, 80, f"진위확인 Verify: {content.verify_url}")
    canvas.drawString(60, 66, "전자서명(PAdES)으로 봉인됨 · Sealed with the city's PAdES digital signature")
    _qr(canvas, content.verify_url, width - 170, 60, 110)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _signer(ca: CityCA) -> signers.SimpleSigner:
    der = serialization.Encoding.DER
    key = ca.signer_key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    chain = [asn1_x509.Certificate.load(cert.public_bytes(der)) for cert in (ca.issuer, ca.root)]
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(ca.signer.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
    )


def _off_the_loop(function: Callable[[], T]) -> T:
    """Run ``function`` here, or in a worker thread when this thread runs an event loop: pyHanko's
    blocking calls use ``asyncio.run``, which refuses to run inside a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def seal(unsigned: bytes, ca: CityCA, *, reason: str = "Seoul Metropolitan Government certificate") -> bytes:
    """PAdES-sign ``unsigned`` with the city's document-signing key."""
    return _off_the_loop(lambda: _seal(unsigned, ca, reason))


def _seal(unsigned: bytes, ca: CityCA, reason: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location="Seoul, KR",
        name="Seoul Metropolitan Government",
    )
    output = signers.sign_pdf(writer, meta, signer=_signer(ca))
    return bytes(output.getvalue())


@dataclass(frozen=True)
class SealCheck:
    """What a validator says of a PDF: ``ok`` only if intact, trusted and covering the whole file."""

    ok: bool
    intact: bool
    trusted: bool
    whole_file: bool
    signer: str
    number: str
    problem: str


def read_number(data: bytes) -> str:
    """The verification number the document carries in its information dictionary ("" if none)."""
    try:
        info = PdfFileReader(io.BytesIO(data), strict=False).trailer_view.get("/Info")
        subject = info.get_object().get("/Subject") if info is not None else None
        return str(subject or "")[:32]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
        return ""


def check_seal(data: bytes, ca: CityCA) -> SealCheck:
    """Validate the city seal of ``data`` against the city root (no network: the root is the anchor)."""
    number = read_number(data)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError):
        return SealCheck(False, False, False, False, "", number, "not a readable PDF")
    if not signatures:
        return SealCheck(False, False, False, False, "", number, "the PDF carries no signature")
    root = asn1_x509.Certificate.load(ca.root.public_bytes(serialization.Encoding.DER))
    context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = _off_the_loop(lambda: validate_pdf_signature(signatures[-1], context))
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        return SealCheck(False, False, False, False, "", number, f"the signature cannot be read: {error}")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE" and len(signatures) == 1
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else ""
    problem = ""
    if not status.intact:
        problem = "the document was changed after it was signed"
    elif not status.valid:
        problem = "the signature does not verify"
    elif not status.trusted:
        problem = "the signer is not certified by the Seoul city root"
    elif not whole:
        problem = "the signature does not cover the whole file (something was added after signing)"
    ok = status.intact and status.valid and status.trusted and whole
    return SealCheck(ok, bool(status.intact), bool(status.trusted), whole, signer, number, problem)
