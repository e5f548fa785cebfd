"""From other domains' events to the desk's :class:`~smartseoul.safety.incidents.service.Intake`.

Each source is one small function over the event's payload (a dict: the desk never imports another
domain's event classes), registered in :data:`MAPPERS` under the event type. A new source (a sound
or video detection, say) is one more function and one more line; returning None ignores an event
(a camera that reports it is fine again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from smartseoul.safety.incidents.service import Intake

# tracking alarm kind -> (priority, family, Korean, English)
TRACKING_KINDS: dict[str, tuple[int, str, str, str]] = {
    "sos": (1, "emergency", "긴급구조 요청(SOS)", "SOS"),
    "fall": (2, "emergency", "넘어짐 감지", "fall detected"),
    "left_school": (2, "person", "수업 중 학교 이탈", "left school during school hours"),
    "geofence_exit": (3, "person", "안심존 이탈", "left a safe zone"),
    "not_arrived": (3, "person", "도착 시간까지 미도착", "not arrived by the set time"),
    "removal": (3, "person", "기기 분리", "device removed"),
    "geofence_enter": (4, "person", "안심존 진입", "entered a safe zone"),
    "low_battery": (4, "person", "배터리 부족", "low battery"),
    "offline": (4, "person", "기기 연결 끊김", "device offline"),
}
CAMERA_PROBLEMS = {
    "offline": ("카메라 연결 끊김", "camera offline"),
    "frozen": ("카메라 영상 정지", "camera image frozen"),
    "black": ("카메라 검은 화면", "camera image black"),
    "covered": ("카메라 가림", "camera covered"),
    "blurred": ("카메라 초점 흐림", "camera blurred"),
    "moved": ("카메라 방향 변경", "camera moved"),
}

Mapper = Callable[[dict[str, Any], datetime], Intake | None]


def _coords(data: dict[str, Any]) -> tuple[float | None, float | None]:
    lat, lon = data.get("lat"), data.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None, None


def _camera_ids(camera: Any) -> tuple[int, ...]:
    return (int(camera),) if isinstance(camera, int) else ()


def _placed(event: dict[str, Any], at: datetime, /, **fields: Any) -> Intake:
    """An intake at the event's place (coordinates when both are numbers, its district) and time:
    what every source shares, so a mapper says only what is its own."""
    lat, lon = _coords(event)
    return Intake(lat=lat, lon=lon, district_code=event.get("district_code"), at=at, **fields)


def from_tracking_alarm(data: dict[str, Any], at: datetime) -> Intake | None:
    """An alarm of the location service; ``emergency`` marks an SOS whatever the kind says."""
    kind = str(data.get("kind", ""))
    priority, family, ko, en = TRACKING_KINDS.get(kind, (3, "person", kind, kind))
    if data.get("emergency"):
        priority, family = 1, "emergency"
    person = data.get("person_id")
    lat, _ = _coords(data)
    where_ko, where_en = ("", "")
    if lat is not None and data.get("position_is_last_known"):
        where_ko, where_en = " (마지막 위치)", " (last known position)"
    elif lat is None:
        where_ko, where_en = " (위치 없음)", " (no position)"
    return _placed(
        data,
        at,
        source="tracking",
        kind=kind or "alarm",
        priority=priority,
        family=family,
        title_ko=f"{ko} · 보호대상 #{person or '-'}{where_ko}",
        title_en=f"{en}: protected person #{person or '-'}{where_en}",
        ref=f"tracking.alarm:{data.get('alarm_id')}",
        subject=f"person:{person}" if person else f"device:{data.get('device_id')}",
        data={"alarm_id": data.get("alarm_id"), "person_id": person},
    )


def from_camera_health(data: dict[str, Any], at: datetime) -> Intake | None:
    """A camera fault from the video wall's checks: low priority, one incident per camera."""
    if data.get("ok", False) or data.get("problem") == "ok":
        return None
    problem = str(data.get("problem", "fault"))
    camera = data.get("camera_id")
    ko, en = CAMERA_PROBLEMS.get(problem, ("카메라 이상", f"camera {problem}"))
    return _placed(
        data,
        at,
        source="camera",
        kind=f"camera_{problem}"[:32],
        priority=4,
        family="fault",
        title_ko=f"{ko} · 카메라 #{camera}",
        title_en=f"{en}: camera #{camera} {data.get('detail') or ''}".strip(),
        ref=f"camera.health:{camera}:{problem}",
        subject=f"camera:{camera}",
        camera_ids=_camera_ids(camera),
    )


def from_findnow(data: dict[str, Any], at: datetime) -> Intake | None:
    """A guardian cannot reach their child and asks the control room to find them now."""
    person = data.get("person_id")
    return _placed(
        data,
        at,
        source="tracking",
        kind="find_now",
        priority=2,
        family="emergency",
        title_ko=f"보호자 긴급 위치 확인 요청 · 보호대상 #{person}",
        title_en=f"guardian asks to find protected person #{person} now",
        ref=f"tracking.findnow:{data.get('request_id')}",
        subject=f"person:{person}",
        data={"request_id": data.get("request_id"), "person_id": person},
    )


def from_sound_detection(data: dict[str, Any], at: datetime) -> Intake | None:
    """A danger sound at a microphone: an emergency at the device's place (cameras turn to it)."""
    labels = {  # sound class -> (priority, Korean, English)
        "scream": (1, "비명 감지", "scream heard"),
        "shout_help": (1, "구조 요청 외침 감지", "shout for help heard"),
        "gunshot": (1, "총성 감지", "gunshot heard"),
        "explosion": (1, "폭발음 감지", "explosion heard"),
        "glass": (2, "유리 깨지는 소리 감지", "breaking glass heard"),
        "crash": (2, "차량 충돌음 감지", "car crash heard"),
        "siren": (3, "사이렌 감지", "siren heard"),
    }
    label = str(data.get("label", ""))
    priority, ko, en = labels.get(label, (2, "위험 소리 감지", f"{label} heard"))
    device = data.get("device_id")
    camera = data.get("camera_id")
    confidence = float(data.get("confidence") or 0.0)
    return _placed(
        data,
        at,
        source="sound",
        kind=f"sound_{label}"[:32],
        priority=priority,
        title_ko=f"{ko} · 마이크 {device} ({confidence:.0%})",
        title_en=f"{en}: microphone {device} ({confidence:.0%})",
        ref=f"sound.detection:{data.get('detection_id')}",
        subject=f"sound:{device}",
        bell_id=data.get("bell_id"),
        camera_ids=_camera_ids(camera),
        data={"detection_id": data.get("detection_id"), "clip_url": data.get("clip_url"), "label": label},
    )


def from_video_detection(data: dict[str, Any], at: datetime) -> Intake | None:
    """A monitoring rule fired on a camera: a person down is an emergency, the rest are reports."""
    kinds = {  # rule -> (priority, family, Korean, English)
        "person_down": (1, "emergency", "쓰러짐 감지", "person down"),
        "intrusion": (2, "emergency", "침입 감지", "intrusion"),
        "crowding": (2, "fault", "밀집 감지", "crowding"),
        "running": (3, "fault", "뛰는 사람 감지", "running"),
        "loitering": (3, "fault", "배회 감지", "loitering"),
        "vehicle_stopped": (3, "fault", "차량 정차 감지", "vehicle stopped"),
    }
    rule = str(data.get("rule", ""))
    priority, family, ko, en = kinds.get(rule, (3, "fault", "영상 이상 감지", rule))
    camera = data.get("camera_id")
    confidence = float(data.get("confidence") or 0.0)
    return _placed(
        data,
        at,
        source="video",
        kind=f"video_{rule}"[:32],
        priority=priority,
        family=family,
        title_ko=f"{ko} · 카메라 #{camera} ({confidence:.0%})",
        title_en=f"{en}: camera #{camera} ({confidence:.0%})",
        ref=f"monitoring.detection:{data.get('detection_id')}",
        subject=f"camera:{camera}:{rule}",
        camera_ids=_camera_ids(camera),
        data={
            "detection_id": data.get("detection_id"),
            "snapshot_url": data.get("snapshot_url"),
            "rule": rule,
        },
    )


MAPPERS: dict[str, Mapper] = {
    "tracking.alarm.raised.v1": from_tracking_alarm,
    "safety.camera.health.v1": from_camera_health,
    "tracking.findnow.requested.v1": from_findnow,
    "monitoring.detection.v1": from_video_detection,
    "sound.detection.v1": from_sound_detection,
}
