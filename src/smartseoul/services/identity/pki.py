"""The city's test PKI: a root CA, the issuing "Seoul City CA", a document-signing key, a CRL.

Everything is real X.509 (``cryptography``): a citizen certificate is checked the way a relying
party checks a 공동인증서 (chain to the city root, validity dates, key usage, the CA's CRL), and
the city's seal on issued documents is a PAdES signature by a key this CA certified, so a standard
validator that trusts the city root accepts it.

The CA lives under ``DATA_DIR/pki`` and is made on first use (or by ``smartseoul pki init``).
Keys are ECDSA P-256: fast to make and to sign, and WebCrypto in every browser can sign with them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smartseoul.core.db import utcnow

ROOT_NAME = "Seoul Metropolitan Government Root CA (test)"
ISSUER_NAME = "Seoul City CA"
SIGNER_NAME = "Seoul Metropolitan Government Document Seal"
_lock = threading.Lock()
_loaded: dict[Path, CityCA] = {}


class CertificateRefused(Exception):
    """A certificate or signature a relying party must not accept; ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class CityCA:
    """The loaded CA: certificates and the keys the platform signs with."""

    root: x509.Certificate
    issuer: x509.Certificate
    issuer_key: ec.EllipticCurvePrivateKey
    signer: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey

    def chain_pem(self) -> bytes:
        """The issuing CA then the root, what a client needs next to its own certificate."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.issuer, self.root))


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def serial_hex(self) -> str:
        return serial_hex(self.certificate)

    def pem_bundle(self) -> bytes:
        """Certificate and unencrypted PKCS#8 key in one PEM file, for WebCrypto in the browser."""
        key = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return self.certificate.public_bytes(serialization.Encoding.PEM) + key

    def pkcs12(self, password: str, ca: CityCA) -> bytes:
        """A password-protected PKCS#12 file (what an operating system or a card reader imports)."""
        return pkcs12.serialize_key_and_certificates(
            b"citizen",
            self.key,
            self.certificate,
            [ca.issuer, ca.root],
            serialization.BestAvailableEncryption(password.encode()),
        )


def serial_hex(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, unit: str = "") -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Seoul Metropolitan Government"),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_usage() -> x509.KeyUsage:
    """digitalSignature + nonRepudiation: what a signature that binds a person (or the city) needs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def make_ca(now: datetime | None = None, *, root_name: str = ROOT_NAME) -> CityCA:
    """A fresh root, issuing CA and document-signing certificate (also used by tests for a
    *foreign* CA: same names, different keys, which a relying party must refuse)."""
    now = now or utcnow()
    root_key, issuer_key, signer_key = new_key(), new_key(), new_key()
    root_subject = _name(root_name)
    root = (
        _builder(
            root_subject,
            root_subject,
            root_key.public_key(),
            now - timedelta(days=1),
            now + timedelta(days=7300),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    issuer_subject = _name(ISSUER_NAME, "Smart Seoul")
    issuer = (
        _builder(
            issuer_subject,
            root_subject,
            issuer_key.public_key(),
            now - timedelta(days=1),
            now + timedelta(days=3650),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(_aki(root), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer = (
        _builder(
            _name(SIGNER_NAME, "Civil Services"),
            issuer_subject,
            signer_key.public_key(),
            now - timedelta(days=1),
            now + timedelta(days=1825),
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_usage(), critical=True)
        .add_extension(_aki(issuer), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return CityCA(root, issuer, issuer_key, signer, signer_key)


# ---------------------------------------------------------------- on disk

FILES = ("root.pem", "issuer.pem", "issuer.key", "signer.pem", "signer.key")


def pki_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "pki"


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only (a key file)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def save_ca(ca: CityCA, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    plain = (serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(directory / "issuer.key", ca.issuer_key.private_bytes(pem, *plain))
    _write_private(directory / "signer.key", ca.signer_key.private_bytes(pem, *plain))
    for name, cert in (("issuer.pem", ca.issuer), ("signer.pem", ca.signer), ("root.pem", ca.root)):
        _write_private(directory / name, cert.public_bytes(pem))


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_ca(directory: Path) -> CityCA:
    return CityCA(
        _load_cert(directory / "root.pem"),
        _load_cert(directory / "issuer.pem"),
        _load_key(directory / "issuer.key"),
        _load_cert(directory / "signer.pem"),
        _load_key(directory / "signer.key"),
    )


def city_ca(data_dir: Path) -> CityCA:
    """The city CA of this data directory, made on first use and then cached."""
    directory = pki_dir(data_dir).resolve()
    with _lock:
        found = _loaded.get(directory)
        if found is None:
            if all((directory / name).exists() for name in FILES):
                found = load_ca(directory)
            else:
                found = make_ca()
                save_ca(found, directory)
            _loaded[directory] = found
        return found


def init_ca(data_dir: Path, *, force: bool = False) -> tuple[CityCA, bool]:
    """Make the CA unless one exists (``force`` replaces it); returns it and whether it is new."""
    directory = pki_dir(data_dir).resolve()
    with _lock:
        if not force and all((directory / name).exists() for name in FILES):
            ca = load_ca(directory)
            _loaded[directory] = ca
            return ca, False
        ca = make_ca()
        save_ca(ca, directory)
        _loaded[directory] = ca
        return ca, True


# ---------------------------------------------------------------- citizens


def issue_citizen(
    ca: CityCA,
    *,
    username: str,
    display_name: str,
    days: int,
    not_before: datetime | None = None,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> IssuedCertificate:
    """A citizen certificate with a fresh key (the demo hands both over once, like a 공동인증서
    saved to the device). ``not_before``/``issuer`` exist so tests can make expired or foreign ones."""
    start = not_before or utcnow() - timedelta(minutes=5)
    issuer_cert, issuer_key = issuer or (ca.issuer, ca.issuer_key)
    key = new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Seoul Citizens"),
            x509.NameAttribute(NameOID.USER_ID, username),
            x509.NameAttribute(NameOID.COMMON_NAME, display_name[:64] or username),
        ]
    )
    certificate = (
        _builder(subject, issuer_cert.subject, key.public_key(), start, start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(_aki(issuer_cert), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return IssuedCertificate(certificate, key)


def build_crl(
    ca: CityCA, revoked: Iterable[tuple[int, datetime]], *, hours: int = 24
) -> x509.CertificateRevocationList:
    """The issuing CA's CRL listing ``revoked`` (serial, when), valid for ``hours``."""
    now = utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuer.subject)
        .last_update(now - timedelta(minutes=1))
        .next_update(now + timedelta(hours=hours))
        .add_extension(_aki(ca.issuer), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca.issuer_key, hashes.SHA256())


def load_certificate(data: bytes | str) -> x509.Certificate:
    """A certificate from PEM (or a bundle whose first block is the certificate) or DER."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        if b"-----BEGIN CERTIFICATE-----" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise CertificateRefused(
            "malformed", "the certificate cannot be read (PEM or DER X.509 expected)"
        ) from None


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def check_chain(ca: CityCA, certificate: x509.Certificate, now: datetime | None = None) -> None:
    """Refuse unless ``certificate`` was issued by the Seoul City CA under the city root, every
    link is inside its validity dates, and the key may sign (digitalSignature)."""
    now = now or utcnow()
    if not (_issued_by(certificate, ca.issuer) and _issued_by(ca.issuer, ca.root)):
        raise CertificateRefused("unknown_issuer", "the certificate was not issued by the Seoul City CA")
    for link in (certificate, ca.issuer, ca.root):
        if now < link.not_valid_before_utc:
            raise CertificateRefused(
                "not_yet_valid", f"valid only from {link.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
            )
        if now > link.not_valid_after_utc:
            raise CertificateRefused(
                "expired", f"the certificate expired on {link.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
            )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise CertificateRefused(
            "key_usage", "the certificate lacks key usage or basic constraints"
        ) from None
    if not usage.digital_signature or constraints.ca:
        raise CertificateRefused("key_usage", "the certificate's key may not make signatures")


def check_crl(ca: CityCA, certificate: x509.Certificate, crl: x509.CertificateRevocationList) -> None:
    """Refuse a certificate the CA's (verified, current) CRL lists as revoked."""
    issuer_key = ca.issuer.public_key()
    if not isinstance(issuer_key, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(issuer_key):
        raise CertificateRefused("crl_invalid", "the CRL is not signed by the Seoul City CA")
    if crl.next_update_utc is not None and crl.next_update_utc < utcnow():
        raise CertificateRefused("crl_stale", "the CRL is out of date")
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if entry is not None:
        raise CertificateRefused(
            "revoked", f"the certificate was revoked on {entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC"
        )


def decode_signature(signature_b64: str) -> bytes:
    """A base64 ECDSA signature as DER; WebCrypto gives raw r||s (64 bytes), converted here."""
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        raise CertificateRefused("bad_signature", "the signature is not base64") from None
    if len(raw) == 64:
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    return raw


def check_signature(certificate: x509.Certificate, message: bytes, signature_b64: str) -> None:
    """Refuse unless the certificate's key signed ``message`` (ECDSA P-256, SHA-256)."""
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise CertificateRefused("bad_signature", "only ECDSA P-256 certificates are accepted")
    try:
        public_key.verify(decode_signature(signature_b64), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise CertificateRefused(
            "bad_signature", "the signature does not match the certificate's key"
        ) from None


def sign_message(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    """What a client does with its key (used by the CLI, tests and benchmarks): base64 DER."""
    return base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
