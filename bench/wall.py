"""Live tile frames served per second to many viewers through shared feeds, against the raw JPEG encode rate.

Why: a control room puts the same cameras on several screens, and every tile is a JPEG stream. The
wall makes each camera's frame once per tick and hands the same bytes to every viewer (one
encoder per camera, not per viewer), so the figure that matters is frames delivered to viewers per
second next to what one core can render and encode, measured in the same run on the same scenes.
The health monitor's cost is the third figure: JPEG decode + measures + verdict per look, which
says how many cameras one core can watch at one look a second.

All in one process on the synthetic demo scenes (640x360): ``encode`` renders and encodes frames
one after another; ``serve`` runs CAMERAS feeds at a high frame rate, each with VIEWERS viewers
iterating its frames for a few seconds; ``health`` decodes and judges frames against a reference.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from rich.console import Console

from smartseoul.core.db import utcnow
from smartseoul.core.settings import Settings
from smartseoul.safety.videowall.feeds import CameraInfo, FeedHub
from smartseoul.safety.videowall.health import Thresholds, classify, make_reference, measure
from smartseoul.safety.videowall.scenes import Scene, decode_jpeg, encode_jpeg

err = Console(stderr=True, soft_wrap=True)
CAMERAS, VIEWERS = 16, 4


def _encode_rate(frames: int) -> tuple[float, list[bytes]]:
    """Frames rendered and JPEG-encoded per second, one after another, over several cameras."""
    scenes = [Scene(camera_id, f"bench {camera_id}") for camera_id in range(1, 9)]
    start_at = utcnow()
    encoded = []
    began = time.perf_counter()
    for index in range(frames):
        image = scenes[index % len(scenes)].render(start_at + timedelta(seconds=index / 10))
        assert image is not None
        encoded.append(encode_jpeg(image))
    return frames / (time.perf_counter() - began), encoded


async def _serve(seconds: float) -> tuple[float, float]:
    """(frames delivered to viewers per second, frames encoded per second) with shared feeds."""
    settings = Settings(videowall_fps=30.0)
    hub = FeedHub(settings)
    delivered = 0

    async def viewer(camera_id: int) -> None:
        nonlocal delivered
        async for _frame in hub.feed(CameraInfo(camera_id, f"bench {camera_id}")).frames():
            delivered += 1

    tasks = [asyncio.create_task(viewer(c)) for c in range(1, CAMERAS + 1) for _ in range(VIEWERS)]
    await asyncio.sleep(0.5)  # every feed running
    delivered, encoded_before = 0, sum(f.frames_encoded for f in hub.feeds.values())
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - began
    served, encoded = delivered, sum(f.frames_encoded for f in hub.feeds.values()) - encoded_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await hub.close()
    return served / elapsed, encoded / elapsed


def _health_rate(jpegs: list[bytes]) -> float:
    """Looks per second: decode, measure against the previous look and a reference, classify."""
    thresholds = Thresholds()
    first = decode_jpeg(jpegs[0])
    assert first is not None
    reference, previous = make_reference(first), None
    began = time.perf_counter()
    for jpeg in jpegs:
        image = decode_jpeg(jpeg)
        assert image is not None
        measures, previous = measure(image, previous, reference)
        classify(measures, reference, thresholds)
    return len(jpegs) / (time.perf_counter() - began)


def run(quick: bool = False) -> dict[str, float | None]:
    frames, seconds = (120, 2.0) if quick else (1500, 10.0)
    err.print(
        f"wall: encode {frames} frames; serve {CAMERAS} cameras x {VIEWERS} viewers for {seconds:.0f} s"
    )
    encode_per_s, jpegs = _encode_rate(frames)
    served_per_s, encoded_per_s = asyncio.run(_serve(seconds))
    health_per_s = _health_rate(jpegs)
    return {
        "encode_frames_per_s": encode_per_s,
        "served_frames_per_s": served_per_s,
        "served_encoded_frames_per_s": encoded_per_s,
        "viewers": float(CAMERAS * VIEWERS),
        "ratio_served_over_encode": served_per_s / encode_per_s,
        "ratio_served_over_served_encoded": served_per_s / encoded_per_s if encoded_per_s else None,
        "health_looks_per_s": health_per_s,
        "ratio_health_over_encode": health_per_s / encode_per_s,
    }
