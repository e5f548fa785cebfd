"""Certificate documents sealed (PAdES) and checked per second; certificate logins checked per second.

Why: a certificate must come back while the citizen waits on a phone, and at peak (tax season,
school enrolment) a district issues thousands an hour; every certificate login checks a chain, a
CRL and a signature. One core, in process, no database (what these cost is CPU).

Reported:

- ``render_per_s``: one-page Korean document drawn (reportlab, QR code), unsigned: the baseline;
- ``sealed_per_s``: drawn and sealed with the city's PAdES signature (pyHanko, ECDSA P-256);
- ``ratio_sealed_over_render``: what the seal costs relative to drawing alone;
- ``check_per_s``: sealed documents validated against the city root (intact, trusted, whole file);
- ``login_checks_per_s``: certificate logins checked (chain to the root, dates, key usage, a CRL
  of 1,000 revoked serials, the ECDSA signature over the challenge);
- ``ecdsa_verify_per_s``: the baseline, one bare ECDSA P-256 verification;
- ``ratio_login_over_ecdsa``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


def _rate(action: Callable[[int], object], seconds: float, minimum: int = 3) -> float:
    """Calls per second of ``action(i)`` over at least ``seconds`` and ``minimum`` calls."""
    done, start = 0, time.perf_counter()
    while done < minimum or time.perf_counter() - start < seconds:
        action(done)
        done += 1
    return done / (time.perf_counter() - start)


def run(quick: bool = False) -> dict[str, float]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from smartseoul.core.db import utcnow
    from smartseoul.services.certificates import pdf, service
    from smartseoul.services.identity import pki

    seconds = 0.5 if quick else 3.0
    ca = pki.make_ca()
    now = utcnow()

    def content(index: int) -> pdf.DocumentContent:
        number = service.new_number(2026)
        lines = [("재산세 Property tax", f"{120_000 + index:,}원 납부 paid"), ("체납액 Arrears", "없음 none")]
        url = f"https://smart.seoul.go.kr/verify/{number}"
        return pdf.DocumentContent(
            number, "지방세 납세증명서", "Certificate of local tax payment", "김서울", lines, now, url
        )

    pdf.render_pdf(content(0))  # fonts registered outside the timing
    with err.status("drawing and sealing documents"):
        render = _rate(lambda i: pdf.render_pdf(content(i)), seconds)
        sealed_docs: list[bytes] = []
        sealed = _rate(lambda i: sealed_docs.append(pdf.seal(pdf.render_pdf(content(i)), ca)), seconds)
        check = _rate(lambda i: pdf.check_seal(sealed_docs[i % len(sealed_docs)], ca), seconds)
    err.print(
        f"documents: {render:.1f} drawn/s, {sealed:.1f} sealed/s, {check:.1f} checked/s", highlight=False
    )

    citizen = pki.issue_citizen(ca, username="bench", display_name="벤치", days=365)
    revoked = [(1_000_000 + i, now - timedelta(days=1)) for i in range(1000)]
    crl = pki.build_crl(ca, revoked)
    message = b"smartseoul-login:bench-nonce"
    signature = pki.sign_message(citizen.key, message)

    def login_check(_: int) -> None:
        pki.check_chain(ca, citizen.certificate)
        pki.check_crl(ca, citizen.certificate, crl)
        pki.check_signature(citizen.certificate, message, signature)

    public_key = citizen.key.public_key()
    der = pki.decode_signature(signature)
    with err.status("checking certificate logins"):
        logins = _rate(login_check, seconds, minimum=20)
        ecdsa = _rate(
            lambda _: public_key.verify(der, message, ec.ECDSA(hashes.SHA256())), seconds, minimum=20
        )
    err.print(f"logins: {logins:.0f} checked/s, bare ECDSA {ecdsa:.0f}/s", highlight=False)
    return {
        "render_per_s": round(render, 2),
        "sealed_per_s": round(sealed, 2),
        "ratio_sealed_over_render": round(sealed / render, 4),
        "check_per_s": round(check, 2),
        "login_checks_per_s": round(logins, 1),
        "ecdsa_verify_per_s": round(ecdsa, 1),
        "ratio_login_over_ecdsa": round(logins / ecdsa, 4),
    }
