"""A small ONVIF PTZ client: SOAP 1.2 over HTTP with WS-Security UsernameToken (PasswordDigest).

Only what turning a camera to an incident needs: ``AbsoluteMove`` (pan, tilt, zoom in the
generic normalised spaces, -1..1 and 0..1), ``GotoPreset`` and ``GetStatus``. ONVIF's pan space
maps -1..1 to -180..180 degrees from the camera's home position, tilt -1..1 to -90..90 degrees
(the convention of most PTZ domes; a device with other limits is configured through them).
"""

from __future__ import annotations

import base64
import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
PTZ_NS = "http://www.onvif.org/ver20/ptz/wsdl"
SCHEMA_NS = "http://www.onvif.org/ver10/schema"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)
NONCE_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


class OnvifError(RuntimeError):
    """The device refused (a SOAP fault), did not answer, or answered something else."""


@dataclass(frozen=True)
class PtzPosition:
    pan: float  # -1..1
    tilt: float  # -1..1
    zoom: float  # 0..1


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)), the WS-Security UsernameToken digest."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()  # noqa: S324 (the standard's digest)


def _security_header(username: str, password: str) -> str:
    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return (
        f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}">'
        "<wsse:UsernameToken>"
        f"<wsse:Username>{_escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST_TYPE}">{password_digest(nonce, created, password)}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{NONCE_TYPE}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def envelope(body: str, username: str = "", password: str = "") -> str:
    header = f"<s:Header>{_security_header(username, password)}</s:Header>" if username else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_ENV}" '
        f'xmlns:tptz="{PTZ_NS}" xmlns:tt="{SCHEMA_NS}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    )


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def position_from_degrees(pan_deg: float, tilt_deg: float, zoom: float) -> PtzPosition:
    """Degrees from home (pan -180..180, tilt -90..90) to ONVIF's generic normalised space."""
    return PtzPosition(
        round(clamp(pan_deg / 180.0, -1, 1), 4), round(clamp(tilt_deg / 90.0, -1, 1), 4), clamp(zoom, 0, 1)
    )


class OnvifPtzClient:
    """Talks to the PTZ service of one device (``url`` is its PTZ service address)."""

    def __init__(self, url: str, username: str, password: str, profile: str, timeout: float = 3.0) -> None:
        self.url, self.username, self.password, self.profile = url, username, password, profile
        self.timeout = timeout

    def _call(self, action: str, body: str) -> ET.Element:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{PTZ_NS}/{action}"'}
        try:
            response = httpx.post(
                self.url,
                content=envelope(body, self.username, self.password).encode(),
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise OnvifError(f"{self.url}: {action} got no answer ({error.__class__.__name__})") from None
        try:
            root = ET.fromstring(response.content)  # noqa: S314 (a device on the city's camera network)
        except ET.ParseError:
            raise OnvifError(
                f"{self.url}: {action} answered HTTP {response.status_code} without SOAP"
            ) from None
        fault = root.find(f".//{{{SOAP_ENV}}}Fault")
        if fault is not None or response.status_code >= 400:
            reason = "".join(fault.itertext()).strip() if fault is not None else ""
            raise OnvifError(f"{self.url}: {action} refused (HTTP {response.status_code}) {reason}".strip())
        return root

    def absolute_move(self, position: PtzPosition) -> None:
        self._call(
            "AbsoluteMove",
            f"<tptz:AbsoluteMove><tptz:ProfileToken>{_escape(self.profile)}</tptz:ProfileToken>"
            f'<tptz:Position><tt:PanTilt x="{position.pan}" y="{position.tilt}"/>'
            f'<tt:Zoom x="{position.zoom}"/></tptz:Position></tptz:AbsoluteMove>',
        )

    def goto_preset(self, preset: str) -> None:
        self._call(
            "GotoPreset",
            f"<tptz:GotoPreset><tptz:ProfileToken>{_escape(self.profile)}</tptz:ProfileToken>"
            f"<tptz:PresetToken>{_escape(preset)}</tptz:PresetToken></tptz:GotoPreset>",
        )

    def status(self) -> PtzPosition:
        root = self._call(
            "GetStatus",
            f"<tptz:GetStatus><tptz:ProfileToken>{_escape(self.profile)}</tptz:ProfileToken></tptz:GetStatus>",
        )
        pan_tilt = root.find(f".//{{{SCHEMA_NS}}}PanTilt")
        zoom = root.find(f".//{{{SCHEMA_NS}}}Zoom")
        if pan_tilt is None or zoom is None:
            raise OnvifError(f"{self.url}: GetStatus without a position")
        return PtzPosition(float(pan_tilt.get("x", 0)), float(pan_tilt.get("y", 0)), float(zoom.get("x", 0)))
