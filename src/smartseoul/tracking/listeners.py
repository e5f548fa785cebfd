"""The device listeners: one asyncio server per protocol, each port a setting.

A bad frame is logged with the device and the byte offset and dropped; the connection stays open
where the protocol can resynchronise. A frame from an unregistered identifier closes the
connection (nothing is stored). No exception from one connection reaches the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from smartseoul.tracking.commands import DeviceLinks
from smartseoul.tracking.ingest import Commit, Ingestor
from smartseoul.tracking.protocols import FrameError, Message, StreamDecoder

log = logging.getLogger("smartseoul.tracking.listeners")
READ_SIZE = 4096
IDLE_TIMEOUT = 1800.0
MAX_HTTP_BODY = 65_536


@dataclass(frozen=True)
class TcpProtocol:
    name: str
    port: int
    decoder: Callable[[], StreamDecoder]


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "-"


def log_frame_error(error: FrameError, client: str) -> None:
    device = error.device_id or "unknown device"
    log.warning(
        "%s: dropped frame from %s (%s) at byte %d: %s",
        error.protocol,
        device,
        client,
        error.offset,
        error.reason,
        extra={"device": device, "offset": error.offset, "reason": error.reason},
    )


Submit = Callable[[Message, str], Awaitable[tuple[bool, Commit | None]]]
Answer = tuple[list[Commit], bytes]  # one read's commits, and the replies they hold back
# Reads of one connection taken in while their answers wait for commits (at most 4 KiB each). At
# saturation a commit can take seconds; with 8, a watch's ninth SOS frame waited for the first
# one's position to be stored before it was even read (found by ``smartseoul bench tracking``).
READS_IN_FLIGHT = 64


async def handle_stream(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    decoder: StreamDecoder,
    submit: Submit,
    links: DeviceLinks | None = None,
) -> None:
    """Serve one device connection until it closes, idles out, or is refused. Accepted devices
    are noted in ``links`` so that commands (find now) can reach them on this connection.

    Reading and answering are two tasks: a read's frames are handed to the ingestor at once (an
    SOS raises its alarm then), while its answers wait, in order, for the commit of the positions
    they acknowledge. Waiting for the commit before reading on made an SOS sent right after a
    position wait seconds behind that position's batch when the platform was saturated (found
    by ``smartseoul bench tracking``)."""
    client = _peer(writer)
    answers: asyncio.Queue[Answer | None] = asyncio.Queue(READS_IN_FLIGHT)
    answering = asyncio.create_task(_answer_in_order(answers, writer, decoder.protocol, client))
    try:
        while not writer.is_closing():
            # asyncio.timeout, not wait_for: wait_for wraps every read in a task of its own
            async with asyncio.timeout(IDLE_TIMEOUT):
                data = await reader.read(READ_SIZE)
            if not data:
                break
            commits, replies, still_open = await _submit_read(
                decoder.feed(data), decoder, submit, writer, client, links
            )
            await answers.put((commits, replies))
            if not still_open:
                break
        await answers.put(None)
        await answering  # the frames already taken are answered before the connection closes
    except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        return
    except Exception:
        log.exception("%s: connection %s failed; closed", decoder.protocol, client)
    finally:
        answering.cancel()
        if links is not None:
            links.forget(writer)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _answer_in_order(
    answers: asyncio.Queue[Answer | None], writer: asyncio.StreamWriter, protocol: str, client: str
) -> None:
    """Write each read's replies once its positions are committed, in the order read. A failed
    commit closes the connection unanswered (the device sends the frames again) and the rest of
    the queue is taken without answering, so that the reader never waits on a full queue."""
    failed = False
    while (answer := await answers.get()) is not None:
        if failed:
            continue
        commits, replies = answer
        try:
            for commit in commits:
                await commit
            if replies:
                writer.write(replies)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            failed = True
            writer.close()
        except Exception:
            log.exception("%s: positions from %s not stored; connection closed", protocol, client)
            failed = True
            writer.close()


async def _submit_read(
    items: list[Message | FrameError],
    decoder: StreamDecoder,
    submit: Submit,
    writer: asyncio.StreamWriter,
    client: str,
    links: DeviceLinks | None,
) -> tuple[list[Commit], bytes, bool]:
    """Hand every frame of one read to the ingestor; the commits its answers must wait for, the
    answers, and False when the device was refused (the frames before it are still answered,
    then the connection is closed). One wait per read, not one per frame: a watch sends ten
    positions and a heartbeat in one write, and waiting frame by frame put each of them in a
    later batch (found by ``smartseoul bench tracking``)."""
    commits: list[Commit] = []
    replies: list[bytes] = []
    for item in items:
        if isinstance(item, FrameError):
            log_frame_error(item, client)
            continue
        accepted, commit = await submit(item, client)
        if not accepted:
            return commits, b"".join(replies), False
        if commit is not None:
            commits.append(commit)
        if links is not None and item.device_id:
            vendor = item.extra.get("vendor")
            named = vendor if isinstance(vendor, str) else None
            links.remember(item.device_id, decoder.protocol, writer, named)
        if item.reply:
            replies.append(item.reply)
    return commits, b"".join(replies), True


async def start_tcp(
    protocol: TcpProtocol, host: str, ingestor: Ingestor, links: DeviceLinks | None = None
) -> asyncio.Server:
    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_stream(reader, writer, protocol.decoder(), ingestor.submit, links)

    server = await asyncio.start_server(on_connect, host, protocol.port)
    log.info("listening for %s devices on %s:%d", protocol.name, host, protocol.port)
    return server


# ---------------------------------------------------------------- OsmAnd over HTTP


async def _read_http_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30.0)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError(f"bad request line {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_HTTP_BODY:
        raise OverflowError(length)
    body = await reader.readexactly(length) if length else b""
    return parts[0], parts[1], headers, body


def merge_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Query parameters as a dict; repeated ``cell``/``wifi`` entries are joined with ';' (each is
    one tower or access point), any other repeat keeps its last value."""
    merged: dict[str, str] = {}
    for key, value in pairs:
        if key in ("cell", "wifi") and merged.get(key):
            merged[key] += ";" + value
        else:
            merged[key] = value
    return merged


def _http_response(status: int, reason: str, text: str = "", keep_alive: bool = True) -> bytes:
    body = text.encode()
    connection = "keep-alive" if keep_alive else "close"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: {connection}\r\n\r\n"
    ).encode() + body


async def start_osmand(port: int, host: str, ingestor: Ingestor) -> asyncio.Server:
    """OsmAnd / Traccar Client: positions as query parameters (GET or form POST)."""
    from smartseoul.tracking.protocols.osmand import decode_json, decode_params

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _peer(writer)
        offset = 0
        try:
            while True:
                try:
                    request = await _read_http_request(reader)
                except OverflowError:
                    writer.write(_http_response(413, "Payload Too Large", "body too large", keep_alive=False))
                    return
                except (asyncio.IncompleteReadError, TimeoutError, asyncio.LimitOverrunError):
                    return
                except ValueError as error:
                    log.warning("osmand: bad HTTP request from %s: %s", client, error)
                    writer.write(_http_response(400, "Bad Request", str(error), keep_alive=False))
                    return
                if request is None:
                    return
                _method, target, headers, body = request
                if body and "json" in headers.get("content-type", ""):
                    decoded = decode_json(body, offset=offset)
                else:
                    pairs = parse_qsl(urlsplit(target).query, keep_blank_values=True)
                    if body:
                        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                    decoded = decode_params(merge_params(pairs), offset=offset)
                offset += 1
                if isinstance(decoded, FrameError):
                    log_frame_error(decoded, client)
                    writer.write(_http_response(400, "Bad Request", decoded.reason))
                elif await ingestor.accept(decoded, client):
                    writer.write(_http_response(200, "OK"))
                else:
                    writer.write(_http_response(403, "Forbidden", "unknown device"))
                await writer.drain()
        except ConnectionError:
            return
        except Exception:
            log.exception("osmand: connection %s failed; closed", client)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    server = await asyncio.start_server(on_connect, host, port)
    log.info("listening for OsmAnd devices on %s:%d", host, port)
    return server
