"""HTTP and WebSocket API of danger-sound detection.

Operators list devices and detections, play clips (audited) and set per-class thresholds; an admin
adds microphones; a microphone streams s16le PCM over ``/api/v1/sound/stream/{device}`` (WebSocket)
or posts packets to ``/api/v1/sound/devices/{device}/audio`` with its key; screens follow
``/api/v1/stream/sound`` (Server-Sent Events: levels, scores, detections, health).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartseoul.core.auth import InvalidInput, Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.safety.sound import service
from smartseoul.safety.sound.ingest import MAX_PACKET_BYTES, MAX_RATE, MIN_RATE
from smartseoul.safety.sound.model import CLASSES
from smartseoul.safety.sound.models import SoundDevice
from smartseoul.safety.sound.runtime import hub_of, in_transaction
from smartseoul.web.deps import client_address, get_platform, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["sound"])
VIEW = ("operator", "admin", "auditor")
EDIT = ("operator", "admin")
ADMIN = ("admin",)
DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
DetectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Rate = Annotated[int | None, Query(ge=MIN_RATE, le=MAX_RATE, description="Sample rate of the PCM sent")]


class DeviceIn(BaseModel):
    """A microphone: on a bell (``bell_id``), on a camera (``camera_id``) or standalone (lat/lon)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", examples=["mic-gangnam-01"])
    kind: str = Field("microphone", pattern=r"^(bell|camera|microphone)$")
    name: str = Field("", max_length=128)
    bell_id: str | None = Field(None, max_length=64)
    camera_id: int | None = Field(None, ge=1, le=2**31 - 1)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    sample_rate: int = Field(16000, ge=MIN_RATE, le=MAX_RATE)
    stream_url: str | None = Field(None, max_length=512, pattern=r"^(rtsp|rtsps|http|https)://\S+$")


class ThresholdsIn(BaseModel):
    """Class name -> score from 0.05 to 1 (1 mutes a class on this device)."""

    thresholds: dict[str, float] = Field(examples=[{"scream": 0.7, "siren": 0.9}])


def _invalid(error: InvalidInput) -> Problem:
    text = str(error)
    field = text.split(":", 1)[0].split(" ", 1)[0] if ":" in text else ""
    return Problem(422, "Invalid input", text, "invalid_input", field=field)


@router.get("/sound/devices", summary="Microphones with their thresholds and health")
async def list_devices(
    platform: Platform = Depends(get_platform), _: Principal = Depends(require(*VIEW))
) -> list[dict[str, Any]]:
    settings = platform.settings
    return await in_transaction(
        platform, lambda s: [service.device_dict(d, settings) for d in service.list_devices(s)]
    )


@router.post("/sound/devices", status_code=201, summary="Add a microphone (the stream key is shown once)")
async def add_device(
    body: DeviceIn,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*ADMIN)),
) -> dict[str, Any]:
    spec = service.DeviceSpec(
        device_id=body.id,
        kind=body.kind,
        name=body.name,
        bell_id=body.bell_id,
        camera_id=body.camera_id,
        lat=body.lat,
        lon=body.lon,
        sample_rate=body.sample_rate,
        stream_url=body.stream_url,
    )

    def work(session: Session) -> dict[str, Any]:
        device, key = service.add_device(session, spec, principal.name)
        return {**service.device_dict(device, platform.settings), "key": key}

    try:
        created = await in_transaction(platform, work)
    except InvalidInput as error:
        raise _invalid(error) from error
    await hub_of(platform).refresh_bells()
    return created


@router.put("/sound/devices/{device_id}/thresholds", summary="Set per-class thresholds of one device")
async def set_thresholds(
    device_id: DeviceId,
    body: ThresholdsIn,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*EDIT)),
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        device = service.get_device(session, device_id)
        service.set_thresholds(session, device, body.thresholds, principal.name)
        return service.device_dict(device, platform.settings)

    try:
        result = await in_transaction(platform, work)
    except service.UnknownDevice as missing:
        raise Problem(404, "Not found", f"no sound device {device_id}", "unknown_device") from missing
    except InvalidInput as error:
        raise _invalid(error) from error
    hub_of(platform).update_thresholds(device_id, result["thresholds"])
    return result


@router.get("/sound/detections", summary="Detections, newest first")
async def list_detections(
    platform: Platform = Depends(get_platform),
    _: Principal = Depends(require(*VIEW)),
    device: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")] = None,
    label: Annotated[str | None, Query(pattern="^(" + "|".join(CLASSES[1:]) + ")$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    return await in_transaction(
        platform,
        lambda s: [service.detection_dict(r) for r in service.list_detections(s, device, label, limit)],
    )


@router.get(
    "/sound/detections/{detection_id}/clip.wav",
    summary="The detection's audio clip (each play is recorded in the audit ledger)",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def detection_clip(
    detection_id: DetectionId,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*VIEW)),
) -> Response:
    client = client_address(request)
    try:
        data = await in_transaction(
            platform, lambda s: service.read_clip(s, platform.settings, detection_id, principal.name, client)
        )
    except service.UnknownDetection as missing:
        raise Problem(
            404, "Not found", f"no clip for detection {detection_id}", "unknown_detection"
        ) from missing
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "private, no-store"})


async def _device_key_ok(platform: Platform, device_id: str, key: str) -> bool:
    def check(session: Session) -> bool:
        return service.check_key(session.get(SoundDevice, device_id), key)

    return await in_transaction(platform, check)


@router.post(
    "/sound/devices/{device_id}/audio",
    summary="One PCM s16le mono packet from a microphone (device key in X-Device-Key)",
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}}},
)
async def post_audio(
    device_id: DeviceId,
    request: Request,
    platform: Platform = Depends(get_platform),
    x_device_key: Annotated[str, Header(max_length=200)] = "",
    rate: Rate = None,
) -> dict[str, Any]:
    if not await _device_key_ok(platform, device_id, x_device_key):
        raise Problem(401, "Device key required", "send the device's key in X-Device-Key", "bad_device_key")
    body = await request.body()
    if len(body) > MAX_PACKET_BYTES:
        raise Problem(
            413, "Request too large", f"at most {MAX_PACKET_BYTES} bytes a packet", "too_large", field="body"
        )
    events = await hub_of(platform).feed_pcm(device_id, body, rate)
    return {"detections": [e.data() for e in events if e.type == "sound.detection.v1"]}


@router.websocket("/sound/stream/{device_id}")
async def stream_audio(
    websocket: WebSocket,
    device_id: str,
    key: Annotated[str, Query(max_length=200)] = "",
    rate: Annotated[int | None, Query()] = None,
) -> None:
    """Binary frames of s16le mono PCM; each detection is answered with a JSON text frame."""
    platform: Platform = websocket.app.state.platform
    presented = websocket.headers.get("x-device-key", key)
    if rate is not None and not MIN_RATE <= rate <= MAX_RATE:
        await websocket.close(code=1008, reason=f"rate: {MIN_RATE}-{MAX_RATE} Hz")
        return
    if not await _device_key_ok(platform, device_id, presented):
        await websocket.close(code=1008, reason="bad device key")
        return
    await websocket.accept()
    hub = hub_of(platform)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            payload = message.get("bytes")
            if not payload:
                continue
            events = await hub.feed_pcm(device_id, payload, rate)
            for event in events:
                if event.type == "sound.detection.v1":
                    await websocket.send_json({"detection": event.data()})
    except WebSocketDisconnect:
        return


@router.get(
    "/stream/sound",
    summary="Live levels, scores, detections and device health as Server-Sent Events (operators)",
    response_class=StreamingResponse,
)
async def stream_sound(
    platform: Platform = Depends(get_platform), _: Principal = Depends(require(*VIEW))
) -> StreamingResponse:
    return StreamingResponse(
        hub_of(platform).listen(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
