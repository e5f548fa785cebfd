"""The buffering shared by the binary-capable stream decoders (GT06, H02).

One place decides how bytes accumulate, when a buffer with no frame in it is given up, and how
stream offsets are kept, so that every protocol reports the same byte offsets for the same
stream however the TCP reads cut it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from smartseoul.tracking.protocols import Fix, FrameError, Kind, Message

MAX_BUFFER = 64 * 1024


class AbsurdValue(Exception):
    """A field holds a value no working device sends (month 13, latitude 95): the frame is corrupt."""


def checked_time(year: int, month: int, day: int, hour: int, minute: int, second: int, what: str) -> datetime:
    """An aware UTC time; a value out of range is named in the error (the frame is then dropped)."""
    for name, value, low, high in (
        ("month", month, 1, 12),
        ("day", day, 1, 31),
        ("hour", hour, 0, 23),
        ("minute", minute, 0, 59),
        ("second", second, 0, 59),
    ):
        if not low <= value <= high:
            raise AbsurdValue(f"{what}: {name} {value} out of range")
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as error:
        raise AbsurdValue(f"{what}: day {day} out of range for {year}-{month:02d}") from error


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BufferedDecoder:
    """Base of a decoder that keeps a byte buffer; subclasses implement :meth:`_drain`."""

    protocol = ""

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.device_id: str | None = None
        self._clock = clock
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._hint = 1  # positions 1 .. _hint-1 of _buf are known not to start a frame

    def feed(self, data: bytes) -> list[Message | FrameError]:
        """Decode what ``data`` completes; keep the rest for the next call.

        Data is appended at most up to the 64 KiB limit before each pass, so where a buffer is
        discarded does not depend on how the stream was cut into reads.
        """
        out: list[Message | FrameError] = []
        view = memoryview(data)
        while view:
            room = MAX_BUFFER - len(self._buf)
            self._buf += view[:room]
            view = view[room:]
            self._drain(out, final=False)
            if len(self._buf) >= MAX_BUFFER:
                size = len(self._buf)
                out.append(self._error(0, f"no complete frame in {size} buffered bytes; discarded", size))
                self._drop(size)
        return out

    def finish(self) -> list[Message | FrameError]:
        """End of the connection: whatever is still buffered is decoded if it can be, else reported."""
        out: list[Message | FrameError] = []
        self._drain(out, final=True)
        return out

    def _drain(self, out: list[Message | FrameError], final: bool) -> None:
        raise NotImplementedError

    def _find_start(self, low: int, final: bool) -> int | None:
        """Index of the next frame start at or after ``low``; None while it cannot be known yet."""
        raise NotImplementedError

    def _skip_garbage(self, out: list[Message | FrameError], final: bool) -> bool | None:
        """Report and drop bytes before the next frame start.

        True: a frame starts at byte 0. False: garbage was dropped, look again. None: no frame
        start can be found yet (wait for more bytes; at the end of the stream the rest is reported).
        """
        start = self._find_start(0, final)
        if start is None:
            if final:
                size = len(self._buf)
                out.append(self._error(0, f"{size} bytes without a frame start at end of stream", size))
                self._drop(size)
            return None
        if start > 0:
            out.append(self._error(0, f"skipped {start} bytes of garbage at byte {self._base}", start))
            self._drop(start)
            return False
        return True

    def _drop(self, count: int) -> None:
        del self._buf[:count]
        self._base += count
        self._hint = max(1, self._hint - count)
        self._after_drop()

    def _after_drop(self) -> None:
        """Forget per-frame state that referred to the bytes just dropped."""

    def _message(
        self,
        kind: Kind,
        offset: int,
        *,
        fix: Fix | None = None,
        alarms: Iterable[str] = (),
        battery_pct: int | None = None,
        reply: bytes | None = None,
        extra: dict[str, object] | None = None,
    ) -> Message:
        """A message of this connection's device (the identity a login or an earlier frame gave)."""
        return Message(
            protocol=self.protocol,
            device_id=self.device_id,
            kind=kind,
            offset=offset,
            fix=fix,
            alarms=tuple(alarms),
            battery_pct=battery_pct,
            reply=reply,
            extra=extra or {},
        )

    def _error(self, index: int, reason: str, size: int) -> FrameError:
        return FrameError(
            self.protocol, self._base + index, reason, self.device_id, bytes(self._buf[index : index + size])
        )
