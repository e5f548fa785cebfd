"""RADIUS accounting records/s: detail parse, idempotent store, re-import, UDP; plain INSERT baseline.

Why: a city's public WiFi produces an accounting record at every start, interim update and stop of
every session (Seoul's network: millions of sessions a day); the platform must keep up with the
RADIUS servers' detail files and with live Accounting-Requests, and a re-import must be cheap.

Records are made deterministically: Start, Interim-Update and Stop of sessions on 500 access points,
written as a FreeRADIUS detail file. The database is SQLite (migrated) with the 500 access points
registered; 60,000 records (6,000 with ``--quick``).

- ``parse_records_per_s``: :func:`radius.parse_detail` over the file (text to records);
- ``store_records_per_s``: :func:`service.store_accounting` (keyed hash of the user, AP lookup,
  INSERT ... ON CONFLICT DO NOTHING RETURNING in batches) into the empty table, committed;
- ``reimport_records_per_s``: the same records again (all duplicates, nothing stored);
- ``baseline_insert_rows_per_s``: the baseline, a plain executemany INSERT of the same rows into
  a copy of the table without the unique key (what storing costs without idempotence or hashing);
- ``ratio_store_over_baseline``;
- ``udp_requests_per_s``: Accounting-Requests answered per second by the RFC 2866 listener
  (authenticator checked, records that arrive while a store runs stored together in the next
  transaction, each response signed), one client keeping 64 requests in flight; 4,000 requests
  (500 with ``--quick``).
One process; the UDP client and the listener share it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from smartseoul.core.db import make_engine
from smartseoul.core.migrate import upgrade
from smartseoul.portal.wifi import radius, service
from smartseoul.portal.wifi.models import WifiAccessPoint, WifiFacility

err = Console(stderr=True, soft_wrap=True)
APS = 500
SECRET = b"bench-secret"
START = datetime(2026, 12, 1, tzinfo=UTC)


def _mac(n: int) -> str:
    return "02:5e:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))


def _records(count: int) -> list[radius.AccountingRecord]:
    found = []
    for n in range(count // 3):
        mac, at = _mac(n % APS), START + timedelta(seconds=n)
        common = {
            "session_id": f"S{n:08d}",
            "user_name": f"user{n % 5000}",
            "ap_mac": mac,
            "ssid": "Seoul_Free_WiFi",
        }
        found.append(radius.AccountingRecord(status_type="Start", event_at=at, **common))
        found.append(
            radius.AccountingRecord(
                status_type="Interim-Update",
                event_at=at + timedelta(minutes=5),
                input_octets=n * 10,
                output_octets=n * 40,
                **common,
            )
        )
        found.append(
            radius.AccountingRecord(
                status_type="Stop",
                event_at=at + timedelta(minutes=9),
                session_time_s=540,
                input_octets=n * 20,
                output_octets=n * 80,
                **common,
            )
        )
    return found


def _detail(records: list[radius.AccountingRecord]) -> str:
    lines = []
    for r in records:
        lines += [
            r.event_at.strftime("%a %b %d %H:%M:%S %Y"),
            f"\tAcct-Status-Type = {r.status_type}",
            f'\tAcct-Session-Id = "{r.session_id}"',
            f'\tUser-Name = "{r.user_name}"',
            f'\tCalled-Station-Id = "{r.ap_mac.replace(":", "-").upper()}:{r.ssid}"',
            f"\tAcct-Input-Octets = {r.input_octets % 2**32}",
            f"\tAcct-Input-Gigawords = {r.input_octets // 2**32}",
            f"\tAcct-Output-Octets = {r.output_octets % 2**32}",
            f"\tAcct-Output-Gigawords = {r.output_octets // 2**32}",
            f"\tAcct-Session-Time = {r.session_time_s}",
            f"\tEvent-Timestamp = {int(r.event_at.timestamp())}",
            "",
        ]
    return "\n".join(lines)


def _database(folder: str) -> Engine:
    engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
    upgrade(engine)
    with Session(engine) as session:
        facility = WifiFacility(
            kind="library", name_ko="도서관", name_en="Library", district_code="11230", lat=37.5, lon=127.0
        )
        session.add(facility)
        session.flush()
        session.add_all(
            WifiAccessPoint(
                code=f"AP{n}",
                mac=_mac(n),
                facility_id=facility.id,
                district_code="11230",
                lat=37.5,
                lon=127.0,
            )
            for n in range(APS)
        )
        session.execute(text("CREATE TABLE bench_plain AS SELECT * FROM wifi_accounting WHERE 0"))
        session.commit()
    return engine


def _store(engine: Engine, records: list[radius.AccountingRecord]) -> tuple[float, int]:
    started = time.perf_counter()
    with Session(engine) as session:
        stored = service.store_accounting(session, records, "salt").stored
        session.commit()
    return len(records) / (time.perf_counter() - started), stored


def _baseline(engine: Engine, records: list[radius.AccountingRecord]) -> float:
    rows = [
        {
            "s": r.session_id,
            "t": r.status_type,
            "e": r.event_at.isoformat(),
            "u": r.user_name,
            "m": r.ap_mac,
            "i": r.input_octets,
            "o": r.output_octets,
        }
        for r in records
    ]
    statement = text(
        "INSERT INTO bench_plain (session_id, status_type, event_at, user_hash, ap_mac, ssid, session_time_s,"
        " input_octets, output_octets, source) VALUES (:s, :t, :e, :u, :m, '', 0, :i, :o, 'file')"
    )
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(statement, rows)
    return len(rows) / (time.perf_counter() - started)


async def _udp(engine: Engine, count: int) -> float:
    def store_batch(records: list[radius.AccountingRecord]) -> object:
        with Session(engine) as session:
            found = service.store_accounting(session, records, "salt", source="udp")
            session.commit()
            return found

    async def store(records: list[radius.AccountingRecord]) -> object:
        return await asyncio.to_thread(store_batch, records)

    transport, _ = await radius.serve("127.0.0.1", 0, SECRET, store)
    port = transport.get_extra_info("sockname")[1]
    base = START + timedelta(days=3)
    packets = [
        radius.encode_request(
            n % 256,
            radius.attributes_for(
                radius.AccountingRecord(
                    "Start",
                    f"U{n:08d}",
                    f"user{n}",
                    _mac(n % APS),
                    "Seoul_Free_WiFi",
                    base + timedelta(seconds=n),
                ),
                f"{_mac(n % APS).replace(':', '-')}:Seoul_Free_WiFi",
            ),
            SECRET,
        )
        for n in range(count)
    ]
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect(("127.0.0.1", port))
    answered = 0
    started = time.perf_counter()
    for first in range(0, count, 64):
        window = packets[first : first + 64]
        for packet in window:
            sock.send(packet)
        for _ in window:
            reply = await asyncio.wait_for(loop.sock_recv(sock, 64), 10)
            answered += reply[0] == radius.ACCOUNTING_RESPONSE
    elapsed = time.perf_counter() - started
    sock.close()
    transport.close()
    if answered != count:
        raise AssertionError(f"{answered} of {count} requests answered")
    return count / elapsed


def run(quick: bool = False) -> dict[str, float]:
    count = 6_000 if quick else 60_000
    records = _records(count)
    detail = _detail(records)
    started = time.perf_counter()
    parsed = [r for r in radius.parse_detail(detail.splitlines()) if isinstance(r, radius.AccountingRecord)]
    parse_rate = len(parsed) / (time.perf_counter() - started)
    if parsed != records:
        raise AssertionError("the detail file did not parse back into the records written")
    with tempfile.TemporaryDirectory() as folder:
        engine = _database(folder)
        store_rate, stored = _store(engine, parsed)
        reimport_rate, again = _store(engine, parsed)
        if (stored, again) != (len(parsed), 0):
            raise AssertionError(f"stored {stored}, then {again} on re-import")
        baseline = _baseline(engine, parsed)
        udp_rate = asyncio.run(_udp(engine, 500 if quick else 4_000))
        engine.dispose()
    err.print(f"{len(parsed)} records, {len(detail) / 1e6:.1f} MB detail file", highlight=False)
    return {
        "records": float(len(parsed)),
        "parse_records_per_s": round(parse_rate, 1),
        "store_records_per_s": round(store_rate, 1),
        "reimport_records_per_s": round(reimport_rate, 1),
        "baseline_insert_rows_per_s": round(baseline, 1),
        "ratio_store_over_baseline": round(store_rate / baseline, 3),
        "udp_requests_per_s": round(udp_rate, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv)))
