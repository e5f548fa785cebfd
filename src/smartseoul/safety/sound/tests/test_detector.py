"""The streaming detector's own rules, with a scripted classifier: the energy gate makes silence
free, a saturated microphone never alarms, thresholds are per class, a repeat is suppressed."""

from __future__ import annotations

import io
import time
import wave
from datetime import UTC, datetime, timedelta

import numpy as np

from smartseoul.safety.sound.detector import StreamDetector
from smartseoul.safety.sound.features import SAMPLE_RATE
from smartseoul.safety.sound.tests.helpers import ScriptedModel, tone

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def detector(model: ScriptedModel, **options: float) -> StreamDetector:
    """The rule under test is pinned (2 windows in a row unless given), whatever was calibrated."""
    thresholds = {"scream": float(options.pop("scream", 0.6))}
    options.setdefault("confirm", 2)
    return StreamDetector(model, thresholds, cooldown_s=options.pop("cooldown_s", 10.0), **options)  # type: ignore[arg-type]


def test_hours_of_silence_cost_no_classification_and_raise_nothing() -> None:
    model = ScriptedModel()
    found = detector(model)
    started = time.process_time()
    quiet = np.zeros(SAMPLE_RATE * 60, dtype=np.float32)
    quiet[::97] = 1e-4  # a very quiet room, not digital zero
    hits = []
    for minute in range(60):  # an hour
        hits += found.feed(quiet, T0 + timedelta(minutes=minute + 1))
    assert hits == []
    assert model.calls == 0
    assert (
        found.counters.windows == found.counters.gated == 60 * 60 * 4 - 3
    )  # the first look waits for a full second
    assert time.process_time() - started < 4  # CPU seconds for an hour of audio (wall time varies)


def test_a_loud_event_is_reported_once_with_a_playable_clip_and_its_scores() -> None:
    model = ScriptedModel()
    found = detector(model, clip_s=2.0)
    background = tone(300, 2.0, 0.01)
    hits = found.feed(background, T0 + timedelta(seconds=2))
    assert hits == []
    loud = tone(900, 1.0, 0.5)
    hits = found.feed(loud, T0 + timedelta(seconds=3)) + found.feed(loud, T0 + timedelta(seconds=4))
    assert [h.label for h in hits] == ["scream"]  # the second second is within the cooldown
    hit = hits[0]
    assert hit.confidence == 0.95
    assert T0 + timedelta(seconds=2) < hit.at <= T0 + timedelta(seconds=3)
    with wave.open(io.BytesIO(hit.clip_wav)) as clip:
        assert (clip.getframerate(), clip.getnchannels(), clip.getnframes()) == (
            SAMPLE_RATE,
            1,
            2 * SAMPLE_RATE,
        )
    scores = hit.scores
    assert scores["classes"][1] == "scream"  # type: ignore[index]
    assert len(scores["times"]) == len(scores["scores"]) >= 4  # type: ignore[arg-type]
    assert max(row[1] for row in scores["scores"]) == 0.95  # type: ignore[union-attr]


def test_the_cooldown_ends_and_a_raised_threshold_mutes_the_class() -> None:
    model = ScriptedModel()
    found = detector(model, cooldown_s=2.0)
    loud = tone(900, 1.0, 0.5)
    assert found.feed(loud, T0 + timedelta(seconds=1)) == []  # the first look waits for a full window
    assert len(found.feed(loud, T0 + timedelta(seconds=2))) == 1
    assert found.feed(loud, T0 + timedelta(seconds=3)) == []  # within the cooldown
    assert len(found.feed(loud, T0 + timedelta(seconds=5))) == 1
    found.set_thresholds({"scream": 0.99, "not_a_class": 0.1})
    assert found.feed(loud, T0 + timedelta(seconds=20)) == []
    assert "not_a_class" not in found.thresholds


def test_a_saturated_microphone_is_never_an_alarm() -> None:
    model = ScriptedModel()
    found = detector(model)
    rng = np.random.default_rng(1)
    square = np.sign(tone(440, 3.0, 1.0))
    noise = np.clip(rng.standard_normal(3 * SAMPLE_RATE) * 4, -1, 1).astype(np.float32)
    hits = found.feed(square, T0 + timedelta(seconds=3)) + found.feed(noise, T0 + timedelta(seconds=6))
    assert hits == []
    assert found.counters.saturated > 0
    assert model.calls == 0
    assert found.meter.saturated


def test_nan_and_infinite_samples_do_not_break_the_stream() -> None:
    model = ScriptedModel()
    found = detector(model)
    broken = tone(900, 1.0, 0.5)
    broken[::100] = np.nan
    broken[1::100] = np.inf
    found.feed(broken, T0 + timedelta(seconds=1))
    assert all(np.isfinite(model.seen))


def test_the_gate_off_classifies_silence_too() -> None:
    model = ScriptedModel()
    found = detector(model, gate=False)  # type: ignore[arg-type]
    found.feed(np.zeros(SAMPLE_RATE * 10, dtype=np.float32), T0)
    assert model.calls == found.counters.windows > 0


class OneWindowBlip(ScriptedModel):
    """Says 'scream' for exactly one window, as a model's one-off mistake would."""

    def classify_vector(self, audio: np.ndarray) -> np.ndarray:
        scores = super().classify_vector(audio * 0)  # background...
        if self.calls == 3:  # ...except once
            scores[:2] = [0.05, 0.95]
        return scores


def test_a_one_window_blip_is_not_an_alarm_but_two_in_a_row_are() -> None:
    steady = tone(300, 3.0, 0.05)
    assert detector(OneWindowBlip()).feed(steady, T0) == []
    assert len(detector(OneWindowBlip(), confirm=1).feed(steady, T0)) == 1  # type: ignore[arg-type]


class Pattern(ScriptedModel):
    """Says 'scream' (0.95) on the windows whose number is in ``loud``, background otherwise."""

    def __init__(self, loud: set[int]) -> None:
        super().__init__()
        self.loud = loud

    def classify_vector(self, audio: np.ndarray) -> np.ndarray:
        scores = super().classify_vector(audio * 0)
        if self.calls in self.loud:
            scores[:2] = [0.05, 0.95]
        return scores


def test_k_of_n_windows_bridges_one_missed_window_but_not_two() -> None:
    steady = tone(300, 4.0, 0.05)
    # scream, miss, scream: 2 of the last 3 windows cleared; "2 in a row" never saw it
    assert detector(Pattern({3, 5}), confirm=2, of=2).feed(steady, T0) == []
    assert len(detector(Pattern({3, 5}), confirm=2, of=3).feed(steady, T0)) == 1
    assert detector(Pattern({3, 6}), confirm=2, of=3).feed(steady, T0) == []
    assert len(detector(Pattern({3, 4, 6}), confirm=3, of=4).feed(steady, T0)) == 1
    assert detector(Pattern({3, 4}), confirm=3, of=4).feed(steady, T0) == []


def test_the_defaults_are_the_calibrated_thresholds_and_rule_and_a_device_value_wins() -> None:
    from smartseoul.safety.sound.model import DANGER_CLASSES, shipped_calibration

    calibration = shipped_calibration()
    assert set(calibration.thresholds) == set(DANGER_CLASSES)
    assert all(0.05 <= v <= 1.0 for v in calibration.thresholds.values())
    assert 1 <= calibration.confirm <= calibration.of
    plain = StreamDetector(ScriptedModel())  # type: ignore[arg-type]
    assert plain.thresholds == calibration.thresholds
    assert (plain.confirm, plain.of) == (calibration.confirm, calibration.of)
    own = StreamDetector(ScriptedModel(), {"glass": 0.42})  # type: ignore[arg-type]
    assert own.thresholds["glass"] == 0.42
    assert own.thresholds["scream"] == calibration.thresholds["scream"]
    uniform = StreamDetector(ScriptedModel(), {"glass": 0.42}, default_threshold=0.7)  # type: ignore[arg-type]
    assert uniform.thresholds == {n: 0.42 if n == "glass" else 0.7 for n in DANGER_CLASSES}
