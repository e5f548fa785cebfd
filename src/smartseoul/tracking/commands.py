"""Commands to connected devices: today, asking a watch for an immediate fix ("find now").

A device can only be told something while its TCP connection is open, so the listeners note
which connection each identifier last spoke on. Commands are written from any thread (the web
app's request threads) through the event loop that owns the connection.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

log = logging.getLogger("smartseoul.tracking.commands")


@dataclass
class Link:
    protocol: str
    writer: asyncio.StreamWriter
    loop: asyncio.AbstractEventLoop
    vendor: str | None


def locate_now_command(protocol: str, identifier: str, vendor: str | None) -> bytes | None:
    """The bytes that make the device report its position at once, where its protocol has them.

    The watch protocol's ``CR`` makes the watch switch on GPS and answer with a UD position
    (the command Traccar sends as "positionSingle"); GT06 and H02 have no such command.
    """
    if protocol != "watch":
        return None
    text = "CR"
    return f"[{vendor or '3G'}*{identifier}*{len(text):04X}*{text}]".encode("ascii")


class DeviceLinks:
    """Which open connection each device identifier last sent a frame on."""

    def __init__(self) -> None:
        self._links: dict[str, Link] = {}
        # the identifiers heard on each connection: closing one must not scan every device (ten
        # thousand watches reconnecting after a network blip would cost minutes of CPU)
        self._by_writer: dict[asyncio.StreamWriter, set[str]] = {}

    def remember(
        self, identifier: str, protocol: str, writer: asyncio.StreamWriter, vendor: str | None
    ) -> None:
        link = self._links.get(identifier)
        if link is None or link.writer is not writer or link.vendor != vendor:
            self._links[identifier] = Link(protocol, writer, asyncio.get_running_loop(), vendor)
            self._by_writer.setdefault(writer, set()).add(identifier)

    def forget(self, writer: asyncio.StreamWriter) -> None:
        for identifier in self._by_writer.pop(writer, set()):
            link = self._links.get(identifier)
            if link is not None and link.writer is writer:  # not if it reconnected meanwhile
                del self._links[identifier]

    def connected(self, identifier: str) -> bool:
        link = self._links.get(identifier)
        return link is not None and not link.writer.is_closing()

    def ask_for_fix(self, identifier: str) -> bool:
        """Send the locate-now command if the device is connected and its protocol has one."""
        link = self._links.get(identifier)
        if link is None or link.writer.is_closing():
            return False
        command = locate_now_command(link.protocol, identifier, link.vendor)
        if command is None:
            return False
        try:
            link.loop.call_soon_threadsafe(link.writer.write, command)
        except RuntimeError:  # the loop has closed: the server is stopping
            return False
        log.info("asked %s device %s for an immediate fix", link.protocol, identifier)
        return True
