"""HTTP API of citizen identity: sign-up, citizen certificates, certificate login, the CA's CRL."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartseoul.core import auth
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.models import User
from smartseoul.services.identity import pki, service
from smartseoul.services.identity.deps import Assured, assurance_for, require_assurance
from smartseoul.web.deps import (
    SESSION_COOKIE,
    client_address,
    db_session,
    get_platform,
    optional_principal,
    require,
)
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])
pki_router = APIRouter(prefix="/pki", tags=["identity"])
Serial = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{1,40}$", description="Certificate serial in hex")]
PEM_TYPE = "application/x-pem-file"
P12_TYPE = "application/x-pkcs12"


class SignUpIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, examples=["hong.gildong"])
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(min_length=1, max_length=64, examples=["홍길동"])
    consent: bool = Field(description="Consent to the terms of use and the privacy notice")


class IssueIn(BaseModel):
    format: Literal["pem", "p12"] = Field(
        "pem", description="pem: certificate + key for this browser; p12: for an OS"
    )
    password: str = Field(
        "", max_length=128, description="Protects the PKCS#12 file (10 characters at least)"
    )


class LoginIn(BaseModel):
    nonce: str = Field(min_length=8, max_length=64)
    certificate: str = Field(min_length=1, max_length=20000, description="The citizen certificate, PEM")
    signature: str = Field(
        min_length=1, max_length=400, description="base64 ECDSA P-256/SHA-256 over the challenge message"
    )


class RevokeIn(BaseModel):
    reason: str = Field("", max_length=200)


def as_problem(error: service.IdentityError) -> Problem:
    extra: dict[str, Any] = {"field": error.field} if error.field else {}
    return Problem(error.status, "Refused", error.detail, error.code, **extra)


def set_session_cookie(response: Response, platform: Platform, user: User) -> None:
    """Sign the citizen in (the same session cookie the platform's /login sets)."""
    token = auth.issue_token(
        user, secret=platform.secret_key, ttl_seconds=platform.settings.session_ttl_seconds, purpose="session"
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=platform.settings.secure_cookies,
        max_age=platform.settings.session_ttl_seconds,
    )


@router.post("/signup", status_code=201, summary="Create a citizen account (consent to the terms required)")
def sign_up(body: SignUpIn, request: Request, session: Session = Depends(db_session)) -> dict[str, Any]:
    try:
        user = service.sign_up(
            session,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
            consent=body.consent,
            client=client_address(request),
        )
    except service.IdentityError as error:
        raise as_problem(error) from None
    session.commit()
    return {"username": user.username, "display_name": user.display_name, "roles": user.role_names}


@router.get("/me", summary="Who I am, the assurance I hold now and my certificates")
def me(
    request: Request,
    session: Session = Depends(db_session),
    assured: Assured = Depends(require_assurance("login")),
) -> dict[str, Any]:
    assert assured.principal is not None
    user = session.get(User, assured.principal.id)
    assert user is not None
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": user.role_names,
        "assurance": assured.level,
        "assurance_reason": assured.reason,
        "certificates": [service.certificate_dict(row) for row in service.certificates_of(session, user.id)],
    }


@router.post("/certificates", summary="Issue me a citizen certificate (PEM bundle or PKCS#12; shown once)")
def issue(
    body: IssueIn,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    assured: Assured = Depends(require_assurance("login")),
) -> Response:
    if body.format == "p12" and len(body.password) < auth.MIN_PASSWORD:
        raise Problem(
            422,
            "Invalid request",
            f"password: at least {auth.MIN_PASSWORD} characters for PKCS#12",
            "invalid_password",
            field="password",
        )
    assert assured.principal is not None
    user = session.get(User, assured.principal.id)
    assert user is not None
    issued = service.issue_certificate(session, platform.settings, user)
    session.commit()
    name = f"seoul-citizen-{user.username}-{issued.serial_hex[:8]}"
    headers = {"Cache-Control": "no-store", "X-Certificate-Serial": issued.serial_hex}
    if body.format == "p12":
        data = issued.pkcs12(body.password, pki.city_ca(platform.settings.data_dir))
        headers["Content-Disposition"] = f'attachment; filename="{name}.p12"'
        return Response(data, media_type=P12_TYPE, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{name}.pem"'
    return Response(issued.pem_bundle(), media_type=PEM_TYPE, headers=headers)


@router.get("/certificates", summary="My citizen certificates")
def my_certificates(
    session: Session = Depends(db_session), assured: Assured = Depends(require_assurance("login"))
) -> list[dict[str, Any]]:
    assert assured.principal is not None
    return [service.certificate_dict(row) for row in service.certificates_of(session, assured.principal.id)]


@router.post("/certificates/{serial}/revoke", summary="Revoke a citizen certificate (its owner, or an admin)")
def revoke(
    serial: Serial,
    body: RevokeIn,
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal = Depends(require("citizen", "admin")),
) -> dict[str, Any]:
    owner = None if principal.has_any("admin") else principal.id
    try:
        row = service.revoke_certificate(
            session, serial, actor=principal.name, reason=body.reason, owner_id=owner
        )
    except service.IdentityError as error:
        raise as_problem(error) from None
    session.commit()
    return service.certificate_dict(row)


@router.post("/challenge", summary="A one-time nonce to sign for a certificate login")
def challenge(
    platform: Platform = Depends(get_platform), session: Session = Depends(db_session)
) -> dict[str, Any]:
    made = service.new_challenge(session, platform.settings)
    session.commit()
    return {
        "nonce": made.nonce,
        "message": service.challenge_message(made.nonce).decode(),
        "algorithm": "ECDSA P-256 SHA-256",
        "expires_at": made.expires_at.isoformat(),
    }


@router.post(
    "/certificate-login",
    summary="Present a certificate and the signed challenge; grants assurance 'certificate'",
)
async def certificate_login(
    body: LoginIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    session: Session = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> Response:
    def attempt() -> service.CertificateLogin:
        try:
            return service.certificate_login(
                session,
                platform.settings,
                platform.secret_key,
                nonce=body.nonce,
                certificate_pem=body.certificate,
                signature=body.signature,
                signed_in_user_id=principal.id
                if principal is not None and principal.kind == "user"
                else None,
                client=client_address(request),
            )
        finally:
            session.commit()  # the used challenge and the audit of a refusal stay

    try:
        result = await run_in_threadpool(attempt)
    except service.IdentityError as error:
        raise as_problem(error) from None
    payload = {
        "username": result.user.username,
        "assurance": "certificate",
        "certificate": result.certificate.serial,
        "expires_at": result.expires_at.isoformat(),
        "assurance_token": result.token,
    }
    response = JSONResponse(payload)
    response.set_cookie(
        service.ASSURANCE_COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=platform.settings.secure_cookies,
        max_age=platform.settings.identity_assurance_ttl_seconds,  # the token itself may end sooner
    )
    if principal is None:
        set_session_cookie(response, platform, result.user)
    return response


@router.get("/assurance", summary="The assurance level this request holds, and why not higher")
def assurance(
    request: Request,
    session: Session = Depends(db_session),
    principal: Principal | None = Depends(optional_principal),
) -> dict[str, str]:
    held = assurance_for(request, session, principal)
    return {"level": held.level, "reason": held.reason}


@pki_router.get("/crl.der", summary="The Seoul City CA's certificate revocation list (DER)")
def crl(platform: Platform = Depends(get_platform), session: Session = Depends(db_session)) -> Response:
    from cryptography.hazmat.primitives import serialization

    data = service.current_crl(session, platform.settings).public_bytes(serialization.Encoding.DER)
    return Response(data, media_type="application/pkix-crl", headers={"Cache-Control": "max-age=300"})


@pki_router.get("/root.pem", summary="The city root certificate (trust anchor of a validator)")
def root(platform: Platform = Depends(get_platform)) -> Response:
    from cryptography.hazmat.primitives import serialization

    data = pki.city_ca(platform.settings.data_dir).root.public_bytes(serialization.Encoding.PEM)
    return Response(data, media_type=PEM_TYPE)


@pki_router.get("/ca.pem", summary="The issuing Seoul City CA and the root (PEM chain)")
def chain(platform: Platform = Depends(get_platform)) -> Response:
    return Response(pki.city_ca(platform.settings.data_dir).chain_pem(), media_type=PEM_TYPE)
