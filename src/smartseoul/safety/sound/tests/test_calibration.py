"""Calibration on validation streams (synthetic score arrays: no data, no model): the k-of-n rule
with its cooldown counts alarms as the detector would, and the threshold search spends the false
alarm budget where it costs the fewest missed events. The service's defaults follow it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from smartseoul.core.settings import Settings
from smartseoul.safety.sound.calibrate import GRID, choose, fires
from smartseoul.safety.sound.model import (
    CLASSES,
    DANGER_CLASSES,
    FALLBACK_THRESHOLD,
    read_calibration,
    shipped_calibration,
)
from smartseoul.safety.sound.service import default_thresholds

SCREAM = CLASSES.index("scream")


def scores(column: list[float]) -> np.ndarray:
    out = np.zeros((len(column), len(CLASSES)), dtype=np.float32)
    out[:, SCREAM] = column
    return out


def test_fires_counts_k_of_n_runs_a_gap_breaks_them_and_the_cooldown_merges_repeats() -> None:
    seq = scores([0.9, 0.1, 0.9, 0.0, 0.0, 0.9, float("nan"), 0.9, 0.0])
    assert fires(seq, SCREAM, 0.8, 2, 2, 1) == 0  # never two in a row
    assert fires(seq, SCREAM, 0.8, 2, 3, 1) == 1  # 2 of 3 at the third window
    assert fires(seq, SCREAM, 0.95, 1, 1, 1) == 0  # above every score
    assert fires(seq, SCREAM, 0.8, 1, 1, 1) == 4
    assert fires(seq, SCREAM, 0.8, 1, 1, 4) == 2  # windows 0 and 5; 2 and 7 fall in a cooldown
    # the NaN row (a gated window) breaks the run: 0.9 at 5 and 7 never count together
    assert fires(scores([0.9, float("nan"), 0.9]), SCREAM, 0.8, 2, 3, 1) == 0


def test_choose_raises_the_class_whose_false_alarms_cost_the_fewest_events() -> None:
    n = len(GRID)
    flat = np.zeros(n)
    noisy = np.where(np.arange(n) < 10, 5.0, 0.0)  # 5 false alarms an hour until the 11th step
    table = {
        "scream": (noisy, np.where(np.arange(n) < 10, 1.0, 0.9)),  # costs 10 % of screams
        "glass": (noisy.copy(), np.where(np.arange(n) < 10, 1.0, 0.2)),  # costs 80 % of glass
        "siren": (flat, np.ones(n)),
    }
    assert choose(table, 100.0) == {"scream": 0, "glass": 0, "siren": 0}
    assert choose(table, 6.0) == {"scream": 10, "glass": 0, "siren": 0}
    assert choose(table, 1.0) == {"scream": 10, "glass": 10, "siren": 0}


def test_the_service_default_is_the_calibration_unless_the_setting_is_given() -> None:
    assert default_thresholds(None) == shipped_calibration().thresholds
    assert default_thresholds(Settings()) == shipped_calibration().thresholds
    given = Settings(sound_threshold=0.75)
    assert default_thresholds(given) == {name: 0.75 for name in DANGER_CLASSES}


def test_a_candidates_metrics_file_gives_its_own_thresholds_and_rule(tmp_path: Path) -> None:
    # a candidate model is benched with the rule calibrated for it, not the shipped one
    path = tmp_path / "candidate_metrics.json"
    path.write_text(json.dumps({"thresholds": {"scream": 0.81}, "confirm": [3, 4]}), encoding="utf-8")
    rule = read_calibration(path)
    assert rule.thresholds["scream"] == 0.81
    assert rule.thresholds["glass"] == FALLBACK_THRESHOLD  # a class it does not name
    assert (rule.confirm, rule.of) == (3, 4)
    missing = read_calibration(tmp_path / "absent.json")
    assert missing.thresholds == {name: FALLBACK_THRESHOLD for name in DANGER_CLASSES}
    assert (missing.confirm, missing.of) == (2, 2)
