"""The shipped classifier over :func:`features.window_features`: gradient-boosted trees walked in
NumPy (:class:`Forest`) or a small multilayer perceptron (:class:`Mlp`), whichever the training
run found better on validation (``model/metrics.json`` says which and why).

The runtime is NumPy only (weights in ``model/sound_model.npz``, 0.7 MB); training lives in
:mod:`smartseoul.safety.sound.train` and is a developer step, never a CI or demo step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from smartseoul.safety.sound.features import f32, window_features

CLASSES: tuple[str, ...] = (
    "background",
    "scream",
    "shout_help",
    "glass",
    "gunshot",
    "explosion",
    "crash",
    "siren",
)
DANGER_CLASSES: tuple[str, ...] = CLASSES[1:]
MODEL_FILE = "sound_model.npz"


class ModelMissing(FileNotFoundError):
    """The weights file is not in the package (run ``python -m smartseoul.safety.sound.train``)."""


@dataclass(frozen=True)
class Mlp:
    """Standardise, then ReLU layers, then softmax; ``layers`` is a list of (weights, bias)."""

    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    classes: tuple[str, ...]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch (n, FEATURE_SIZE) or one vector."""
        x = (np.atleast_2d(features).astype(np.float32) - self.mean) / self.scale
        for weights, bias in self.layers[:-1]:
            x = np.maximum(x @ weights + bias, 0.0)
        weights, bias = self.layers[-1]
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return f32(odds / odds.sum(axis=1, keepdims=True))

    def classify_vector(self, audio: np.ndarray) -> np.ndarray:
        """Scores of one 16 kHz window, in the order of ``classes``."""
        return f32(self.probabilities(window_features(audio))[0])

    def classify(self, audio: np.ndarray) -> dict[str, float]:
        """Scores of one 16 kHz window by class name."""
        scores = self.probabilities(window_features(audio))[0]
        return {name: float(score) for name, score in zip(self.classes, scores, strict=True)}

    def save(self, path: Path, **extra: np.ndarray) -> None:
        arrays: dict[str, np.ndarray] = {"mean": self.mean, "scale": self.scale}
        for index, (weights, bias) in enumerate(self.layers):
            arrays[f"w{index}"] = weights.astype(np.float32)
            arrays[f"b{index}"] = bias.astype(np.float32)
        arrays["classes"] = np.array(self.classes)
        np.savez_compressed(path, **arrays, **extra)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Forest:
    """Gradient-boosted trees (exported from scikit-learn's HistGradientBoostingClassifier) run in
    NumPy: every tree is walked at once, one level per step, so a window costs ~depth array ops.

    Arrays are (trees, nodes): ``feature``, ``threshold`` (go left when x <= threshold), ``left``,
    ``right``, ``leaf``, ``value``; ``tree_class`` says which class's score a tree adds to.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    tree_class: np.ndarray
    baseline: np.ndarray
    classes: tuple[str, ...]

    def raw(self, features: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(features).astype(np.float32)
        n, trees = x.shape[0], self.feature.shape[0]
        rows = np.arange(trees)
        node = np.zeros((n, trees), dtype=np.int32)
        samples = np.arange(n)[:, None]
        for _ in range(self.feature.shape[1]):
            at_leaf = self.leaf[rows, node]
            if at_leaf.all():
                break
            go_left = x[samples, self.feature[rows, node]] <= self.threshold[rows, node]
            step = np.where(go_left, self.left[rows, node], self.right[rows, node])
            node = np.where(at_leaf, node, step)
        values = self.value[rows, node]  # (n, trees)
        out = np.zeros((n, len(self.classes)), dtype=np.float64)
        for k in range(len(self.classes)):
            out[:, k] = values[:, self.tree_class == k].sum(axis=1)
        return np.asarray(out + self.baseline, dtype=np.float64)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = self.raw(features)
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return f32(odds / odds.sum(axis=1, keepdims=True))

    def classify_vector(self, audio: np.ndarray) -> np.ndarray:
        return f32(self.probabilities(window_features(audio))[0])

    def classify(self, audio: np.ndarray) -> dict[str, float]:
        scores = self.classify_vector(audio)
        return {name: float(score) for name, score in zip(self.classes, scores, strict=True)}

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            kind=np.array("forest"),
            feature=self.feature.astype(np.int16),
            threshold=self.threshold.astype(np.float32),
            left=self.left.astype(np.int16),
            right=self.right.astype(np.int16),
            leaf=self.leaf,
            value=self.value.astype(np.float32),
            tree_class=self.tree_class.astype(np.int16),
            baseline=self.baseline.astype(np.float64),
            classes=np.array(self.classes),
        )


Model = Mlp | Forest


def _load_forest(data: Any) -> Forest:
    return Forest(
        feature=data["feature"].astype(np.int32),
        threshold=data["threshold"].astype(np.float32),
        left=data["left"].astype(np.int32),
        right=data["right"].astype(np.int32),
        leaf=data["leaf"].astype(bool),
        value=data["value"].astype(np.float32),
        tree_class=data["tree_class"].astype(np.int32),
        baseline=data["baseline"].astype(np.float64),
        classes=tuple(str(name) for name in data["classes"]),
    )


def load(path: Path) -> Model:
    with np.load(path, allow_pickle=False) as data:
        if "kind" in data.files and str(data["kind"]) == "forest":
            return _load_forest(data)
        count = sum(1 for key in data.files if key.startswith("w"))
        layers = tuple(
            (data[f"w{i}"].astype(np.float32), data[f"b{i}"].astype(np.float32)) for i in range(count)
        )
        return Mlp(
            mean=data["mean"].astype(np.float32),
            scale=data["scale"].astype(np.float32),
            layers=layers,
            classes=tuple(str(name) for name in data["classes"]),
        )


def model_path() -> Path:
    return Path(str(resources.files("smartseoul.safety.sound") / "model" / MODEL_FILE))


@dataclass(frozen=True)
class Calibration:
    """The decision rule calibrated on the validation split with the shipped model (never on test):
    per-class thresholds and "``confirm`` of the last ``of`` windows"; see :mod:`.calibrate`."""

    thresholds: dict[str, float]
    confirm: int = 2
    of: int = 2


FALLBACK_THRESHOLD = 0.6  # a class the calibration does not name (or no metrics file at all)


def read_calibration(path: Path) -> Calibration:
    """The thresholds and rule stored in a metrics file: the shipped one, or a candidate's (so a
    candidate model can be benched with its own validation calibration before it ships)."""
    import json

    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    given = stored.get("thresholds") or {}
    thresholds = {name: float(given.get(name, FALLBACK_THRESHOLD)) for name in DANGER_CLASSES}
    confirm, of = (stored.get("confirm") or [2, 2])[:2]
    return Calibration(thresholds, int(confirm), max(int(of), int(confirm)))


@lru_cache(maxsize=1)
def shipped_calibration() -> Calibration:
    """The thresholds and rule stored next to the shipped weights in ``model/metrics.json``."""
    return read_calibration(model_path().parent / "metrics.json")


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The model that ships with the package (loaded once per process)."""
    path = model_path()
    if not path.is_file():
        raise ModelMissing(f"{path} is missing: run python -m smartseoul.safety.sound.train")
    return load(path)
