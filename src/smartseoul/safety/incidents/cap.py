"""The CAP 1.2 version of a hand-over, for agencies whose systems take CAP rather than our JSON.

Built with the platform's one CAP builder (:func:`smartseoul.safety.alerts.cap.cap_document`, which
validates against the OASIS schema). A hand-over is addressed to one agency, so the message is
``Private`` with that agency in ``<addresses>`` (CAP 1.2 §3.2.1), in Korean and English.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from smartseoul.safety.alerts import cap
from smartseoul.safety.alerts.cap import CapArea, CapInfo
from smartseoul.safety.incidents.models import Agency, Incident

SENDER = "incidents@smartseoul.seoul.kr"
CATEGORY = {"police": "Security", "fire": "Fire", "school_guard": "Security", "district": "Safety"}
SEVERITY = {1: "Severe", 2: "Moderate", 3: "Minor", 4: "Minor"}
INCIDENT_RADIUS_KM = 0.15


def _area(incident: Incident) -> CapArea:
    if incident.lat is not None and incident.lon is not None:
        return CapArea(
            desc=incident.district_code or "Seoul",
            circles=(f"{incident.lat:.6f},{incident.lon:.6f} {INCIDENT_RADIUS_KM}",),
        )
    return CapArea(
        desc=incident.district_code or "Seoul", geocodes=(("district", incident.district_code or "-"),)
    )


def handover_cap(incident: Incident, agency: Agency, handover_id: int, sent: datetime) -> bytes:
    """The hand-over as a valid CAP 1.2 document."""
    infos = [
        CapInfo(
            language=language,
            category=CATEGORY.get(agency.kind, "Safety"),
            event=incident.kind,
            urgency="Immediate" if incident.priority <= 2 else "Expected",
            severity=SEVERITY.get(incident.priority, "Unknown"),
            certainty="Observed" if incident.source in ("bell", "operator", "tracking") else "Likely",
            headline=(incident.title_ko if language == "ko-KR" else incident.title_en)[:160],
            sender_name="서울시 통합관제센터" if language == "ko-KR" else "Seoul integrated control centre",
            areas=(_area(incident),),
            parameters=(("incident_id", str(incident.id)), ("priority", str(incident.priority))),
        )
        for language in ("ko-KR", "en-US")
    ]
    document = cap.cap_document(
        identifier=f"smartseoul-handover-{handover_id}",
        sender=SENDER,
        sent=sent,
        scope="Private",
        infos=infos,
        incidents=f"smartseoul-incident-{incident.id}",
        note=f"hand-over to {agency.code}",
    )
    return _address(document, agency.code)


def _address(document: bytes, code: str) -> bytes:
    """Put ``<addresses>`` right after ``<scope>`` (the schema's order) and validate again."""
    namespace = cap.CAP_NS
    root = ET.fromstring(document)  # noqa: S314 (our own output)
    scope = root.find(f"{{{namespace}}}scope")
    assert scope is not None
    addresses = ET.Element(f"{{{namespace}}}addresses")
    addresses.text = code
    root.insert(list(root).index(scope) + 1, addresses)
    result: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=namespace)
    errors = cap.validation_errors(result)
    if errors:
        raise ValueError("; ".join(errors[:3]))
    return result
