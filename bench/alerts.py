"""An alert to 10,000 concurrent SSE subscribers (until the last has it); Web Push messages prepared/s.

Why: a public alert is only useful if every screen and phone in the area has it at once (the
issue's target: the last of 10,000 subscribers within 2 s on one machine), and a city-wide alert
means encrypting and signing one Web Push message per subscribed phone.

Fan-out: the platform runs as the real ``smartseoul serve`` subprocess (in-process bus, SQLite
seeded with the city) and a raw-asyncio client in this process opens N connections to
``/api/v1/stream/alerts?district=11230`` (Gangnam-gu; 10,000, or 1,000 with ``--quick``), waiting
until each has its stream open. Then an operator (API key) POSTs an alert for Gangnam-gu; the time
runs from sending the POST to each subscriber reading the ``safety.alert.issued.v1`` message: so
it includes the database write, building and validating the CAP document, the bus and the fan-out.
The baseline, in the same run and the same server: the same with 100 subscribers. One alert with
no subscriber goes first, so neither pays for loading the schema and the city's shapes.

Reported:

- ``sse_subscribers``: N;
- ``sse_last_ms`` / ``sse_p50_ms``: until the last (median) of the N subscribers had the alert;
- ``sse_baseline_last_ms``: the same with 100 subscribers;
- ``ratio_sse_last_over_baseline``: how much longer 100x the subscribers take;
- ``push_prepared_per_s``: Web Push messages prepared per second on one core: JSON payload
  encrypted for one subscription (RFC 8291 aes128gcm: an ephemeral P-256 key, ECDH, HKDF,
  AES-128-GCM) plus the VAPID header (its ES256 token cached per push service, as in production);
- ``push_raw_aesgcm_per_s``: the baseline, AES-128-GCM of the same payload with a fixed key;
- ``ratio_push_over_raw_aesgcm``.

The client and the server share this machine's cores; the client's CPU share is on stderr.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from rich.console import Console

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
DISTRICT = "11230"
SUBSCRIBERS_FULL, SUBSCRIBERS_QUICK, BASELINE_SUBSCRIBERS = 10_000, 1_000, 100
CONNECT_BATCH = 250
PUSH_SECONDS_FULL, PUSH_SECONDS_QUICK = 3.0, 0.5
MARKER = b"safety.alert.issued.v1"
err = Console(stderr=True, soft_wrap=True)


def _sibling(name: str) -> ModuleType:
    """Import ``bench/NAME.py``; bench/ is not a package (the runner loads files by path)."""
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_api = _sibling("api")  # serve(), _free_ports(), _seed_database(): the same server handling as bench api


# ---------------------------------------------------------------- Web Push preparation


def push_rates(seconds: float) -> tuple[float, float]:
    """(messages prepared per second, raw AES-GCM encryptions per second) of the same payload."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from smartseoul.core import push
    from smartseoul.core.tests.push_service import Browser

    keys = push.Vapid(ec.generate_private_key(ec.SECP256R1()), "mailto:bench@smartseoul.seoul.kr")
    browsers = [Browser() for _ in range(100)]
    targets = [
        push.PushTarget(i, f"https://push.example.net/send/{i}", b.p256dh, b.auth)
        for i, b in enumerate(browsers)
    ]
    payload = {
        "title": "[긴급] 강남역 일대 침수, 지하도 통행 금지",
        "body": "Flood",
        "url": "/alerts?alert=1234&lang=ko",
        "tag": "alert-1234",
        "alert_id": 1234,
        "kind": "alert",
    }
    prepared, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        push.prepare(targets[prepared % len(targets)], payload, keys)
        prepared += 1
    push_rate = prepared / (time.perf_counter() - started)

    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    cipher, nonce = AESGCM(os.urandom(16)), os.urandom(12)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        cipher.encrypt(nonce, data, None)
        done += 1
    return push_rate, done / (time.perf_counter() - started)


# ---------------------------------------------------------------- SSE fan-out


class Subscriber:
    """One raw SSE connection; ``got_at`` is when the alert arrived."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.got_at: float | None = None

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, port)
        path = f"/api/v1/stream/alerts?district={DISTRICT}"
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: text/event-stream\r\n\r\n"
        self.writer.write(request.encode())
        seen = b""
        while b"retry:" not in seen:  # the first chunk: the server has registered this screen
            chunk = await self.reader.read(4096)
            if not chunk:
                raise ConnectionError(f"stream closed before it opened: {seen[:200]!r}")
            seen += chunk

    async def wait_for_alert(self) -> None:
        assert self.reader is not None
        tail = b""
        while self.got_at is None:
            chunk = await self.reader.read(65536)
            if not chunk:
                return
            if MARKER in tail + chunk:
                self.got_at = time.perf_counter()
            tail = chunk[-len(MARKER) :]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _issue(port: int, api_key: str, headline: str) -> float:
    """POST an alert for the district; returns when the request was sent."""
    body = json.dumps(
        {
            "event": "Flood",
            "severity": "Severe",
            "urgency": "Immediate",
            "certainty": "Observed",
            "headline_ko": headline,
            "headline_en": headline,
            "area": {"districts": [DISTRICT]},
        }
    ).encode()
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"POST /api/v1/alerts HTTP/1.1\r\nHost: {HOST}\r\nX-API-Key: {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sent = time.perf_counter()
    writer.write(head.encode() + body)
    answer = await reader.read(200)
    writer.close()
    if b" 201 " not in answer.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"issuing the alert failed: {answer!r}")
    return sent


async def fan_out(port: int, api_key: str, count: int, label: str) -> list[float]:
    """Open ``count`` subscribers, issue one alert, and return each one's delay in ms."""
    subscribers = [Subscriber() for _ in range(count)]
    try:
        for start in range(0, count, CONNECT_BATCH):
            await asyncio.gather(*(s.open(port) for s in subscribers[start : start + CONNECT_BATCH]))
        err.print(f"{label}: {count} subscribers connected", highlight=False)
        waits = [asyncio.create_task(s.wait_for_alert()) for s in subscribers]
        await asyncio.sleep(0.5)  # let the server settle after the connection storm
        cpu_before = time.process_time()
        sent = await _issue(port, api_key, f"bench {label}")
        await asyncio.wait_for(asyncio.gather(*waits), 60)
        delays = [((s.got_at or float("nan")) - sent) * 1000.0 for s in subscribers]
        elapsed = max(delays) / 1000.0
        share = (time.process_time() - cpu_before) / elapsed if elapsed > 0 else 0.0
        err.print(f"{label}: last after {max(delays):.0f} ms, client CPU {share:.0%}", highlight=False)
        return delays
    finally:
        for s in subscribers:
            s.close()


def _api_key(url: str) -> str:
    from sqlalchemy.orm import Session

    from smartseoul.core import auth
    from smartseoul.core.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            key = auth.create_api_key(session, name="bench operator", role="operator", actor="bench")
            session.commit()
            return key
    finally:
        engine.dispose()


def _raise_file_limit(needed: int) -> None:
    """Each subscriber is a socket here and another in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def sse_figures(quick: bool, workdir: Path) -> dict[str, float | None]:
    count = SUBSCRIBERS_QUICK if quick else SUBSCRIBERS_FULL
    _raise_file_limit(count + 512)
    url = f"sqlite:///{(workdir / 'bench.db').as_posix()}"
    _api._seed_database(url)
    api_key = _api_key(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
    env.update(
        SMARTSEOUL_DATA_DIR=str(workdir),
        SMARTSEOUL_DATABASE_URL=url,
        SMARTSEOUL_BUS_URL="memory://",
        SMARTSEOUL_SECRET_KEY="bench-secret-" + "x" * 40,
        SMARTSEOUL_TRACKING_LISTENERS="0",
        SMARTSEOUL_LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "smartseoul.cli", "serve", "--host", "{host}", "--port", "{port}"]
    with _api.serve(command, env, "/healthz", workdir) as server:
        try:
            asyncio.run(_issue(server.port, api_key, "warm-up"))
            baseline = asyncio.run(fan_out(server.port, api_key, BASELINE_SUBSCRIBERS, "baseline"))
            delays = asyncio.run(fan_out(server.port, api_key, count, "fan-out"))
        except Exception as error:
            raise RuntimeError(f"{error}\nserver log:\n{server.log_tail(40)}") from error
    last, base_last = max(delays), max(baseline)
    return {
        "sse_subscribers": float(count),
        "sse_last_ms": round(last, 1),
        "sse_p50_ms": round(statistics.median(delays), 1),
        "sse_baseline_last_ms": round(base_last, 1),
        "ratio_sse_last_over_baseline": round(last / base_last, 3) if base_last > 0 else None,
    }


def run(quick: bool = False) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    with err.status("preparing Web Push messages"):
        prepared, raw = push_rates(PUSH_SECONDS_QUICK if quick else PUSH_SECONDS_FULL)
    figures["push_prepared_per_s"] = round(prepared, 1)
    figures["push_raw_aesgcm_per_s"] = round(raw, 1)
    figures["ratio_push_over_raw_aesgcm"] = round(prepared / raw, 5)
    err.print(f"Web Push: {prepared:.0f} prepared/s, raw AES-GCM {raw:.0f}/s", highlight=False)
    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-alerts-"))
    try:
        figures.update(sse_figures(quick, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return figures
