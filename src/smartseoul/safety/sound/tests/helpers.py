"""Shared helpers of the sound tests: synthetic audio only (CI downloads nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smartseoul.safety.sound.features import SAMPLE_RATE
from smartseoul.safety.sound.model import CLASSES, DANGER_CLASSES, Calibration

# the plumbing tests' rule, whatever the shipped calibration says: 0.6 for every class, 2 in a row
PLAIN = Calibration({name: 0.6 for name in DANGER_CLASSES}, 2, 2)


def plain_calibration(monkeypatch: Any) -> None:
    """Pin the detector's and the service's defaults to :data:`PLAIN` for a test."""
    from smartseoul.safety.sound import detector, service

    monkeypatch.setattr(detector, "shipped_calibration", lambda: PLAIN)
    monkeypatch.setattr(service, "shipped_calibration", lambda: PLAIN)


def tone(freq: float, seconds: float, amplitude: float = 0.5, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class ScriptedModel:
    """A stand-in classifier for the detector's own logic: 'scream' when the window is loud enough
    (above ``loud_dbfs``), else background; counts how often it was asked."""

    loud_rms: float = 0.1
    calls: int = 0
    classes: tuple[str, ...] = CLASSES
    seen: list[float] = field(default_factory=list)

    def classify_vector(self, audio: np.ndarray) -> np.ndarray:
        self.calls += 1
        rms = float(np.sqrt(np.mean(audio**2)))
        self.seen.append(rms)
        scores = np.zeros(len(CLASSES), dtype=np.float32)
        scores[1 if rms >= self.loud_rms else 0] = 0.95
        scores[0 if rms >= self.loud_rms else 1] = 0.05
        return scores
