"""A local stand-in for a browser push service (FCM, Mozilla autopush) for tests and the bench.

It does what a real one does with a message: checks the VAPID token's ES256 signature against
the key in the ``Authorization`` header and its audience, then decrypts the aes128gcm body with
the *subscriber's* private key (which only the browser has: the test made it), proving the
message was real Web Push. Paths choose the answer: ``/ok/...`` 201, ``/gone/...`` 410,
``/flaky/...`` 503 twice then 201, ``/down/...`` always 503.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smartseoul.core.push import b64url, b64url_decode


@dataclass
class Browser:
    """A subscriber's keys, as a browser makes them for ``pushManager.subscribe``."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any] | None
    problem: str = ""


class PushService:
    """The stand-in server; ``browsers`` maps a path to the keys that decrypt its messages."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, kind: str, browser: Browser) -> str:
        path = f"/{kind}/{len(self.browsers)}"
        self.browsers[path] = browser
        return self.base + path

    def __enter__(self) -> PushService:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verify(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        """Check the VAPID token and decrypt; a problem is recorded, never raised."""
        scheme, _, params = headers.get("authorization", "").partition(" ")
        values = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme != "vapid" or "t" not in values or "k" not in values:
            return Received(path, headers, None, "no VAPID authorization")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(values["k"]))
            jwt.decode(values["t"], public, algorithms=["ES256"], audience=self.base)
        except Exception as error:  # any failure is the finding
            return Received(path, headers, None, f"VAPID token refused: {error}")
        if headers.get("content-encoding") != "aes128gcm":
            return Received(path, headers, None, "not aes128gcm")
        browser = self.browsers[path]
        try:
            plain = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth_secret, version="aes128gcm"
            )
        except Exception as error:
            return Received(path, headers, None, f"cannot decrypt: {error}")
        return Received(path, headers, json.loads(plain))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with service.lock:
                    service.hits[self.path] += 1
                    hits = service.hits[self.path]
                kind = self.path.split("/")[1]
                if kind == "gone":
                    status = 410
                elif kind == "down" or (kind == "flaky" and hits <= 2):
                    status = 503
                else:
                    received = service.verify(self.path, headers, body)
                    with service.lock:
                        service.received.append(received)
                    status = 400 if received.problem else 201
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        return Handler
