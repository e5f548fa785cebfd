"""The sound domain's service API: devices and thresholds, stored detections and clips, health.

Bells and cameras are read through their own domains' service APIs (``bells.active_bell``,
``cctv.service.get_camera``); this domain keeps only its microphone rows. Reading a detection's
clip (voices of people in the street) is personal data and goes to the audit ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.auth import InvalidInput
from smartseoul.core.db import utcnow
from smartseoul.core.geo import valid_coordinates
from smartseoul.core.settings import Settings
from smartseoul.safety.sound.detector import Hit
from smartseoul.safety.sound.events import SoundDetected, SoundDeviceHealth
from smartseoul.safety.sound.ingest import MAX_RATE, MIN_RATE
from smartseoul.safety.sound.model import DANGER_CLASSES, shipped_calibration
from smartseoul.safety.sound.models import DEVICE_KINDS, SoundDetection, SoundDevice

DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class UnknownDevice(LookupError):
    """No sound device with that id."""


class UnknownDetection(LookupError):
    """No detection with that id."""


@dataclass(frozen=True)
class DeviceSpec:
    """What it takes to add a microphone: its own place, or a bell's or a camera's."""

    device_id: str
    kind: str = "microphone"
    name: str = ""
    bell_id: str | None = None
    camera_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    sample_rate: int = 16000
    stream_url: str | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _place_of(session: Session, spec: DeviceSpec) -> tuple[float, float, str | None]:
    """The device's position: the bell's or the camera's when it sits on one, else its own."""
    if spec.kind == "bell":
        from smartseoul.safety.incidents import bells

        try:
            bell = bells.active_bell(session, spec.bell_id or "")
        except bells.UnknownBell as missing:
            raise InvalidInput(f"bell_id: no active bell {spec.bell_id!r}") from missing
        return bell.lat, bell.lon, bell.district_code
    if spec.kind == "camera":
        from smartseoul.safety.cctv import service as cctv

        camera = cctv.get_camera(session, spec.camera_id or 0)
        if camera is None:
            raise InvalidInput(f"camera_id: no camera {spec.camera_id}")
        return camera.lat, camera.lon, getattr(camera, "district_code", None)
    if spec.lat is None or spec.lon is None or not valid_coordinates(spec.lat, spec.lon):
        raise InvalidInput(f"lat/lon: ({spec.lat}, {spec.lon}) is not a valid position")
    from smartseoul.safety.incidents import service as desk

    return spec.lat, spec.lon, desk.city_index(session).district_at(spec.lat, spec.lon)


def add_device(session: Session, spec: DeviceSpec, actor: str) -> tuple[SoundDevice, str]:
    """Register a microphone; returns it and its stream key (shown once, only the hash is kept)."""
    if not DEVICE_ID.match(spec.device_id):
        raise InvalidInput(f"device_id {spec.device_id!r}: 1-64 letters, digits, '.', '_', ':' or '-'")
    if spec.kind not in DEVICE_KINDS:
        raise InvalidInput(f"kind: one of {', '.join(DEVICE_KINDS)}")
    if not MIN_RATE <= spec.sample_rate <= MAX_RATE:
        raise InvalidInput(f"sample_rate: {MIN_RATE}-{MAX_RATE} Hz")
    if session.get(SoundDevice, spec.device_id) is not None:
        raise InvalidInput(f"device_id: {spec.device_id!r} exists already")
    lat, lon, district = _place_of(session, spec)
    key = f"snd_{secrets.token_urlsafe(24)}"
    device = SoundDevice(
        id=spec.device_id,
        kind=spec.kind,
        name=spec.name or spec.device_id,
        bell_id=spec.bell_id if spec.kind == "bell" else None,
        camera_id=spec.camera_id if spec.kind == "camera" else None,
        lat=lat,
        lon=lon,
        district_code=district,
        sample_rate=spec.sample_rate,
        stream_url=spec.stream_url,
        key_hash=_digest(key),
        thresholds={},
        created_at=utcnow(),
    )
    session.add(device)
    session.flush()
    audit.record(session, actor=actor, action="sound.device.add", target=f"sound_device:{spec.device_id}")
    return device, key


def get_device(session: Session, device_id: str) -> SoundDevice:
    device = session.get(SoundDevice, device_id)
    if device is None:
        raise UnknownDevice(device_id)
    return device


def check_key(device: SoundDevice | None, presented: str) -> bool:
    if device is None or not device.enabled or not device.key_hash or not presented:
        return False
    return hmac.compare_digest(device.key_hash, _digest(presented))


def list_devices(session: Session) -> list[SoundDevice]:
    return list(session.scalars(select(SoundDevice).order_by(SoundDevice.id)))


def validate_thresholds(values: dict[str, Any]) -> dict[str, float]:
    """Class names must be danger classes and values in [0.05, 1] (1 effectively mutes a class)."""
    out = {}
    for name, value in values.items():
        if name not in DANGER_CLASSES:
            raise InvalidInput(f"thresholds.{name}: unknown class (one of {', '.join(DANGER_CLASSES)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.05 <= float(value) <= 1.0:
            raise InvalidInput(f"thresholds.{name}: a number from 0.05 to 1")
        out[name] = round(float(value), 3)
    return out


def set_thresholds(
    session: Session, device: SoundDevice, values: dict[str, Any], actor: str
) -> dict[str, float]:
    checked = validate_thresholds(values)
    device.thresholds = {**(device.thresholds or {}), **checked}
    audit.record(
        session, actor=actor, action="sound.thresholds", target=f"sound_device:{device.id}", details=checked
    )
    return effective_thresholds(device, None)


def default_thresholds(settings: Settings | None) -> dict[str, float]:
    """Per class: the thresholds calibrated on the validation split with the shipped model, unless
    the operator set ``SMARTSEOUL_SOUND_THRESHOLD`` explicitly (then that one value for every class).

    Why: one value for all classes both misses quiet classes and lets claps through as glass; the
    calibrated ones hold false alarms near the target on held-out background."""
    if settings is not None and "sound_threshold" in settings.model_fields_set:
        return {name: float(settings.sound_threshold) for name in DANGER_CLASSES}
    return dict(shipped_calibration().thresholds)


def effective_thresholds(device: SoundDevice, settings: Settings | None) -> dict[str, float]:
    """A device's own per-class thresholds win over the defaults."""
    default = default_thresholds(settings)
    return {name: float((device.thresholds or {}).get(name, default[name])) for name in DANGER_CLASSES}


def device_dict(device: SoundDevice, settings: Settings | None = None) -> dict[str, Any]:
    return {
        "id": device.id,
        "kind": device.kind,
        "name": device.name,
        "bell_id": device.bell_id,
        "camera_id": device.camera_id,
        "lat": device.lat,
        "lon": device.lon,
        "district_code": device.district_code,
        "sample_rate": device.sample_rate,
        "stream_url": device.stream_url,
        "enabled": device.enabled,
        "health": device.health,
        "last_audio_at": device.last_audio_at.isoformat() if device.last_audio_at else None,
        "thresholds": effective_thresholds(device, settings),
    }


# ---------------------------------------------------------------- detections


def clips_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "sound" / "clips"


def record_detection(session: Session, settings: Settings, device: SoundDevice, hit: Hit) -> SoundDetected:
    """Store the hit and its clip; returns the event for the bus."""
    row = SoundDetection(
        device_id=device.id,
        label=hit.label,
        confidence=hit.confidence,
        detected_at=hit.at,
        lat=device.lat,
        lon=device.lon,
        level_dbfs=hit.level_dbfs,
        scores=hit.scores,
    )
    session.add(row)
    session.flush()
    folder = clips_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    row.clip_name = f"{row.id}-{secrets.token_hex(6)}.wav"
    (folder / row.clip_name).write_bytes(hit.clip_wav)
    return detection_event(device, row)


def detection_event(device: SoundDevice, row: SoundDetection) -> SoundDetected:
    return SoundDetected(
        detection_id=row.id,
        device_id=device.id,
        device_kind=device.kind,
        bell_id=device.bell_id,
        camera_id=device.camera_id,
        label=row.label,
        confidence=row.confidence,
        detected_at=row.detected_at,
        lat=row.lat,
        lon=row.lon,
        district_code=device.district_code,
        clip_url=f"/api/v1/sound/detections/{row.id}/clip.wav" if row.clip_name else None,
        level_dbfs=row.level_dbfs,
        scores=row.scores,
    )


def list_detections(
    session: Session, device_id: str | None = None, label: str | None = None, limit: int = 50
) -> list[SoundDetection]:
    query = select(SoundDetection).order_by(SoundDetection.detected_at.desc(), SoundDetection.id.desc())
    if device_id:
        query = query.where(SoundDetection.device_id == device_id)
    if label:
        query = query.where(SoundDetection.label == label)
    return list(session.scalars(query.limit(limit)))


def detection_dict(row: SoundDetection) -> dict[str, Any]:
    return {
        "id": row.id,
        "device_id": row.device_id,
        "label": row.label,
        "confidence": row.confidence,
        "detected_at": row.detected_at.isoformat(),
        "lat": row.lat,
        "lon": row.lon,
        "level_dbfs": row.level_dbfs,
        "clip_url": f"/api/v1/sound/detections/{row.id}/clip.wav" if row.clip_name else None,
        "scores": row.scores,
    }


def read_clip(session: Session, settings: Settings, detection_id: int, actor: str, client: str = "") -> bytes:
    """The clip's WAV bytes; each read is written to the audit ledger (voices are personal data)."""
    row = session.get(SoundDetection, detection_id)
    if row is None or not row.clip_name:
        raise UnknownDetection(detection_id)
    path = clips_dir(settings) / row.clip_name
    if not path.is_file():
        raise UnknownDetection(detection_id)
    audit.record(
        session,
        actor=actor,
        action="sound.clip.read",
        target=f"sound_detection:{detection_id}",
        client=client,
    )
    return path.read_bytes()


# ---------------------------------------------------------------- health


def _health_event(device: SoundDevice, health: str, detail: str) -> SoundDeviceHealth | None:
    if device.health == health:
        return None
    event = SoundDeviceHealth(
        device_id=device.id,
        health=health,
        previous=device.health,
        lat=device.lat,
        lon=device.lon,
        detail=detail,
    )
    device.health = health
    return event


def mark_audio(device: SoundDevice, at: datetime, saturated: bool = False) -> SoundDeviceHealth | None:
    """The device sent audio: it is alive (a saturated microphone is alive but faulty)."""
    device.last_audio_at = at
    if saturated:
        return _health_event(device, "clipping", "the microphone is saturated at full scale")
    return _health_event(device, "ok", "")


def check_silent(
    session: Session, settings: Settings, now: datetime | None = None
) -> list[SoundDeviceHealth]:
    """Devices that streamed once and then stopped: a health fault each (once, until audio returns)."""
    now = now or utcnow()
    limit = now - timedelta(seconds=settings.sound_silent_after_s)
    events = []
    query = select(SoundDevice).where(
        SoundDevice.enabled.is_(True),
        SoundDevice.last_audio_at.is_not(None),
        SoundDevice.last_audio_at < limit,
    )
    for device in session.scalars(query):
        seconds = int((now - device.last_audio_at).total_seconds()) if device.last_audio_at else 0
        event = _health_event(device, "silent", f"no audio for {seconds} s")
        if event is not None:
            audit.record(
                session, actor="system", action="sound.device.silent", target=f"sound_device:{device.id}"
            )
            events.append(event)
    return events
