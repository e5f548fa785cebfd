"""The operators' page ``/console/sound``: live level and score meters per microphone, detections
with a playable clip and the scores over time, and per-class threshold editing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.safety.sound import service
from smartseoul.safety.sound.model import DANGER_CLASSES
from smartseoul.web.deps import db_session
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
CONSOLE_ROLES = ("operator", "admin", "auditor")
EDIT_ROLES = ("operator", "admin")
SEOUL = ZoneInfo("Asia/Seoul")


def seoul_time(value: datetime) -> str:
    """Stored in UTC, shown in Seoul time."""
    return value.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S")


def _detections(session: Session) -> list[dict[str, Any]]:
    rows = []
    for row in service.list_detections(session, limit=30):
        item = service.detection_dict(row)
        item["seoul_time"] = seoul_time(row.detected_at)
        rows.append(item)
    return rows


@router.get("/console/sound")
def console_sound(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *CONSOLE_ROLES)
    settings = request.app.state.platform.settings
    devices = [service.device_dict(d, settings) for d in service.list_devices(session)]
    return render(
        request,
        "sound/console.html",
        principal=principal,
        devices=devices,
        detections=_detections(session),
        classes=DANGER_CLASSES,
        may_edit=principal.has_any(*EDIT_ROLES),
    )
