"""``smartseoul monitoring``: list monitored cameras, watch one, analyse a video file offline."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import typer

from smartseoul.core.cli_support import cli_actor, command_platform, fail
from smartseoul.safety.monitoring import service
from smartseoul.safety.monitoring.detectors import make_detector
from smartseoul.safety.monitoring.pipeline import CameraPipeline

app = typer.Typer(help="Automated video monitoring: cameras, rules, offline analysis.", no_args_is_help=True)


@app.command("list")
def list_cameras() -> None:
    """The monitored cameras, their streams (without credentials) and rule counts."""
    from smartseoul.safety.monitoring.sources import redact

    with command_platform().db.session() as session:
        for row in service.monitored(session, enabled_only=False):
            rules = len(service.rules_of(session, row.camera_id))
            url = redact(service.stream_of(session, row))
            state = "on" if row.enabled else "off"
            typer.echo(f"{row.camera_id}\t{state}\t{row.threshold:.2f}\t{rules} rules\t{url}")


@app.command("watch")
def watch(
    camera_id: int, stream_url: str = typer.Option("", help="Empty: the registry's sub-stream.")
) -> None:
    """Put a camera under monitoring (the running server picks it up at its next start)."""
    try:
        with command_platform().db.session() as session:
            service.watch_camera(session, camera_id, stream_url, actor=cli_actor())
    except (service.NotFound, service.RuleError) as error:
        fail(str(error))
    typer.echo(f"camera {camera_id} monitored")


@app.command("analyse")
def analyse(
    video: Path,
    fps: float = typer.Option(5.0, help="Frames analysed per second of video."),
    detector: str = typer.Option("ssdlite", help="ssdlite, hog or onnx (SMARTSEOUL_MONITORING_ONNX_*)"),
) -> None:
    """Run the pipeline over a video file (no rules): people per analysed frame, as JSON lines."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        fail(f"cannot open {video}")
    source_fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    step = max(1, round(source_fps / fps))
    try:
        chosen = make_detector(detector, *_onnx_settings()) if detector == "onnx" else make_detector(detector)
    except ValueError as error:  # DetectorUnavailable included
        fail(str(error))
    pipeline = CameraPipeline(0, chosen)
    start, index, spent = datetime.now(UTC), 0, 0.0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % step == 0:
            began = time.perf_counter()
            result = pipeline.analyse(
                np.asarray(image, np.uint8), start + timedelta(seconds=index / source_fps)
            )
            spent += time.perf_counter() - began
            typer.echo(json.dumps({"frame": index, "motion": result.motion, "people": len(result.tracks)}))
        index += 1
    typer.echo(json.dumps({"frames": index, "analysis_s": round(spent, 3)}))


def _onnx_settings() -> tuple[str, str]:
    from smartseoul.cli import _settings

    settings = _settings()
    return settings.monitoring_onnx_model, settings.monitoring_onnx_providers


@app.command("worker")
def worker(name: str = typer.Option("", help="Worker name on the bus; empty: host-pid-random.")) -> None:
    """Join the workers' group over the NATS bus (SMARTSEOUL_BUS_URL) and analyse this worker's
    share of the monitored cameras until stopped (Ctrl-C hands its cameras over at once)."""
    from smartseoul.cli import _settings
    from smartseoul.safety.monitoring.cluster import run_bus_worker
    from smartseoul.safety.monitoring.detectors import DetectorUnavailable, check_onnx
    from smartseoul.safety.monitoring.engine import settings_config

    settings = _settings()
    if not settings.bus_url.startswith("nats://"):
        fail("a worker of its own needs the NATS bus: set SMARTSEOUL_BUS_URL=nats://host:4222")
    config = settings_config(settings)
    if config.detector == "onnx":
        try:
            check_onnx(config.onnx_model, config.onnx_providers)
        except DetectorUnavailable as error:
            fail(str(error))
    typer.echo(f"monitoring worker joining {settings.bus_stream} at {settings.bus_url.split('@')[-1]}")
    run_bus_worker(config, settings.bus_url, settings.bus_stream, name or None)
