"""OASIS CAP 1.2 documents: built here, validated against the official schema before they leave.

``cap_document`` is the one builder of the platform (alerts, and the incident desk's hand-over to
agencies); it refuses to return a document the shipped ``CAP-v1.2.xsd`` rejects, so nothing
invalid is ever stored, served or sent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import xmlschema

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
SEOUL = ZoneInfo("Asia/Seoul")
CATEGORIES = tuple(
    [
        "Geo",
        "Met",
        "Safety",
        "Security",
        "Rescue",
        "Fire",
        "Health",
        "Env",
        "Transport",
        "Infra",
        "CBRNE",
        "Other",
    ]
)
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
RESPONSE_TYPES = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
# CAP 1.2 §3.2.1: identifier and sender contain no spaces, commas or restricted characters (< and &).
_NO_SEPARATORS = re.compile(r"^[^\s,<&]+$")


class CapInvalid(ValueError):
    """A document that does not validate against the CAP 1.2 schema (a bug, never sent)."""


@dataclass(frozen=True)
class CapArea:
    """One ``<area>``: a description and any of polygons (``lat,lon ...`` closed rings), circles
    (``lat,lon radius_km``) and geocodes (name, value)."""

    desc: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CapInfo:
    """One ``<info>`` block, in one language."""

    language: str
    category: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    web: str = ""
    response_type: str | None = None
    effective: datetime | None = None
    expires: datetime | None = None
    areas: tuple[CapArea, ...] = ()
    parameters: tuple[tuple[str, str], ...] = field(default=())


def cap_time(moment: datetime) -> str:
    """CAP's date-time: seconds, an explicit offset and no 'Z' (shown in Seoul time, +09:00)."""
    return moment.astimezone(SEOUL).replace(microsecond=0).isoformat()


def reference(sender: str, identifier: str, sent: datetime) -> str:
    """One entry of ``<references>``: ``sender,identifier,sent`` of an earlier message."""
    return f"{sender},{identifier},{cap_time(sent)}"


@cache
def schema() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema shipped in the package (see schema/SOURCES.md)."""
    path = resources.files("smartseoul.safety.alerts").joinpath("schema", "CAP-v1.2.xsd")
    return xmlschema.XMLSchema(str(path))


def validation_errors(document: bytes) -> list[str]:
    """Why ``document`` is not valid CAP 1.2 (empty when it is)."""
    try:
        root = ET.fromstring(document)  # noqa: S314 (our own output, or a test's)
    except ET.ParseError as error:
        return [f"not XML: {error}"]
    return [f"{error.path}: {error.reason}" for error in schema().iter_errors(root)]


def _sub(parent: ET.Element, name: str, text: str | None) -> None:
    if text:
        ET.SubElement(parent, f"{{{CAP_NS}}}{name}").text = text


def _pairs(parent: ET.Element, name: str, pairs: Sequence[tuple[str, str]]) -> None:
    for value_name, value in pairs:
        element = ET.SubElement(parent, f"{{{CAP_NS}}}{name}")
        _sub(element, "valueName", value_name)
        _sub(element, "value", value)


def _area(parent: ET.Element, area: CapArea) -> None:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}area")
    _sub(element, "areaDesc", area.desc)
    for polygon in area.polygons:
        _sub(element, "polygon", polygon)
    for circle in area.circles:
        _sub(element, "circle", circle)
    _pairs(element, "geocode", area.geocodes)


def _info(parent: ET.Element, info: CapInfo) -> None:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}info")
    _sub(element, "language", info.language)
    _sub(element, "category", info.category)
    _sub(element, "event", info.event)
    _sub(element, "responseType", info.response_type)
    _sub(element, "urgency", info.urgency)
    _sub(element, "severity", info.severity)
    _sub(element, "certainty", info.certainty)
    _sub(element, "effective", cap_time(info.effective) if info.effective else None)
    _sub(element, "expires", cap_time(info.expires) if info.expires else None)
    _sub(element, "senderName", info.sender_name)
    _sub(element, "headline", info.headline)
    _sub(element, "description", info.description)
    _sub(element, "instruction", info.instruction)
    _sub(element, "web", info.web)
    _pairs(element, "parameter", info.parameters)
    for area in info.areas:
        _area(element, area)


def cap_document(
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    msg_type: str = "Alert",
    status: str = "Actual",
    scope: str = "Public",
    infos: Sequence[CapInfo] = (),
    references: Sequence[str] = (),
    note: str = "",
    incidents: str = "",
    source: str = "",
) -> bytes:
    """A CAP 1.2 ``<alert>`` as UTF-8 bytes, valid against the OASIS schema.

    ``references`` are entries made with :func:`reference`; an Update or a Cancel must name the
    message(s) it refers to. Raises ValueError for an identifier or sender CAP forbids, and
    CapInvalid if the result does not validate (nothing invalid leaves this function).
    """
    for name, value in (("identifier", identifier), ("sender", sender)):
        if not _NO_SEPARATORS.match(value):
            raise ValueError(f"{name}: no spaces, commas, '<' or '&' allowed in CAP ({value!r})")
    if msg_type in ("Update", "Cancel") and not references:
        raise ValueError(f"msg_type: an {msg_type} must reference the message(s) it follows")
    root = ET.Element(f"{{{CAP_NS}}}alert")
    for name, text in (
        ("identifier", identifier),
        ("sender", sender),
        ("sent", cap_time(sent)),
        ("status", status),
        ("msgType", msg_type),
        ("source", source),
        ("scope", scope),
        ("note", note),
        ("references", " ".join(references)),
        ("incidents", incidents),
    ):
        _sub(root, name, text)
    for info in infos:
        _info(root, info)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)
    errors = validation_errors(document)
    if errors:
        raise CapInvalid("; ".join(errors[:5]))
    return document


def indented(document: bytes) -> bytes:
    """The same document laid out one element a line, for people reading it (the preview)."""
    root = ET.fromstring(document)  # noqa: S314 (a document this module built)
    ET.indent(root)
    pretty: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)
    return pretty


@dataclass(frozen=True)
class FeedEntry:
    """One current alert in the Atom feed."""

    identifier: str
    title: str
    summary: str
    updated: datetime
    cap_url: str
    severity: str
    expires: datetime


def atom_feed(*, feed_id: str, title: str, self_url: str, entries: Sequence[FeedEntry]) -> bytes:
    """An Atom (RFC 4287) feed whose entries link to each alert's CAP document."""
    # Plain names with the namespaces declared on the root: ElementTree's default_namespace
    # option refuses unqualified attributes such as rel and href.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xmlns:cap": CAP_NS})

    def add(parent: ET.Element, name: str, text: str = "", **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, name, attributes)
        if text:
            element.text = text
        return element

    add(feed, "id", feed_id)
    add(feed, "title", title)
    updated = max((entry.updated for entry in entries), default=None)
    add(feed, "updated", updated.isoformat() if updated else "1970-01-01T00:00:00+00:00")
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(add(feed, "author"), "name", "Smart Seoul")
    for item in entries:
        entry = add(feed, "entry")
        add(entry, "id", f"urn:cap:{item.identifier}")
        add(entry, "title", item.title)
        add(entry, "updated", item.updated.isoformat())
        add(entry, "summary", item.summary)
        add(entry, "link", rel="alternate", href=item.cap_url, type=CAP_MEDIA_TYPE)
        add(entry, "cap:severity", item.severity)
        add(entry, "cap:expires", cap_time(item.expires))
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
