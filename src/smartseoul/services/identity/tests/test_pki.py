"""The city test CA as a relying party checks it: real certificates, real refusals."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from smartseoul.core.db import utcnow
from smartseoul.services.identity import pki

MESSAGE = b"smartseoul-login:nonce"


@pytest.fixture(scope="module")
def ca() -> pki.CityCA:
    return pki.make_ca()


def citizen(ca: pki.CityCA, **kwargs: object) -> pki.IssuedCertificate:
    return pki.issue_citizen(ca, username="hong", display_name="홍길동", days=365, **kwargs)  # type: ignore[arg-type]


def test_a_fresh_citizen_certificate_passes_every_check(ca: pki.CityCA) -> None:
    issued = citizen(ca)
    pki.check_chain(ca, issued.certificate)
    pki.check_crl(ca, issued.certificate, pki.build_crl(ca, []))
    pki.check_signature(issued.certificate, MESSAGE, pki.sign_message(issued.key, MESSAGE))
    assert issued.certificate.issuer == ca.issuer.subject
    assert ca.issuer.issuer == ca.root.subject


def test_an_expired_certificate_is_refused_as_expired(ca: pki.CityCA) -> None:
    issued = pki.issue_citizen(
        ca, username="hong", display_name="홍길동", days=10, not_before=utcnow() - timedelta(days=30)
    )
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_chain(ca, issued.certificate)
    assert refused.value.code == "expired"


def test_a_certificate_of_a_foreign_ca_with_the_same_names_is_refused(ca: pki.CityCA) -> None:
    foreign = pki.make_ca()  # same subject names, other keys: a look-alike CA
    issued = citizen(foreign)
    assert issued.certificate.issuer == ca.issuer.subject
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_chain(ca, issued.certificate)
    assert refused.value.code == "unknown_issuer"


def test_a_revoked_certificate_is_refused_by_the_crl_and_only_that_one(ca: pki.CityCA) -> None:
    revoked, other = citizen(ca), citizen(ca)
    crl = pki.build_crl(ca, [(revoked.certificate.serial_number, utcnow())])
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_crl(ca, revoked.certificate, crl)
    assert refused.value.code == "revoked"
    pki.check_crl(ca, other.certificate, crl)


def test_a_crl_signed_by_another_ca_is_not_trusted(ca: pki.CityCA) -> None:
    forged = pki.build_crl(pki.make_ca(), [])
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_crl(ca, citizen(ca).certificate, forged)
    assert refused.value.code == "crl_invalid"


def test_a_signature_by_another_key_is_refused(ca: pki.CityCA) -> None:
    issued = citizen(ca)
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_signature(issued.certificate, MESSAGE, pki.sign_message(pki.new_key(), MESSAGE))
    assert refused.value.code == "bad_signature"
    with pytest.raises(pki.CertificateRefused):
        pki.check_signature(issued.certificate, b"another message", pki.sign_message(issued.key, MESSAGE))


def test_a_webcrypto_raw_signature_is_accepted(ca: pki.CityCA) -> None:
    """WebCrypto gives r||s (IEEE P1363), not DER: both must verify."""
    issued = citizen(ca)
    r, s = decode_dss_signature(issued.key.sign(MESSAGE, ec.ECDSA(hashes.SHA256())))
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    pki.check_signature(issued.certificate, MESSAGE, raw)


def test_a_ca_certificate_may_not_log_in(ca: pki.CityCA) -> None:
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_chain(ca, ca.issuer)
    assert refused.value.code in {"unknown_issuer", "key_usage"}
    with pytest.raises(pki.CertificateRefused) as malformed:
        pki.load_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert malformed.value.code == "malformed"


def test_the_ca_is_made_once_per_data_dir_and_reloaded(tmp_path: Path) -> None:
    first = pki.city_ca(tmp_path)
    assert (tmp_path / "pki" / "issuer.key").stat().st_mode & 0o077 == 0
    reloaded = pki.load_ca(pki.pki_dir(tmp_path))
    assert pki.fingerprint(reloaded.root) == pki.fingerprint(first.root)
    again, made = pki.init_ca(tmp_path)
    assert not made
    assert pki.fingerprint(again.issuer) == pki.fingerprint(first.issuer)


def test_the_pkcs12_file_opens_with_its_password(ca: pki.CityCA) -> None:
    issued = citizen(ca)
    key, cert, extra = pkcs12.load_key_and_certificates(
        issued.pkcs12("a-long-password", ca), b"a-long-password"
    )
    assert cert == issued.certificate
    assert len(extra) == 2
    assert key is not None
    with pytest.raises(ValueError, match=r"(?i)invalid password|mac|decrypt"):
        pkcs12.load_key_and_certificates(issued.pkcs12("a-long-password", ca), b"wrong-password")
