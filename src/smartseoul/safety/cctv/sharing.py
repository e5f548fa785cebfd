"""Who may view which camera: sharing policies by role, agency, purpose, district and time of day.

The integrated control room, the police and the fire service see the cameras their policy grants
(in the demo: about 10,000 crime-prevention cameras shared with the control room); district staff
see the cameras of their own district only; an administrator sees all. Every view that is granted
is written to the audit ledger by :func:`record_view` with the viewer and the reason.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.db import utcnow
from smartseoul.core.models import ROLES
from smartseoul.safety.cctv.models import AGENCIES, PURPOSES, VIEW_KINDS, AgencyMember, Camera, SharingPolicy

SEOUL = ZoneInfo("Asia/Seoul")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_REASON = 500


def agency_of(session: Session, principal: Principal) -> str | None:
    """The agency a signed-in person works for (API keys have none)."""
    if principal.kind != "user":
        return None
    member = session.get(AgencyMember, principal.id)
    return member.agency if member else None


def set_agency(session: Session, user_id: int, agency: str | None, actor: str) -> None:
    """Record (or clear, with None) the agency of an account; the ledger keeps who did it."""
    if agency is not None and agency not in AGENCIES:
        raise InvalidInput(f"agency: choose from {', '.join(AGENCIES)} (got {agency!r})")
    member = session.get(AgencyMember, user_id)
    if agency is None:
        if member is not None:
            session.delete(member)
    elif member is None:
        session.add(AgencyMember(user_id=user_id, agency=agency))
    else:
        member.agency = agency
    session.flush()
    audit.record(
        session, actor=actor, action="cctv.agency.set", target=f"user:{user_id}", details={"agency": agency}
    )


def in_window(start: str | None, end: str | None, at: datetime) -> bool:
    """Whether ``at`` (any zone) falls in the daily Seoul window; a window may wrap past midnight."""
    if not start or not end:
        return True
    local = at.astimezone(SEOUL).time()
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish


def policy_grants(policy: SharingPolicy, camera: Camera, at: datetime) -> bool:
    """Whether one policy covers this camera at this moment (the role and agency are checked apart)."""
    return (
        policy.active
        and (not policy.purposes or camera.purpose in policy.purposes)
        and (not policy.district_codes or camera.district_code in policy.district_codes)
        and (camera.shared or not policy.shared_only)
        and in_window(policy.start, policy.end, at)
    )


def policies_for(session: Session, principal: Principal) -> list[SharingPolicy]:
    """The active policies that apply to this viewer's roles and agency."""
    agency = agency_of(session, principal)
    rows = session.scalars(
        select(SharingPolicy).where(SharingPolicy.active.is_(True), SharingPolicy.role.in_(principal.roles))
    )
    return [p for p in rows if p.agency is None or p.agency == agency]


def may_view_camera(
    session: Session, principal: Principal, camera: Camera, at: datetime | None = None
) -> bool:
    """The sharing decision for one camera that exists."""
    if camera.status == "removed":
        return False
    if principal.has_any("admin"):
        return True
    if principal.has_any("district_staff") and principal.district_code == camera.district_code:
        return True
    moment = at or utcnow()
    return any(policy_grants(p, camera, moment) for p in policies_for(session, principal))


def record_view(
    session: Session, principal: Principal, camera: Camera, reason: str, kind: str, client: str = ""
) -> None:
    """Write one live view, playback or snapshot to the audit ledger (who, which camera, why)."""
    if kind not in VIEW_KINDS:
        raise InvalidInput(f"kind: choose from {', '.join(VIEW_KINDS)} (got {kind!r})")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason: say why the camera is viewed (it goes to the audit ledger)")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters")
    audit.record(
        session,
        actor=principal.name,
        action=f"cctv.view.{kind}",
        target=f"camera:{camera.id}",
        reason=reason,
        client=client,
        details={"camera_code": camera.code, "district_code": camera.district_code, "kind": kind},
    )


def _check_window(value: str | None, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not HHMM.match(value):
        raise InvalidInput(f"{field}: use HH:MM (24 h, Asia/Seoul), got {value!r}")
    return value


def add_policy(session: Session, *, actor: str, **fields: Any) -> SharingPolicy:
    """Add a sharing policy after checking every field; the ledger keeps who granted what."""
    role = fields.get("role")
    if role not in ROLES:
        raise InvalidInput(f"role: choose from {', '.join(ROLES)} (got {role!r})")
    agency = fields.get("agency") or None
    if agency is not None and agency not in AGENCIES:
        raise InvalidInput(f"agency: choose from {', '.join(AGENCIES)} (got {agency!r})")
    purposes = list(fields.get("purposes") or [])
    unknown = sorted(set(purposes) - set(PURPOSES))
    if unknown:
        raise InvalidInput(f"purposes: unknown {', '.join(unknown)}; choose from {', '.join(PURPOSES)}")
    start = _check_window(fields.get("start"), "start")
    end = _check_window(fields.get("end"), "end")
    if (start is None) != (end is None):
        raise InvalidInput("start, end: give both ends of the time window or neither")
    name = str(fields.get("name") or "").strip()
    if not name:
        raise InvalidInput("name: a policy needs a name")
    policy = SharingPolicy(
        name=name[:128],
        role=role,
        agency=agency,
        purposes=purposes,
        district_codes=list(fields.get("district_codes") or []),
        start=start,
        end=end,
        shared_only=bool(fields.get("shared_only", True)),
        active=True,
        created_by=actor,
    )
    session.add(policy)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cctv.policy.add",
        target=f"policy:{policy.id}",
        details=policy_dict(policy),
    )
    return policy


def policy_dict(policy: SharingPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "role": policy.role,
        "agency": policy.agency,
        "purposes": policy.purposes,
        "district_codes": policy.district_codes,
        "start": policy.start,
        "end": policy.end,
        "shared_only": policy.shared_only,
        "active": policy.active,
    }


def list_policies(session: Session) -> list[SharingPolicy]:
    return list(session.scalars(select(SharingPolicy).order_by(SharingPolicy.id)))
