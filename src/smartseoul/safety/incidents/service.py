"""The incident desk's service API: intake with correlation and priority, the lifecycle, timers.

Every source (a bell, an SOS, a camera fault, a guardian's "find now", a sound or video detection, a
citizen or an operator) becomes an :class:`Intake`; :func:`intake` either joins it to an open
incident close in space and time or opens a new one. Functions take the caller's session and return
the events to publish once the caller has committed, so an event never announces a rolled-back change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.city import service as city
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.core.geo import EARTH_RADIUS_M, haversine_m
from smartseoul.core.settings import Settings
from smartseoul.safety.incidents.events import IncidentOpened, IncidentUpdated
from smartseoul.safety.incidents.models import (
    OPEN_STATUSES,
    SOURCES,
    STATUSES,
    Incident,
    RawAlarm,
    TimelineEntry,
)

SEOUL = ZoneInfo("Asia/Seoul")
FAMILIES = ("emergency", "person", "fault")
DESK_ROLES = ("admin", "operator")
READ_ROLES = ("admin", "operator", "dispatcher", "district_staff", "auditor")


class UnknownIncident(LookupError):
    """No incident with that id (or none the asker may see)."""


@dataclass(frozen=True)
class Intake:
    """One alarm from any source, in the desk's terms.

    ``family`` decides how it correlates: ``emergency`` alarms join any open emergency within the
    correlation distance and window; ``person`` and ``fault`` alarms join only an open incident
    about the same ``subject`` (the same child, the same camera), never a stranger's.
    """

    source: str
    kind: str
    priority: int
    title_ko: str
    title_en: str
    ref: str
    subject: str = ""
    family: str = "emergency"
    lat: float | None = None
    lon: float | None = None
    district_code: str | None = None
    at: datetime = field(default_factory=utcnow)
    bell_id: str | None = None
    camera_ids: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class IntakeResult:
    incident: Incident
    opened: bool
    events: list[Event]


# ---------------------------------------------------------------- priority


_SCHOOLS: dict[str, np.ndarray] = {}


def school_points(session: Session) -> np.ndarray:
    """Schools as radians (lat, lon), loaded once per database: they are reference data."""
    key = str(session.get_bind().engine.url)
    if key not in _SCHOOLS or not len(_SCHOOLS[key]):
        points = [(s.lat, s.lon) for s in city.list_schools(session)]
        _SCHOOLS[key] = np.radians(np.array(points)) if points else np.zeros((0, 2))
    return _SCHOOLS[key]


def near_school(session: Session, lat: float, lon: float, radius_m: float) -> bool:
    """Within ``radius_m`` of any school (haversine over all schools at once: 587 points)."""
    points = school_points(session)
    if not len(points) or radius_m <= 0:
        return False
    p1, l1 = np.radians(lat), np.radians(lon)
    dp, dl = points[:, 0] - p1, points[:, 1] - l1
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(points[:, 0]) * np.sin(dl / 2) ** 2
    nearest = float(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a.min())))
    return nearest <= radius_m


def is_night(at: datetime, start_hour: int, end_hour: int) -> bool:
    """Night in Seoul between ``start_hour`` and ``end_hour`` (wrapping past midnight)."""
    hour = at.astimezone(SEOUL).hour
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def place_priority(base: int, family: str, school_zone: bool, night: bool) -> int:
    """One level more urgent in a school zone, one more at night; faults keep their priority."""
    if family == "fault":
        return base
    return max(1, base - int(school_zone) - int(night))


# ---------------------------------------------------------------- intake


def _ack_timeout(settings: Settings, priority: int) -> int:
    return settings.incidents_ack_timeout_s if priority <= 2 else settings.incidents_ack_timeout_low_s


def add_timeline(session: Session, incident_id: int, kind: str, actor: str, text: str, **data: Any) -> None:
    session.add(TimelineEntry(incident_id=incident_id, kind=kind, actor=actor, text=text, data=data))


def _candidates(session: Session, settings: Settings, item: Intake) -> list[Incident]:
    since = item.at - timedelta(seconds=settings.incidents_correlation_s)
    query = select(Incident).where(
        Incident.status.in_(OPEN_STATUSES),
        Incident.last_alarm_at >= since,
        Incident.family == item.family,
    )
    if item.family != "emergency":
        query = query.where(Incident.subject == item.subject)
    return list(session.scalars(query.order_by(Incident.last_alarm_at.desc()).limit(50)))


def correlate(session: Session, settings: Settings, item: Intake) -> Incident | None:
    """The open incident this alarm belongs to: the same subject, or (emergencies) the one with an
    alarm within the correlation distance and window (single linkage: a fight that moves down the
    street stays one incident), the nearest if several."""
    candidates = _candidates(session, settings, item)
    for incident in candidates:
        if item.subject and incident.subject == item.subject:
            return incident
    if item.family != "emergency" or item.lat is None or item.lon is None or not candidates:
        return None
    since = item.at - timedelta(seconds=settings.incidents_correlation_s)
    by_id = {incident.id: incident for incident in candidates}
    points = session.execute(
        select(RawAlarm.incident_id, RawAlarm.lat, RawAlarm.lon).where(
            RawAlarm.incident_id.in_(by_id), RawAlarm.at >= since, RawAlarm.lat.is_not(None)
        )
    ).all()
    best: tuple[float, int] | None = None
    for incident_id, lat, lon in points:
        if lat is None or lon is None:
            continue
        distance = haversine_m(item.lat, item.lon, lat, lon)
        if distance <= settings.incidents_correlation_m and (best is None or distance < best[0]):
            best = (distance, incident_id)
    return by_id[best[1]] if best else None


def validate_intake(item: Intake) -> None:
    if item.source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}, not {item.source!r}")
    if item.family not in FAMILIES:
        raise InvalidInput(f"family must be one of {', '.join(FAMILIES)}")
    if not 1 <= item.priority <= 4:
        raise InvalidInput("priority must be 1 (highest) to 4")
    if (item.lat is None) != (item.lon is None):
        raise InvalidInput("give both lat and lon, or neither")
    if (
        item.lat is not None
        and item.lon is not None
        and not (-90 <= item.lat <= 90 and -180 <= item.lon <= 180)
    ):
        raise InvalidInput("lat/lon out of range")


def intake(session: Session, settings: Settings, item: Intake) -> IntakeResult:
    """Join ``item`` to an open incident or open a new one; the events to publish after commit."""
    validate_intake(item)
    school_zone = item.lat is not None and item.lon is not None
    school_zone = school_zone and near_school(
        session, item.lat or 0.0, item.lon or 0.0, settings.incidents_school_zone_m
    )
    night = is_night(item.at, settings.incidents_night_start_hour, settings.incidents_night_end_hour)
    priority = place_priority(item.priority, item.family, school_zone, night)
    incident = correlate(session, settings, item)
    if incident is None:
        return _open(session, settings, item, priority, school_zone, night)
    return _join(session, incident, item, priority)


def _open(
    session: Session, settings: Settings, item: Intake, priority: int, school_zone: bool, night: bool
) -> IntakeResult:
    district = item.district_code
    if district is None and item.lat is not None and item.lon is not None:
        district = city_index(session).district_at(item.lat, item.lon)
    incident = Incident(
        source=item.source,
        kind=item.kind,
        family=item.family,
        subject=item.subject,
        priority=priority,
        status="new",
        title_ko=item.title_ko[:256],
        title_en=item.title_en[:256],
        lat=item.lat,
        lon=item.lon,
        district_code=district,
        school_zone=school_zone,
        night=night,
        alarm_count=1,
        camera_ids=list(item.camera_ids),
        bell_id=item.bell_id,
        opened_at=item.at,
        last_alarm_at=item.at,
        ack_deadline=item.at + timedelta(seconds=_ack_timeout(settings, priority)),
    )
    session.add(incident)
    session.flush()
    _record_alarm(session, incident.id, item, priority)
    reasons = [word for word, on in (("school zone", school_zone), ("night", night)) if on]
    add_timeline(
        session,
        incident.id,
        "opened",
        item.source,
        item.title_en,
        priority=priority,
        raised_by=reasons,
        ref=item.ref,
        **item.data,
    )
    event = IncidentOpened(
        incident_id=incident.id,
        origin=item.source,
        kind=item.kind,
        priority=priority,
        lat=item.lat,
        lon=item.lon,
        district_code=district,
        title=item.title_en,
        title_ko=item.title_ko,
    )
    return IntakeResult(incident, True, [event])


def _join(session: Session, incident: Incident, item: Intake, priority: int) -> IntakeResult:
    incident.alarm_count += 1
    incident.last_alarm_at = max(incident.last_alarm_at, item.at)
    if incident.lat is None and item.lat is not None:
        incident.lat, incident.lon = item.lat, item.lon
    if item.bell_id and not incident.bell_id:
        incident.bell_id = item.bell_id
    if item.camera_ids:
        incident.camera_ids = sorted(set(incident.camera_ids) | set(item.camera_ids))
    change = "alarm joined"
    if priority < incident.priority:
        incident.priority = priority
        change = "alarm joined, priority raised"
    _record_alarm(session, incident.id, item, priority)
    add_timeline(session, incident.id, "alarm", item.source, item.title_en, ref=item.ref, priority=priority)
    event = IncidentUpdated(
        incident_id=incident.id, status=incident.status, priority=incident.priority, by=None, change=change
    )
    return IntakeResult(incident, False, [event])


def _record_alarm(session: Session, incident_id: int, item: Intake, priority: int) -> None:
    session.add(
        RawAlarm(
            incident_id=incident_id,
            source=item.source,
            kind=item.kind,
            ref=item.ref[:96],
            lat=item.lat,
            lon=item.lon,
            at=item.at,
            priority=priority,
        )
    )


_INDEXES: dict[str, city.CityIndex] = {}


def city_index(session: Session) -> city.CityIndex:
    """The district polygons in memory, once per database."""
    key = str(session.get_bind().engine.url)
    if key not in _INDEXES:
        _INDEXES[key] = city.CityIndex.from_session(session)
    return _INDEXES[key]


# ---------------------------------------------------------------- lifecycle


def get_incident(session: Session, incident_id: int, principal: Principal | None = None) -> Incident:
    """The incident, if it exists and ``principal`` may see it (district staff: their district)."""
    incident = session.get(Incident, incident_id)
    if incident is None or (principal is not None and not may_see(principal, incident)):
        raise UnknownIncident(incident_id)
    return incident


def may_see(principal: Principal, incident: Incident) -> bool:
    if principal.has_any("admin", "operator", "dispatcher", "auditor"):
        return True
    return principal.has_any("district_staff") and incident.district_code == principal.district_code


def transition(
    session: Session, incident: Incident, status: str, actor: str, note: str = "", now: datetime | None = None
) -> list[Event]:
    """Move the incident forward in its lifecycle (skipping steps is allowed, going back is not).

    Any move past ``new`` counts as the acknowledgement and stops the escalation timer.
    """
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    current, target = STATUSES.index(incident.status), STATUSES.index(status)
    if target <= current:
        raise InvalidInput(f"incident {incident.id} is {incident.status}; it cannot become {status}")
    when = now or utcnow()
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by = when, actor
    setattr(incident, f"{status}_at", when)
    setattr(incident, f"{status}_by", actor)
    incident.status = status
    incident.ack_deadline = None
    add_timeline(session, incident.id, "status", actor, note, status=status)
    return [IncidentUpdated(incident_id=incident.id, status=status, priority=incident.priority, by=actor)]


def acknowledge(session: Session, incident: Incident, actor: str, note: str = "") -> list[Event]:
    """Acknowledge a new incident; an already acknowledged one is left as it is (idempotent)."""
    if incident.status != "new":
        return []
    return transition(session, incident, "acknowledged", actor, note)


def add_note(session: Session, incident: Incident, actor: str, text: str) -> list[Event]:
    text = text.strip()
    if not text or len(text) > 4000:
        raise InvalidInput("text: a note needs 1 to 4000 characters")
    add_timeline(session, incident.id, "note", actor, text)
    return [
        IncidentUpdated(
            incident_id=incident.id,
            status=incident.status,
            priority=incident.priority,
            by=actor,
            change="note",
        )
    ]


def attach_cameras(
    session: Session, incident: Incident, camera_ids: list[int], ptz_ids: list[int], actor: str = "cctv"
) -> list[Event]:
    """The cctv domain turned these cameras to the incident: keep them for the live tiles."""
    incident.camera_ids = list(dict.fromkeys([*camera_ids, *incident.camera_ids]))
    add_timeline(
        session,
        incident.id,
        "cameras",
        actor,
        f"cameras turned: {len(camera_ids)} covering, {len(ptz_ids)} PTZ",
        camera_ids=camera_ids,
        ptz_camera_ids=ptz_ids,
    )
    return [
        IncidentUpdated(
            incident_id=incident.id,
            status=incident.status,
            priority=incident.priority,
            by=actor,
            change="cameras",
        )
    ]


def incidents_of_alarm(session: Session, ref: str) -> list[Incident]:
    ids = session.scalars(select(RawAlarm.incident_id).where(RawAlarm.ref == ref)).all()
    return [incident for i in dict.fromkeys(ids) if (incident := session.get(Incident, i)) is not None]


# ---------------------------------------------------------------- escalation


def goes_to_police(incident: Incident) -> bool:
    """Emergencies and urgent (priority 1-2) alarms end with the police; a low battery or a camera
    fault nobody acknowledged stays with the supervisor."""
    return incident.family != "fault" and (incident.family == "emergency" or incident.priority <= 2)


def check_escalations(session: Session, settings: Settings, now: datetime | None = None) -> list[Event]:
    """Escalate each new incident past its deadline: first to the supervisor, then (emergencies and
    urgent alarms) to the police hand-over. Rows are locked (skipping those another worker holds)
    on PostgreSQL."""
    from smartseoul.safety.incidents import handovers

    now = now or utcnow()
    due = session.scalars(
        select(Incident)
        .where(Incident.status == "new", Incident.ack_deadline <= now)
        .order_by(Incident.ack_deadline)
        .limit(100)
        .with_for_update(skip_locked=True)
    ).all()
    events: list[Event] = []
    for incident in due:
        incident.escalation_level += 1
        if incident.escalation_level == 1:
            incident.ack_deadline = now + timedelta(seconds=_ack_timeout(settings, incident.priority))
            add_timeline(
                session, incident.id, "escalated", "timer", "not acknowledged in time: supervisor alerted"
            )
            change = "escalated to supervisor"
        else:
            incident.ack_deadline = None
            change = "escalated to police"
            if goes_to_police(incident):
                events += handovers.escalate_to_police(session, settings, incident, now)
            else:
                change = "still not acknowledged"
                add_timeline(session, incident.id, "escalated", "timer", "still not acknowledged")
        events.append(
            IncidentUpdated(
                incident_id=incident.id,
                status=incident.status,
                priority=incident.priority,
                by="timer",
                change=change,
            )
        )
    return events


# ---------------------------------------------------------------- reading


def list_incidents(
    session: Session, principal: Principal, status: str | None = None, limit: int = 200
) -> list[Incident]:
    query = select(Incident)
    if status == "open":
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    elif status:
        if status not in STATUSES:
            raise InvalidInput(f"status must be open or one of {', '.join(STATUSES)}")
        query = query.where(Incident.status == status)
    if not principal.has_any("admin", "operator", "dispatcher", "auditor"):
        query = query.where(Incident.district_code == (principal.district_code or "-"))
    query = query.order_by(Incident.priority, Incident.opened_at.desc()).limit(limit)
    return list(session.scalars(query))


def incident_dict(incident: Incident) -> dict[str, Any]:
    stamps = {
        f"{s}_{suffix}": getattr(incident, f"{s}_{suffix}") for s in STATUSES[1:] for suffix in ("at", "by")
    }
    return {
        "id": incident.id,
        "source": incident.source,
        "kind": incident.kind,
        "priority": incident.priority,
        "status": incident.status,
        "title_ko": incident.title_ko,
        "title_en": incident.title_en,
        "lat": incident.lat,
        "lon": incident.lon,
        "district_code": incident.district_code,
        "school_zone": incident.school_zone,
        "night": incident.night,
        "alarm_count": incident.alarm_count,
        "camera_ids": incident.camera_ids,
        "bell_id": incident.bell_id,
        "subject": incident.subject,
        "opened_at": incident.opened_at,
        "last_alarm_at": incident.last_alarm_at,
        "escalation_level": incident.escalation_level,
        "ack_deadline": incident.ack_deadline,
        **{key: value for key, value in stamps.items()},
    }


def timeline(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(TimelineEntry).where(TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.id)
    )
    return [
        {"at": row.at, "kind": row.kind, "actor": row.actor, "text": row.text, "data": row.data}
        for row in rows
    ]


def correlation_counts(session: Session) -> tuple[int, int]:
    """(raw alarms, incidents): how many alarms the correlation folded into how many incidents."""
    alarms = session.scalar(select(func.count()).select_from(RawAlarm)) or 0
    incidents = session.scalar(select(func.count()).select_from(Incident)) or 0
    return alarms, incidents
