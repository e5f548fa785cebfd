"""What the civil-services tests share: a citizen with a bearer token, a certificate and a login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import make_account, token_for
from smartseoul.core.bootstrap import Platform
from smartseoul.services.identity import pki


@dataclass
class Citizen:
    username: str
    headers: dict[str, str]
    certificate: x509.Certificate | None = None
    key: ec.EllipticCurvePrivateKey | None = None

    @property
    def pem(self) -> str:
        assert self.certificate is not None
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def citizen(client: Any, platform: Platform, username: str, roles: list[str] | None = None) -> Citizen:
    account = make_account(platform.db, username, roles or ["citizen"])
    return Citizen(username, {"Authorization": f"Bearer {token_for(client, account)}"})


def with_certificate(client: Any, person: Citizen) -> Citizen:
    """Have the CA issue ``person`` a certificate through the API (PEM bundle: cert + key)."""
    response = client.post("/api/v1/identity/certificates", json={"format": "pem"}, headers=person.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-pem-file")
    person.certificate = x509.load_pem_x509_certificate(response.content)
    key = serialization.load_pem_private_key(response.content, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    person.key = key
    return person


def attempt_login(
    client: Any,
    person: Citizen,
    *,
    certificate_pem: str | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Any:
    challenge = client.post("/api/v1/identity/challenge")
    assert challenge.status_code == 200, challenge.text
    body = challenge.json()
    signer = key or person.key
    assert signer is not None
    return client.post(
        "/api/v1/identity/certificate-login",
        json={
            "nonce": body["nonce"],
            "certificate": certificate_pem or person.pem,
            "signature": pki.sign_message(signer, body["message"].encode()),
        },
        headers=person.headers,
    )


def certificate_login(client: Any, person: Citizen) -> dict[str, str]:
    """Log in with the certificate; the headers then carry assurance 'certificate' (the cookie the
    response sets is dropped: API tests show what the header alone grants)."""
    response = attempt_login(client, person)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    assert response.json()["assurance"] == "certificate"
    return {**person.headers, "X-Assurance": response.json()["assurance_token"]}
