"""Web Push (RFC 8030) with VAPID (RFC 8292) and message encryption (RFC 8291, aes128gcm).

The platform's one way to reach a phone whose browser is closed: public alerts use it, and so can
the guardian app. The VAPID key pair is generated once and kept in the data directory (like the
secret key), so subscriptions stay valid across restarts. A push service that answers 404 or 410
has forgotten the subscription: it is deleted. 5xx answers and timeouts are retried with backoff;
anything else is counted on the subscription (``failures``, ``last_error``) and reported.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import http_ece
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartseoul.core.db import utcnow
from smartseoul.core.push_models import PushSubscription
from smartseoul.core.settings import Settings

log = logging.getLogger("smartseoul.push")
VAPID_FILE = "vapid_private_key.pem"
JWT_LIFETIME_S = 12 * 3600
RETRY_DELAYS_S = (0.2, 1.0)
SEND_TIMEOUT_S = 10.0
MAX_PAYLOAD = 3993  # 4096-byte record minus the aes128gcm header, padding delimiter and tag
URGENCIES = ("very-low", "low", "normal", "high")
CONCURRENT_SENDS = 64


class InvalidSubscription(ValueError):
    """A subscription the platform cannot use; the message names the field."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------- VAPID


class Vapid:
    """The application server's key pair and the signed tokens it presents to push services."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self.private_key = private_key
        self.subject = subject
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(raw)  # the browser's applicationServerKey
        self._tokens: dict[str, tuple[str, float]] = {}

    def token(self, endpoint: str, now: float | None = None) -> str:
        """An ES256 JWT for the endpoint's origin, reused until half its lifetime has passed."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        moment = time.time() if now is None else now
        cached = self._tokens.get(audience)
        if cached and cached[1] - moment > JWT_LIFETIME_S / 2:
            return cached[0]
        expires = moment + JWT_LIFETIME_S
        claims = {"aud": audience, "exp": int(expires), "sub": self.subject}
        signed = jwt.encode(claims, self.private_key, algorithm="ES256")
        self._tokens[audience] = (signed, expires)
        return signed

    def authorization(self, endpoint: str) -> str:
        return f"vapid t={self.token(endpoint)}, k={self.public_key}"


def vapid(settings: Settings) -> Vapid:
    """The VAPID keys of this installation, generated on first use into the data directory."""
    path = settings.data_dir / VAPID_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold an EC private key")
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    return Vapid(key, settings.alerts_push_subject)


# ---------------------------------------------------------------- subscriptions


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _internal_address(host: str) -> bool:
    """A literal private, link-local or reserved address: never a public push service."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_link_local or address.is_reserved or address.is_multicast


def check_endpoint(endpoint: str, *, allow_loopback: bool) -> str:
    """An https push service URL (http on loopback only when allowed: tests and local stand-ins)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if len(endpoint) > 1024 or not host:
        raise InvalidSubscription("endpoint: an absolute URL of at most 1024 characters")
    if _loopback(host) and not allow_loopback:
        raise InvalidSubscription("endpoint: a push service on this machine is not accepted")
    if _internal_address(host) and not _loopback(host):
        raise InvalidSubscription("endpoint: a push service on an internal address is not accepted")
    if parts.scheme != "https" and not (allow_loopback and parts.scheme == "http" and _loopback(host)):
        raise InvalidSubscription("endpoint: push services are reached over https")
    return endpoint


def _check_keys(p256dh: str, auth: str) -> None:
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        raise InvalidSubscription("keys.p256dh: not a base64url P-256 public key") from None
    try:
        secret = b64url_decode(auth)
    except (ValueError, TypeError):
        secret = b""
    if len(secret) != 16:
        raise InvalidSubscription("keys.auth: a base64url 16-byte secret")


def subscribe(
    session: Session,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    settings: Settings,
    scope: str = "alerts",
    language: str = "ko",
    district_codes: Sequence[str] = (),
    lat: float | None = None,
    lon: float | None = None,
    user_id: int | None = None,
) -> PushSubscription:
    """Store (or refresh) a browser's subscription; the same endpoint again updates it."""
    check_endpoint(endpoint, allow_loopback=settings.alerts_push_allow_loopback)
    _check_keys(p256dh, auth)
    found = session.scalars(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
    if found is None:
        found = PushSubscription(endpoint=endpoint, created_at=utcnow(), failures=0)
        session.add(found)
    found.p256dh, found.auth, found.scope, found.language = p256dh, auth, scope, language
    found.district_codes = sorted(set(district_codes))
    found.lat = round(lat, 3) if lat is not None else None
    found.lon = round(lon, 3) if lon is not None else None
    found.user_id = user_id if user_id is not None else found.user_id
    session.flush()
    return found


def unsubscribe(session: Session, endpoint: str) -> bool:
    result = session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    return bool(getattr(result, "rowcount", 0))


def subscriptions_for_user(
    session: Session, user_id: int, scope: str | None = None
) -> list[PushSubscription]:
    query = select(PushSubscription).where(PushSubscription.user_id == user_id)
    if scope is not None:
        query = query.where(PushSubscription.scope == scope)
    return list(session.scalars(query.order_by(PushSubscription.id)))


def subscriptions_in_area(
    session: Session,
    district_codes: Iterable[str],
    contains: Callable[[float, float], bool] | None = None,
    *,
    scope: str | None = "alerts",
) -> list[PushSubscription]:
    """Subscriptions an area concerns: by the phone's shared location when it has one and
    ``contains`` is given, else by the districts it subscribed to."""
    codes = set(district_codes)
    query = select(PushSubscription).order_by(PushSubscription.id)
    if scope is not None:
        query = query.where(PushSubscription.scope == scope)
    found = []
    for subscription in session.scalars(query):
        if contains is not None and subscription.lat is not None and subscription.lon is not None:
            if contains(subscription.lat, subscription.lon):
                found.append(subscription)
        elif codes.intersection(subscription.district_codes or []):
            found.append(subscription)
    return found


# ---------------------------------------------------------------- encryption and sending


@dataclass(frozen=True)
class PushTarget:
    """What sending needs of a subscription, detached from the database session."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


def target_of(subscription: PushSubscription) -> PushTarget:
    return PushTarget(subscription.id, subscription.endpoint, subscription.p256dh, subscription.auth)


@dataclass(frozen=True)
class PreparedPush:
    """One request to a push service, encrypted and signed, ready to post."""

    endpoint: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class DeliveryResult:
    subscription_id: int
    endpoint: str
    outcome: str  # delivered | gone | failed
    status: int | None
    attempts: int
    error: str = ""


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291: aes128gcm content for one subscription, with a fresh ephemeral key and salt."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"push payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    body: bytes = http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=ephemeral,
        dh=b64url_decode(p256dh),
        auth_secret=b64url_decode(auth),
        version="aes128gcm",
    )
    return body


def prepare(
    target: PushTarget,
    payload: dict[str, Any],
    keys: Vapid,
    *,
    ttl: int = 3600,
    urgency: str = "high",
    topic: str | None = None,
) -> PreparedPush:
    """Encrypt the JSON payload for the subscriber and sign the request with VAPID."""
    if urgency not in URGENCIES:
        raise ValueError(f"urgency: one of {', '.join(URGENCIES)}")
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "TTL": str(ttl),
        "Urgency": urgency,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "Authorization": keys.authorization(target.endpoint),
    }
    if topic:
        headers["Topic"] = topic[:32]
    return PreparedPush(target.endpoint, headers, encrypt(data, target.p256dh, target.auth))


async def _post(client: httpx.AsyncClient, message: PreparedPush) -> tuple[int | None, int, str]:
    """Post with retries on 5xx and network errors: (status, attempts, error)."""
    status: int | None = None
    error = ""
    for attempt in range(1, len(RETRY_DELAYS_S) + 2):
        try:
            response = await client.post(message.endpoint, content=message.body, headers=message.headers)
            status, error = response.status_code, "" if response.is_success else response.text[:200]
            if status < 500:
                return status, attempt, error
        except httpx.HTTPError as failure:
            status, error = None, f"{type(failure).__name__}: {failure}"[:200]
        if attempt <= len(RETRY_DELAYS_S):
            await asyncio.sleep(RETRY_DELAYS_S[attempt - 1])
    return status, len(RETRY_DELAYS_S) + 1, error


def _outcome(status: int | None) -> str:
    if status is not None and 200 <= status < 300:
        return "delivered"
    return "gone" if status in (404, 410) else "failed"


async def deliver(
    keys: Vapid,
    targets: Sequence[PushTarget],
    payload: dict[str, Any],
    *,
    ttl: int = 3600,
    urgency: str = "high",
    topic: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[DeliveryResult]:
    """Push ``payload`` (JSON: title, body, url, tag) to each target concurrently; no database.

    Use this with :func:`record_results` when no transaction may stay open while pushing (SQLite
    holds its write lock for the whole transaction)."""
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=SEND_TIMEOUT_S)
    limit = asyncio.Semaphore(CONCURRENT_SENDS)

    async def one(target: PushTarget) -> DeliveryResult:
        async with limit:
            message = prepare(target, payload, keys, ttl=ttl, urgency=urgency, topic=topic)
            status, attempts, error = await _post(http, message)
        outcome = _outcome(status)
        if outcome != "delivered":
            log.warning("push to subscription %s: %s (%s %s)", target.id, outcome, status, error)
        return DeliveryResult(target.id, target.endpoint, outcome, status, attempts, error)

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        if own_client:
            await http.aclose()


def record_results(session: Session, results: Iterable[DeliveryResult]) -> None:
    """Write the outcomes: a gone subscription is deleted, a failure counted, a success noted."""
    for result in results:
        subscription = session.get(PushSubscription, result.subscription_id)
        if subscription is None:
            continue
        if result.outcome == "delivered":
            subscription.last_success_at, subscription.failures, subscription.last_error = utcnow(), 0, None
        elif result.outcome == "gone":
            session.delete(subscription)
        else:
            subscription.failures += 1
            subscription.last_error = f"{result.status or 'no answer'}: {result.error}"[:500]
    session.flush()


async def send_to(
    session: Session,
    platform: Any,
    subscriptions: Sequence[PushSubscription],
    payload: dict[str, Any],
    *,
    ttl: int | None = None,
    urgency: str = "high",
    topic: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[DeliveryResult]:
    """Push ``payload`` to the subscriptions and write the outcomes in ``session`` (the caller
    commits). ``platform`` gives the settings and the VAPID keys. The caller's transaction stays
    open while pushing: on SQLite prefer :func:`deliver` + :func:`record_results`."""
    lifetime = platform.settings.alerts_push_ttl_seconds if ttl is None else ttl
    results = await deliver(
        platform_vapid(platform),
        [target_of(s) for s in subscriptions],
        payload,
        ttl=lifetime,
        urgency=urgency,
        topic=topic,
        client=client,
    )
    record_results(session, results)
    return results


VAPID_CACHE_KEY = "core.push.vapid"


def platform_vapid(platform: Any) -> Vapid:
    """The process's VAPID keys, loaded once and kept in the platform cache."""
    found = platform.cache.get(VAPID_CACHE_KEY)
    if not isinstance(found, Vapid):
        found = vapid(platform.settings)
        platform.cache[VAPID_CACHE_KEY] = found
    return found
