"""Demo microphones: virtual microphones on some demo bells that stream street background with a
danger sound now and then, so the console's meters move and a simulated scream near a bell opens an
incident there and turns the nearest camera (through ``sound.detection.v1`` and the incident desk).

The event clips ship with the package (``model/demo_clips.npz``: an espeak-ng "살려주세요" rendered
once, and real recordings from the allowed Debian packages, see ``RECIPE.md``), so the demo needs no
download; glass and sirens are synthesised on the spot.
"""

from __future__ import annotations

import random
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core.events import Event
from smartseoul.core.plugin import ActivityGenerator
from smartseoul.safety.sound import service, synth
from smartseoul.safety.sound.features import SAMPLE_RATE, f32
from smartseoul.safety.sound.models import SoundDevice

if TYPE_CHECKING:
    from smartseoul.core.bootstrap import Platform

DEMO_DEVICES = 6
# The shipped model hears the synthetic traffic rumble as a crash about once a minute (its crash
# class is its weakest, see RECIPE.md and `smartseoul bench sound`): the demo streams the other
# backgrounds so that what opens an incident there is the simulated event, not that known error.
DEMO_BACKGROUNDS = ("rain", "wind", "murmur", "hum")
SIMULATOR = "simulator"


@lru_cache(maxsize=1)
def demo_clips() -> dict[str, np.ndarray]:
    """Shipped event clips by class (16 kHz float); empty when the file is absent."""
    path = Path(str(resources.files("smartseoul.safety.sound") / "model" / "demo_clips.npz"))
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name].astype(np.float32) / 32768.0 for name in data.files}


def event_clip(label: str, rng: np.random.Generator) -> np.ndarray:
    if label == "glass":
        return synth.glass(rng)
    if label == "siren":
        return synth.siren(rng, 2.0)
    clips = demo_clips()
    if label in clips:
        return clips[label]
    return synth.scream(rng)


def scene(
    rng: np.random.Generator, label: str | None, seconds: float = 3.0, snr_db: float = 15.0
) -> np.ndarray:
    """Background for ``seconds`` with the event (if any) starting at 1 s."""
    audio = synth.background(rng, seconds, str(rng.choice(DEMO_BACKGROUNDS)))
    if label is None:
        return audio
    return f32(np.clip(synth.mix_at_snr(audio, event_clip(label, rng), snr_db, SAMPLE_RATE), -1, 1))


def seed_demo(platform: Platform, session: Session) -> list[Event]:
    """Microphones on the first demo bells (the incident desk's seed made the bells)."""
    from smartseoul.safety.incidents.models import Bell

    bell_ids = list(
        session.scalars(select(Bell.id).where(Bell.active.is_(True)).order_by(Bell.id).limit(DEMO_DEVICES))
    )
    for bell_id in bell_ids:
        device_id = f"mic-{bell_id}"
        if session.get(SoundDevice, device_id) is None:
            service.add_device(
                session,
                service.DeviceSpec(
                    device_id=device_id, kind="bell", bell_id=bell_id, name=f"{bell_id} 마이크"
                ),
                actor=SIMULATOR,
            )
    return []


async def _devices(platform: Platform) -> list[str]:
    from smartseoul.safety.sound.runtime import in_transaction

    return await in_transaction(
        platform, lambda s: [d.id for d in service.list_devices(s) if d.kind == "bell" and d.enabled]
    )


async def _stream(platform: Platform, rng: random.Random, label: str | None) -> Event | None:
    from smartseoul.safety.sound.runtime import hub_of

    devices = await _devices(platform)
    if not devices:
        return None
    device = rng.choice(devices)
    audio = scene(np.random.default_rng(rng.randrange(2**32)), label)
    await hub_of(platform).feed(device, audio)
    return None  # the hub published what it detected already


async def _background(platform: Platform, rng: random.Random) -> Event | None:
    return await _stream(platform, rng, None)


async def _danger(platform: Platform, rng: random.Random) -> Event | None:
    return await _stream(platform, rng, rng.choice(["scream", "shout_help", "glass", "gunshot"]))


def generators(platform: Platform) -> list[ActivityGenerator]:
    """Background keeps the meters alive; a danger sound is rare (about one call in two hundred)."""
    return [
        ActivityGenerator("sound.background", 0.02, _background),
        ActivityGenerator("sound.danger", 0.001, _danger),
    ]
