"""The streaming detector of one microphone: sliding 1 s windows, an energy gate, per-class thresholds.

Audio arrives in packets of any size (already 16 kHz mono float, see :mod:`.ingest`). Every ``hop``
the last second is looked at: below the gate (silence, a quiet night) it costs one RMS and nothing
more; a window saturated at full scale is a microphone fault, never an alarm; otherwise the model
scores it and any danger class at or above its threshold in ``confirm`` of the last ``of``
windows (thresholds calibrated per class on the validation split, see :mod:`.calibrate`) is a hit,
unless the same class fired on this device within the cooldown. A hit carries a short WAV clip and
the scores of the last seconds, so an operator can hear and see what the model heard.
"""

from __future__ import annotations

import io
import wave
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from smartseoul.safety.sound.features import SAMPLE_RATE, WINDOW, clipped_fraction
from smartseoul.safety.sound.model import CLASSES, DANGER_CLASSES, Model, shipped_calibration

SATURATED_FRACTION = 0.2  # a fifth of a window at the rails: the microphone is overdriven or broken
HISTORY_S = 8.0


@dataclass(frozen=True)
class Hit:
    """One detection before it is stored: what, how sure, when, the clip and the scores around it."""

    label: str
    confidence: float
    at: datetime
    level_dbfs: float
    clip_wav: bytes
    scores: dict[str, object]


@dataclass
class Meter:
    """The latest look at the stream, for the console's live meter."""

    level_dbfs: float = -120.0
    gated: bool = True
    saturated: bool = False
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class Counters:
    windows: int = 0
    gated: int = 0
    saturated: int = 0
    classified: int = 0
    hits: int = 0


def wav_bytes(audio: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV (what any browser's audio element plays)."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return out.getvalue()


class StreamDetector:
    """Detection state of one device's stream (not thread-safe: one stream, one task)."""

    def __init__(
        self,
        model: Model,
        thresholds: dict[str, float] | None = None,
        *,
        default_threshold: float | None = None,
        gate_dbfs: float = -55.0,
        hop_s: float = 0.25,
        cooldown_s: float = 10.0,
        clip_s: float = 4.0,
        gate: bool = True,
        confirm: int | None = None,
        of: int | None = None,
    ) -> None:
        self.model = model
        # defaults: the per-class thresholds and rule calibrated on the validation split with the
        # shipped model (model/metrics.json); a threshold given here (a device's own) wins, and a
        # ``default_threshold`` replaces the calibrated ones for the classes not given
        calibration = shipped_calibration()
        given = thresholds or {}
        fallback = calibration.thresholds if default_threshold is None else {}
        self.thresholds = {
            name: float(given.get(name, fallback.get(name, default_threshold or 0.0)))
            for name in DANGER_CLASSES
        }
        self.gate_dbfs = gate_dbfs
        self.gate = gate
        # a class must clear its threshold in ``confirm`` of the last ``of`` windows: a 1 s window
        # moves by a hop, so any real event (even a 0.2 s shot) sits in several; a one-window blip
        # of a background does not (costs a hop or two of latency, removes most false alarms)
        if confirm is None:
            confirm, of = calibration.confirm, of or calibration.of
        self.confirm = max(1, confirm)
        self.of = max(self.confirm, of or self.confirm)
        self._streak: dict[str, deque[bool]] = {}
        self.hop = max(1, int(hop_s * SAMPLE_RATE))
        self.cooldown = timedelta(seconds=cooldown_s)
        keep = max(int(clip_s * SAMPLE_RATE), WINDOW)
        # a ring written twice (at i and i + keep) so the latest ``keep`` samples are always one
        # contiguous slice: no copy per hop
        self._ring = np.zeros(2 * keep, dtype=np.float32)
        self._keep = keep
        self._head = 0
        self._filled = 0
        self._since_hop = 0
        self._hop_energy = 0.0
        self._energies: deque[float] = deque(maxlen=max(1, WINDOW // self.hop))
        self._clip = int(clip_s * SAMPLE_RATE)
        self._last_hit: dict[str, datetime] = {}
        self._history: deque[tuple[datetime, list[float]]] = deque(
            maxlen=int(HISTORY_S * SAMPLE_RATE / self.hop) + 1
        )
        self.meter = Meter()
        self.counters = Counters()

    def set_thresholds(self, thresholds: dict[str, float]) -> None:
        self.thresholds.update({k: float(v) for k, v in thresholds.items() if k in self.thresholds})

    def _append(self, samples: np.ndarray) -> None:
        n = samples.size
        if n >= self._keep:
            samples, n = samples[-self._keep :], self._keep
        first = min(n, self._keep - self._head)
        for offset in (0, self._keep):
            self._ring[offset + self._head : offset + self._head + first] = samples[:first]
            self._ring[offset : offset + n - first] = samples[first:]
        self._head = (self._head + n) % self._keep
        self._filled = min(self._keep, self._filled + n)
        self._hop_energy += float(np.dot(samples, samples))

    def latest(self, count: int) -> np.ndarray:
        """The last ``count`` samples (at most the kept length) as one contiguous view."""
        count = min(count, self._keep)
        end = self._head + self._keep
        return self._ring[end - count : end]

    def feed(self, samples: np.ndarray, end_time: datetime) -> list[Hit]:
        """Add audio whose last sample was heard at ``end_time``; returns the hits it completed."""
        samples = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
        hits: list[Hit] = []
        position = 0
        while position < samples.size:
            take = min(self.hop - self._since_hop, samples.size - position)
            self._append(samples[position : position + take])
            position += take
            self._since_hop += take
            if self._since_hop >= self.hop:
                self._since_hop = 0
                self._energies.append(self._hop_energy)
                self._hop_energy = 0.0
                at = end_time - timedelta(seconds=(samples.size - position) / SAMPLE_RATE)
                hit = self._look(at)
                if hit is not None:
                    hits.append(hit)
        return hits

    def _look(self, at: datetime) -> Hit | None:
        if self._filled < WINDOW:  # a half-empty window starts with a step from silence: no
            return None
        self.counters.windows += 1
        energy = sum(self._energies) / (len(self._energies) * self.hop)
        level = 10.0 * float(np.log10(max(energy, 1e-12)))
        self.meter = Meter(level_dbfs=round(level, 1))
        if self.gate and level < self.gate_dbfs:
            self.counters.gated += 1
            self._streak.clear()
            self._history.append((at, [1.0] + [0.0] * (len(CLASSES) - 1)))
            return None
        window = self.latest(WINDOW)
        if clipped_fraction(window) >= SATURATED_FRACTION:
            self.counters.saturated += 1
            self._streak.clear()
            self.meter.saturated = True
            return None
        self.counters.classified += 1
        vector = self.model.classify_vector(window)
        self._history.append((at, [round(float(v), 3) for v in vector]))
        self.meter.gated = False
        self.meter.scores = {
            name: round(float(v), 3) for name, v in zip(self.model.classes, vector, strict=True)
        }
        return self._decide(vector, at, level)

    def _decide(self, vector: np.ndarray, at: datetime, level: float) -> Hit | None:
        best: tuple[float, str] | None = None
        for index, name in enumerate(self.model.classes):
            if name not in self.thresholds:
                continue
            score = float(vector[index])
            cleared = score >= self.thresholds[name]
            recent = self._streak.setdefault(name, deque(maxlen=self.of))
            recent.append(cleared)
            if cleared and sum(recent) >= self.confirm and (best is None or score > best[0]):
                best = (score, name)
        if best is None:
            return None
        score, name = best
        last = self._last_hit.get(name)
        if last is not None and at - last < self.cooldown:
            return None
        self._last_hit[name] = at
        self.counters.hits += 1
        clip = self.latest(min(self._clip, self._filled)).copy()
        return Hit(name, round(score, 4), at, round(level, 1), wav_bytes(clip), self.score_history(at))

    def score_history(self, now: datetime) -> dict[str, object]:
        return {
            "classes": list(self.model.classes),
            "times": [round((t - now).total_seconds(), 2) for t, _ in self._history],
            "scores": [row for _, row in self._history],
        }
