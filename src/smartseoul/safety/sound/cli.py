"""`smartseoul sound ...`: list and add microphones, and classify a recording offline.

``classify`` runs the shipped detector over any audio file (WAV, OGG, MP3, a video's sound track),
exactly as a live stream would be run, so an operator can check what the model makes of a recording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from smartseoul.core.cli_support import cli_actor as _actor
from smartseoul.core.cli_support import command_platform as _platform
from smartseoul.core.cli_support import fail as _fail

app = typer.Typer(
    help="Danger-sound detection: microphones and offline classification.", no_args_is_help=True
)


@app.command("devices")
def devices(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List the microphones with their thresholds and health."""
    from smartseoul.safety.sound import service

    platform = _platform()
    with platform.db.session() as session:
        rows = [service.device_dict(d, platform.settings) for d in service.list_devices(session)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        typer.echo(f"{row['id']}\t{row['kind']}\t{row['health']}\t{row['lat']:.5f},{row['lon']:.5f}")


@app.command("add")
def add(
    device_id: Annotated[str, typer.Argument(help="Identifier, e.g. mic-gangnam-01")],
    bell: Annotated[str | None, typer.Option(help="The bell the microphone sits on")] = None,
    camera: Annotated[int | None, typer.Option(help="The camera the microphone sits on")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude of a standalone microphone")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude of a standalone microphone")] = None,
    rate: Annotated[int, typer.Option(help="Sample rate the device sends")] = 16000,
    stream_url: Annotated[
        str | None, typer.Option(help="rtsp:// or http:// URL of a camera's stream")
    ] = None,
    actor: Annotated[str | None, typer.Option("--as", help="Who does this (audit)")] = None,
) -> None:
    """Add a microphone and print its stream key (shown once)."""
    from smartseoul.core.auth import InvalidInput
    from smartseoul.safety.sound import service

    kind = "bell" if bell else "camera" if camera else "microphone"
    spec = service.DeviceSpec(
        device_id=device_id,
        kind=kind,
        bell_id=bell,
        camera_id=camera,
        lat=lat,
        lon=lon,
        sample_rate=rate,
        stream_url=stream_url,
    )
    platform = _platform()
    try:
        with platform.db.session() as session:
            _device, key = service.add_device(session, spec, _actor(actor))
    except InvalidInput as error:
        _fail(str(error))
    typer.echo(json.dumps({"id": device_id, "kind": kind, "key": key}))


@app.command("classify")
def classify(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An audio or video file")],
    threshold: Annotated[
        float | None,
        typer.Option(min=0.05, max=1.0, help="Threshold for every class (default: the calibrated ones)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Run the shipped detector over a file and print what it would have reported."""
    from datetime import UTC, datetime, timedelta

    from smartseoul.safety.sound.detector import StreamDetector
    from smartseoul.safety.sound.ingest import BadAudio, av_chunks
    from smartseoul.safety.sound.model import shipped

    detector = StreamDetector(shipped(), default_threshold=threshold, cooldown_s=2.0)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    heard = 0
    found: list[dict[str, Any]] = []
    try:
        for chunk in av_chunks(str(path)):
            heard += chunk.size
            for hit in detector.feed(chunk, start + timedelta(seconds=heard / 16000)):
                found.append(
                    {
                        "at_s": round((hit.at - start).total_seconds(), 2),
                        "label": hit.label,
                        "confidence": hit.confidence,
                    }
                )
    except BadAudio as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps({"seconds": round(heard / 16000, 2), "detections": found}))
        return
    for item in found:
        typer.echo(f"{item['at_s']:8.2f} s  {item['label']:<11} {item['confidence']:.2f}")
    typer.echo(f"{len(found)} detection(s) in {heard / 16000:.1f} s")
