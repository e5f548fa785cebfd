"""Shared helpers of the sound tests: synthetic audio only (CI downloads nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartseoul.safety.sound.features import SAMPLE_RATE
from smartseoul.safety.sound.model import CLASSES


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
