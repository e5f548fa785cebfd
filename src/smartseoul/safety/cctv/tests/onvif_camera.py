"""A simulated ONVIF PTZ camera: a real HTTP server that parses SOAP 1.2, checks the WS-Security
UsernameToken digest and keeps its pan, tilt and zoom, as a dome camera's PTZ service does."""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from smartseoul.safety.cctv.onvif import PTZ_NS, SCHEMA_NS, SOAP_ENV, WSSE_NS, WSU_NS, password_digest

PRESETS = {"1": (0.25, -0.1, 0.0), "gate": (-0.5, -0.2, 0.3)}


@dataclass
class CameraState:
    username: str
    password: str
    profile: str = "Profile_1"
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    calls: list[str] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)


def _fault(code: str, reason: str) -> bytes:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_ENV}" xmlns:ter="http://www.onvif.org/ver10/error">'
        f"<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>{code}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>'
    ).encode()


def _ok(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_ENV}" xmlns:tptz="{PTZ_NS}" xmlns:tt="{SCHEMA_NS}">'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    state: CameraState

    def log_message(self, format: str, *args: object) -> None:  # quiet in tests
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        status, body = self._answer(self.rfile.read(length))
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self, root: ET.Element) -> bool:
        token = root.find(f".//{{{WSSE_NS}}}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{{{WSSE_NS}}}Username", "")
        digest = token.findtext(f"{{{WSSE_NS}}}Password", "")
        nonce = token.findtext(f"{{{WSSE_NS}}}Nonce", "")
        created = token.findtext(f"{{{WSU_NS}}}Created", "")
        if nonce in self.state.nonces:  # a replayed token
            return False
        expected = password_digest(base64.b64decode(nonce), created, self.state.password)
        self.state.nonces.add(nonce)
        return user == self.state.username and digest == expected

    def _answer(self, raw: bytes) -> tuple[int, bytes]:
        try:
            root = ET.fromstring(raw)  # noqa: S314 (test server)
        except ET.ParseError:
            return 400, _fault("ter:WellFormed", "not XML")
        if not self._authenticated(root):
            return 400, _fault("ter:NotAuthorized", "Sender not authorized")
        body = root.find(f"{{{SOAP_ENV}}}Body")
        operation = body[0] if body is not None and len(body) else None
        if operation is None:
            return 400, _fault("ter:InvalidArgVal", "empty body")
        name = operation.tag.split("}")[-1]
        self.state.calls.append(name)
        if operation.findtext(f"{{{PTZ_NS}}}ProfileToken") != self.state.profile:
            return 400, _fault("ter:NoProfile", "no such profile")
        handler = {"AbsoluteMove": self._move, "GotoPreset": self._preset, "GetStatus": self._status}.get(
            name
        )
        if handler is None:
            return 400, _fault("ter:ActionNotSupported", name)
        return handler(operation)

    def _move(self, operation: ET.Element) -> tuple[int, bytes]:
        pan_tilt = operation.find(f".//{{{SCHEMA_NS}}}PanTilt")
        zoom = operation.find(f".//{{{SCHEMA_NS}}}Zoom")
        pan = float(pan_tilt.get("x", "nan")) if pan_tilt is not None else self.state.pan
        tilt = float(pan_tilt.get("y", "nan")) if pan_tilt is not None else self.state.tilt
        level = float(zoom.get("x", "nan")) if zoom is not None else self.state.zoom
        if not (-1 <= pan <= 1 and -1 <= tilt <= 1 and 0 <= level <= 1):
            return 400, _fault("ter:InvalidPosition", "position outside the generic space")
        self.state.pan, self.state.tilt, self.state.zoom = pan, tilt, level
        return 200, _ok("<tptz:AbsoluteMoveResponse/>")

    def _preset(self, operation: ET.Element) -> tuple[int, bytes]:
        preset = PRESETS.get(operation.findtext(f"{{{PTZ_NS}}}PresetToken", ""))
        if preset is None:
            return 400, _fault("ter:NoToken", "no such preset")
        self.state.pan, self.state.tilt, self.state.zoom = preset
        return 200, _ok("<tptz:GotoPresetResponse/>")

    def _status(self, _operation: ET.Element) -> tuple[int, bytes]:
        s = self.state
        return 200, _ok(
            f'<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="{s.pan}" y="{s.tilt}"/>'
            f'<tt:Zoom x="{s.zoom}"/></tt:Position></tptz:PTZStatus></tptz:GetStatusResponse>'
        )


class SimulatedOnvifCamera:
    """``with SimulatedOnvifCamera("admin", "pw") as cam:`` serves ``cam.url`` until the block ends."""

    def __init__(self, username: str, password: str) -> None:
        self.state = CameraState(username, password)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/onvif/ptz_service"

    def __enter__(self) -> SimulatedOnvifCamera:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
