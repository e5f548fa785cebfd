"""The monitoring domain's service API: monitored cameras, rules, detections and verdicts.

Other domains call these (never the tables). Rules are checked by ``rules.check_rule`` (a refusal
names the field); a detection's snapshot is stored as a file under the data dir and read back only
through :func:`snapshot_bytes`, after the reader's view was recorded (``cctv.record_view``).

Feedback: an operator marks a detection correct or a false positive. :func:`tuned_threshold`
then sets the camera's detection threshold where it would have dropped most false positives at
the least cost of real ones (a missed real event costs twice a false one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.safety.cctv import service as cctv
from smartseoul.safety.monitoring.models import VERDICTS, Detection, MonitoredCamera, MonitoringRule
from smartseoul.safety.monitoring.rules import Rule, RuleError, check_rule
from smartseoul.safety.monitoring.worker import CameraJob

__all__ = [
    "Fired",
    "MonitoredCamera",
    "NotFound",
    "RuleError",
    "add_rule",
    "delete_rule",
    "detection_dict",
    "get_detection",
    "job_of",
    "list_detections",
    "monitored",
    "record_detection",
    "rule_dict",
    "rules_of",
    "set_verdict",
    "snapshot_bytes",
    "stream_of",
    "to_rule",
    "tuned_threshold",
    "wall_stream",
    "watch_camera",
]

MAX_THRESHOLD = 0.9
MISSED_COST = 2.0  # a real event missed costs twice a false alarm
SNAPSHOT_DIR = Path("monitoring") / "snapshots"


class NotFound(LookupError):
    """An unknown camera, rule or detection (the API answers 404)."""


def monitored(session: Session, enabled_only: bool = True) -> list[MonitoredCamera]:
    query = select(MonitoredCamera).order_by(MonitoredCamera.camera_id)
    if enabled_only:
        query = query.where(MonitoredCamera.enabled.is_(True))
    return list(session.scalars(query))


def shared_camera_count(session: Session) -> int:
    """Active cameras shared with the control room: what the plan wants watched (the issue's
    denominator of the monitored share), whether or not they are under monitoring yet."""
    from smartseoul.safety.cctv.models import Camera

    query = select(func.count(Camera.id)).where(Camera.shared.is_(True), Camera.status == "active")
    return int(session.scalar(query) or 0)


def watch_camera(
    session: Session, camera_id: int, stream_url: str = "", threshold: float = 0.5, actor: str = "system"
) -> MonitoredCamera:
    """Put a registry camera under monitoring (or update its stream); unknown camera: NotFound."""
    if cctv.get_camera(session, camera_id) is None:
        raise NotFound(f"no camera {camera_id}")
    if stream_url and not stream_url.startswith(("http://", "https://", "rtsp://", "rtsps://", "file:")):
        raise RuleError("stream_url", "a stream is an http(s), rtsp(s) or file URL")
    row = session.get(MonitoredCamera, camera_id)
    if row is None:
        row = MonitoredCamera(camera_id=camera_id, threshold=threshold, masks=[])
        session.add(row)
    row.stream_url, row.enabled, row.updated_at = stream_url, True, utcnow()
    audit.record(session, actor=actor, action="monitoring.camera.watch", target=f"camera:{camera_id}")
    session.flush()
    return row


def stream_of(session: Session, row: MonitoredCamera) -> str:
    """The stream a worker reads: the override, else the registry's sub-stream, else main stream."""
    if row.stream_url:
        return row.stream_url
    camera = cctv.get_camera(session, row.camera_id)
    if camera is None:
        return ""
    return camera.rtsp_sub or camera.rtsp_main


def wall_stream(session: Session, camera_id: int) -> str:
    """The MJPEG stream the analysis of a monitored camera reads ("" for any other camera).

    The video wall shows this stream on the camera's tile, as it comes, so that the boxes of the
    analysis fit the picture; RTSP and files are decoded by the analysis only (the wall would
    have to decode and re-encode them), so they are not offered.
    """
    row = session.get(MonitoredCamera, camera_id)
    if row is None or not row.enabled:
        return ""
    url = stream_of(session, row)
    return url if url.startswith(("http://", "https://")) else ""


def rules_of(session: Session, camera_id: int, active_only: bool = False) -> list[MonitoringRule]:
    query = select(MonitoringRule).where(MonitoringRule.camera_id == camera_id).order_by(MonitoringRule.id)
    if active_only:
        query = query.where(MonitoringRule.active.is_(True))
    return list(session.scalars(query))


def to_rule(row: MonitoringRule) -> Rule:
    return Rule(
        row.id,
        row.kind,
        tuple((float(x), float(y)) for x, y in row.zone),
        dict(row.params),
        row.start,
        row.end,
        row.name,
    )


def job_of(session: Session, row: MonitoredCamera) -> CameraJob:
    """What a worker needs for this camera (its stream, active rules, tuned threshold, masks)."""
    masks = tuple(tuple((float(x), float(y)) for x, y in mask) for mask in row.masks or [])
    rules = tuple(to_rule(r) for r in rules_of(session, row.camera_id, active_only=True))
    return CameraJob(row.camera_id, stream_of(session, row), rules, row.threshold, masks)


def add_rule(
    session: Session, camera_id: int, data: dict[str, Any], actor: str, labels: tuple[str, ...] = ("person",)
) -> MonitoringRule:
    """A checked rule on a monitored camera; RuleError names the bad field."""
    if session.get(MonitoredCamera, camera_id) is None:
        if cctv.get_camera(session, camera_id) is None:
            raise NotFound(f"no camera {camera_id}")
        raise RuleError("camera_id", f"camera {camera_id} is not monitored")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 64:
        raise RuleError("name", "name is text of at most 64 characters")
    kind, zone, params, start, end = check_rule(
        data.get("kind"), data.get("zone"), data.get("params"), data.get("start"), data.get("end"), labels
    )
    row = MonitoringRule(
        camera_id=camera_id,
        name=name.strip(),
        kind=kind,
        zone=[list(p) for p in zone],
        params=params,
        start=start,
        end=end,
        active=True,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="monitoring.rule.add",
        target=f"camera:{camera_id}",
        details={"rule_id": row.id, "kind": kind},
    )
    return row


def delete_rule(session: Session, camera_id: int, rule_id: int, actor: str) -> None:
    row = session.get(MonitoringRule, rule_id)
    if row is None or row.camera_id != camera_id:
        raise NotFound(f"no rule {rule_id} on camera {camera_id}")
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="monitoring.rule.delete",
        target=f"camera:{camera_id}",
        details={"rule_id": rule_id},
    )
    session.flush()


def rule_dict(row: MonitoringRule) -> dict[str, Any]:
    return {
        "id": row.id,
        "camera_id": row.camera_id,
        "name": row.name,
        "kind": row.kind,
        "zone": row.zone,
        "params": row.params,
        "start": row.start,
        "end": row.end,
        "active": row.active,
    }


@dataclass(frozen=True)
class Fired:
    """A rule hit as a worker reports it."""

    camera_id: int
    rule_id: int | None
    kind: str
    track_id: int
    confidence: float
    detail: str
    started_at: datetime
    ended_at: datetime


def record_detection(session: Session, fired: Fired, snapshot: bytes | None, data_dir: Path) -> Detection:
    """Store a detection and its snapshot file (under ``data_dir/monitoring/snapshots/YYYYMMDD``)."""
    relative = ""
    if snapshot:
        folder = SNAPSHOT_DIR / fired.ended_at.strftime("%Y%m%d")
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
        relative = str(folder / f"{fired.camera_id}-{uuid.uuid4().hex}.jpg")
        (data_dir / relative).write_bytes(snapshot)
    row = Detection(
        camera_id=fired.camera_id,
        rule_id=fired.rule_id,
        kind=fired.kind,
        track_id=fired.track_id,
        confidence=fired.confidence,
        detail=fired.detail[:200],
        snapshot=relative,
        started_at=fired.started_at,
        ended_at=fired.ended_at,
    )
    session.add(row)
    session.flush()
    return row


def get_detection(session: Session, detection_id: int) -> Detection:
    row = session.get(Detection, detection_id)
    if row is None:
        raise NotFound(f"no detection {detection_id}")
    return row


def list_detections(session: Session, camera_id: int | None = None, limit: int = 50) -> list[Detection]:
    query = select(Detection).order_by(Detection.created_at.desc(), Detection.id.desc()).limit(limit)
    if camera_id is not None:
        query = query.where(Detection.camera_id == camera_id)
    return list(session.scalars(query))


def detection_dict(row: Detection) -> dict[str, Any]:
    return {
        "id": row.id,
        "camera_id": row.camera_id,
        "rule_id": row.rule_id,
        "kind": row.kind,
        "track_id": row.track_id,
        "confidence": round(row.confidence, 3),
        "detail": row.detail,
        "started_at": row.started_at.isoformat(),
        "ended_at": row.ended_at.isoformat(),
        "created_at": row.created_at.isoformat(),
        "verdict": row.verdict or None,
        "has_snapshot": bool(row.snapshot),
        "snapshot_url": f"/api/v1/monitoring/detections/{row.id}/snapshot.jpg" if row.snapshot else None,
    }


def snapshot_bytes(row: Detection, data_dir: Path) -> bytes | None:
    """The snapshot's JPEG (the caller has recorded the view), None when it is gone."""
    if not row.snapshot:
        return None
    path = (data_dir / row.snapshot).resolve()
    if data_dir.resolve() not in path.parents or not path.is_file():
        return None
    return path.read_bytes()


def tuned_threshold(false_scores: list[float], true_scores: list[float], base: float) -> float:
    """The threshold that best separates the verdicts: the lowest of the candidates (the base, and
    just above each false positive's score) with the least cost = false positives kept +
    ``MISSED_COST`` x real detections lost; never below ``base`` nor above ``MAX_THRESHOLD``."""
    candidates = sorted({base, *(min(MAX_THRESHOLD, s + 0.01) for s in false_scores if s >= base)})

    def cost(threshold: float) -> float:
        kept_false = sum(1 for s in false_scores if s >= threshold)
        lost_true = sum(1 for s in true_scores if s < threshold)
        return kept_false + MISSED_COST * lost_true

    best: float = min(candidates, key=lambda t: (cost(t), t))
    return round(best, 3)


def set_verdict(session: Session, row: Detection, verdict: str, actor: str, base: float) -> float:
    """Store an operator's verdict and retune the camera's threshold; the new threshold."""
    if verdict not in VERDICTS:
        raise RuleError("verdict", f"verdict is one of {', '.join(VERDICTS)}")
    row.verdict, row.verdict_by, row.verdict_at = verdict, actor, utcnow()
    session.flush()
    judged = session.execute(
        select(Detection.confidence, Detection.verdict).where(
            Detection.camera_id == row.camera_id, Detection.verdict != ""
        )
    ).all()
    threshold = tuned_threshold(
        [float(c) for c, v in judged if v == "false_positive"],
        [float(c) for c, v in judged if v == "correct"],
        base,
    )
    camera = session.get(MonitoredCamera, row.camera_id)
    if camera is not None:
        camera.threshold, camera.updated_at = threshold, utcnow()
    audit.record(
        session,
        actor=actor,
        action="monitoring.detection.verdict",
        target=f"camera:{row.camera_id}",
        details={"detection_id": row.id, "verdict": verdict, "threshold": threshold},
    )
    session.flush()
    return threshold
