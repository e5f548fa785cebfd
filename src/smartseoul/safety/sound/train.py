"""Retrain the danger-sound model: ``python -m smartseoul.safety.sound.train`` (a developer step).

Builds the data set deterministically (``--seed``) from the catalogue, the allowed Debian packages
(downloaded into var/cache/debian), espeak-ng (``apt-get install -y espeak-ng``) and synthesis;
trains a NumPy MLP and, when scikit-learn is installed, histogram gradient boosting on the same
features; ships whichever scores better on the VALIDATION split (exported to NumPy either way, so
the runtime never needs scikit-learn) as ``model/sound_model.npz`` with ``model/metrics.json`` and
the split lists in ``model/split.tsv``. The feature arrays are cached in ``var/cache/sound`` so a
second run with the same seed and size skips the data build. See ``RECIPE.md``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from smartseoul.safety.sound import dataset
from smartseoul.safety.sound.model import CLASSES, DANGER_CLASSES, Forest, Mlp, Model, model_path

CATALOGUE = Path("../shared/data/sound/training_catalog.tsv")
DEFAULT_THRESHOLD = 0.5


def split_path() -> Path:
    return model_path().parent / "split.tsv"


def write_split(sources: list[dataset.Source], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["source", "label", "split"])
        for source in sorted(sources, key=lambda s: (s.label, s.key)):
            writer.writerow([source.key, source.label, source.split])


def prepare_sources(catalogue: Path, cache: Path) -> list[dataset.Source]:
    """All sources with their committed split (written once from the balanced split if absent)."""
    sources = dataset.all_sources(catalogue)
    path = split_path()
    if not path.is_file():
        dataset._SPLIT_CACHE.update(dataset.balanced_split(sources))
        write_split(sources, path)
    dataset.load_committed_split(path)
    dataset.fetch_all(sources, cache)
    return sources


def build_arrays(
    sources: list[dataset.Source], cache: Path, seed: int, per_class: dict[str, int], splits: tuple[str, ...]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    chosen = [s for s in sources if s.split in splits]
    pools = dataset.build_pools(chosen, cache, rng)
    out = {}
    for name in splits:
        out[name] = dataset.featurise(
            dataset.examples(pools[name], per_class[name], np.random.default_rng(seed + len(name)))
        )
    counts = {name: pools[name].sources for name in splits}
    out_counts = {"source_counts": counts}
    build_arrays.last_counts = out_counts  # type: ignore[attr-defined]
    return out


# ---------------------------------------------------------------- a NumPy MLP with Adam


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    seed: int,
    hidden: tuple[int, ...] = (128, 64),
    epochs: int = 60,
) -> Mlp:
    """Full-batch-free mini-batch Adam with L2 and early stopping on validation loss."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    xs, xv = (x - mean) / scale, (x_val - mean) / scale
    sizes = (x.shape[1], *hidden, len(CLASSES))
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params.append(
            [
                rng.standard_normal((fan_in, fan_out)).astype(np.float32) * np.sqrt(2 / fan_in),
                np.zeros(fan_out, np.float32),
            ]
        )
    moments = [[np.zeros_like(p) for p in layer] for layer in params]
    velocity = [[np.zeros_like(p) for p in layer] for layer in params]
    class_weight = len(y) / (len(CLASSES) * np.bincount(y, minlength=len(CLASSES)).clip(1))
    lr, decay, step = 2e-3, 1e-4, 0
    best: tuple[float, list[list[np.ndarray]]] = (np.inf, [])

    def forward(batch: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        acts = [batch]
        for w, b in params[:-1]:
            acts.append(np.maximum(acts[-1] @ w + b, 0.0))
        logits = acts[-1] @ params[-1][0] + params[-1][1]
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        return acts, prob / prob.sum(axis=1, keepdims=True)

    for _epoch in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 128):
            idx = order[start : start + 128]
            batch = xs[idx] + rng.standard_normal(xs[idx].shape).astype(np.float32) * 0.05
            acts, prob = forward(batch)
            grad = prob.copy()
            grad[np.arange(len(idx)), y[idx]] -= 1.0
            grad *= class_weight[y[idx]][:, None] / len(idx)
            step += 1
            for layer in range(len(params) - 1, -1, -1):
                w = params[layer][0]
                gw = acts[layer].T @ grad + decay * w
                gb = grad.sum(axis=0)
                if layer > 0:
                    grad = (grad @ w.T) * (acts[layer] > 0)
                for k, g in enumerate((gw, gb)):
                    moments[layer][k] = 0.9 * moments[layer][k] + 0.1 * g
                    velocity[layer][k] = 0.999 * velocity[layer][k] + 0.001 * g * g
                    m_hat = moments[layer][k] / (1 - 0.9**step)
                    v_hat = velocity[layer][k] / (1 - 0.999**step)
                    params[layer][k] = params[layer][k] - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        _, prob_val = forward(xv)
        loss = float(-np.mean(np.log(prob_val[np.arange(len(y_val)), y_val] + 1e-9)))
        if loss < best[0]:
            best = (loss, [[p.copy() for p in layer] for layer in params])
    layers = tuple((w.astype(np.float32), b.astype(np.float32)) for w, b in best[1])
    return Mlp(mean.astype(np.float32), scale.astype(np.float32), layers, CLASSES)


# ---------------------------------------------------------------- evaluation (shared with the bench)


def decide(probabilities: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """The class each window is reported as: the top class if it clears its threshold, else background."""
    top = probabilities.argmax(axis=1)
    limits = np.array([thresholds.get(name, DEFAULT_THRESHOLD) for name in CLASSES])
    cleared = probabilities[np.arange(len(top)), top] >= limits[top]
    return np.where(cleared, top, 0)


def per_class_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for index, name in enumerate(CLASSES):
        tp = int(np.sum((predicted == index) & (truth == index)))
        fp = int(np.sum((predicted == index) & (truth != index)))
        fn = int(np.sum((predicted != index) & (truth == index)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": int(np.sum(truth == index)),
        }
    return out


def evaluate(
    model: Model, x: np.ndarray, y: np.ndarray, snr: np.ndarray, thresholds: dict[str, float]
) -> dict[str, Any]:
    prob = model.probabilities(x)
    predicted = decide(prob, thresholds)
    high = (snr >= 5.0) | (y == 0)
    return {
        "all_snr": per_class_scores(y, predicted),
        "snr_5db_or_more": per_class_scores(y[high], predicted[high]),
        "accuracy": round(float(np.mean(predicted == y)), 4),
    }


def train_forest(train: tuple[np.ndarray, ...], seed: int) -> Forest | None:
    """scikit-learn's histogram gradient boosting, exported to a NumPy :class:`Forest`."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return None
    clf = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, random_state=seed, class_weight="balanced", early_stopping=False
    )
    clf.fit(train[0], train[1])
    forest = export_forest(clf)
    check = forest.probabilities(train[0][:500])
    expected = clf.predict_proba(train[0][:500])
    if float(np.abs(check - expected).max()) > 1e-3:
        raise RuntimeError("the NumPy export of the trees does not reproduce scikit-learn's scores")
    return forest


def export_forest(clf: Any) -> Forest:
    """Pad every tree's nodes to one width so all trees can be walked together."""
    trees = [(k, predictor.nodes) for iteration in clf._predictors for k, predictor in enumerate(iteration)]
    width = max(len(nodes) for _, nodes in trees)
    count = len(trees)
    feature = np.zeros((count, width), np.int32)
    threshold = np.zeros((count, width), np.float32)
    left = np.zeros((count, width), np.int32)
    right = np.zeros((count, width), np.int32)
    leaf = np.ones((count, width), bool)
    value = np.zeros((count, width), np.float32)
    tree_class = np.zeros(count, np.int32)
    for index, (k, nodes) in enumerate(trees):
        n = len(nodes)
        feature[index, :n] = nodes["feature_idx"]
        threshold[index, :n] = nodes["num_threshold"]
        left[index, :n] = nodes["left"]
        right[index, :n] = nodes["right"]
        leaf[index, :n] = nodes["is_leaf"].astype(bool)
        value[index, :n] = nodes["value"]
        tree_class[index] = k
    baseline = np.asarray(clf._baseline_prediction, dtype=np.float64).reshape(-1)
    return Forest(feature, threshold, left, right, leaf, value, tree_class, baseline, CLASSES)


def danger_f1(result: dict[str, Any]) -> float:
    """Mean F1 of the danger classes at SNR >= 5 dB: what chooses the shipped model."""
    scores = result["snr_5db_or_more"]
    return float(np.mean([scores[name]["f1"] for name in DANGER_CLASSES]))


def cached_arrays(
    sources: list[dataset.Source], cache: Path, seed: int, sizes: dict[str, int]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    folder = Path("var/cache/sound")
    path = folder / f"features-{seed}-{sizes['train']}.npz"
    names = ("train", "val", "test")
    if path.is_file():
        with np.load(path, allow_pickle=True) as data:
            build_arrays.last_counts = data["counts"].item()  # type: ignore[attr-defined]
            return {n: (data[f"{n}_x"], data[f"{n}_y"], data[f"{n}_snr"]) for n in names}
    arrays = build_arrays(sources, cache, seed, sizes, names)
    folder.mkdir(parents=True, exist_ok=True)
    flat = {f"{n}_{part}": arrays[n][i] for n in names for i, part in enumerate(("x", "y", "snr"))}
    counts = np.array(build_arrays.last_counts, dtype=object)  # type: ignore[attr-defined,type-var]
    np.savez_compressed(path, counts=counts, **flat)  # type: ignore[arg-type]
    return arrays


DEMO_PACKAGES = ("megaglest-data", "redeclipse-data")  # CC-BY-SA-3.0 sound assets (see RECIPE.md)


def _loudest_second(audio: np.ndarray) -> np.ndarray:
    if audio.size <= 16000:
        return audio
    energy = np.convolve(audio**2, np.ones(1600), mode="valid")[::160]
    start = int(np.argmax(energy)) * 160
    start = max(0, min(start - 4000, audio.size - 16000))
    return audio[start : start + 16000]


def write_demo_clips(sources: list[dataset.Source], cache: Path) -> dict[str, str]:
    """The simulator's event clips, from the TRAIN split only (the test set stays unheard):
    a real scream and gunshot, and an espeak-ng "살려주세요"; int16 in ``model/demo_clips.npz``."""
    chosen: dict[str, str] = {}
    clips: dict[str, np.ndarray] = {}
    for label in ("scream", "gunshot"):
        candidates = sorted(
            (s for s in sources if s.label == label and s.split == "train" and s.package in DEMO_PACKAGES),
            key=lambda s: s.key,
        )
        for source in candidates:
            audio = _loudest_second(dataset.read_source(source, cache))
            if audio.size >= 4000:
                clips[label] = audio
                chosen[label] = source.key
                break
    voice = next(s for s in sources if s.key.startswith("espeak:help:ko:") and s.split == "train")
    clips["shout_help"] = dataset.espeak("살려주세요", "ko", voice.key.rsplit(":", 1)[-1], 85, 175)
    chosen["shout_help"] = f"espeak-ng 살려주세요 ({voice.key})"
    arrays = {
        k: (np.clip(v / (np.abs(v).max() or 1) * 0.9, -1, 1) * 32767).astype(np.int16)
        for k, v in clips.items()
    }
    np.savez_compressed(model_path().parent / "demo_clips.npz", **arrays)  # type: ignore[arg-type]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE)
    parser.add_argument("--cache", type=Path, default=Path("var/cache/debian"))
    parser.add_argument("--per-class", type=int, default=700, help="training windows per class")
    parser.add_argument("--no-compare", action="store_true", help="skip the gradient-boosting comparison")
    parser.add_argument("--demo-clips-only", action="store_true", help="only rewrite model/demo_clips.npz")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        sources = prepare_sources(args.catalogue, args.cache)
        if args.demo_clips_only:
            print(json.dumps(write_demo_clips(sources, args.cache), ensure_ascii=False))
            return 0
    except dataset.DataUnavailable as missing:
        parser.exit(2, f"error: {missing}\n")
    sizes = {"train": args.per_class, "val": args.per_class // 4, "test": args.per_class // 2}
    arrays = cached_arrays(sources, args.cache, args.seed, sizes)
    built = time.perf_counter() - started
    mlp = train_mlp(*arrays["train"][:2], *arrays["val"][:2], seed=args.seed)
    thresholds = {name: DEFAULT_THRESHOLD for name in CLASSES[1:]}
    metrics: dict[str, Any] = {
        "seed": args.seed,
        "windows": {name: len(arrays[name][1]) for name in arrays},
        "distinct_sources": build_arrays.last_counts["source_counts"],  # type: ignore[attr-defined]
        "mlp_val": evaluate(mlp, *arrays["val"], thresholds),
        "mlp_test": evaluate(mlp, *arrays["test"], thresholds),
        "build_seconds": round(built, 1),
    }
    model: Model = mlp
    metrics["shipped"] = "mlp"
    if not args.no_compare:
        forest_started = time.perf_counter()
        forest = train_forest(arrays["train"], args.seed)
        if forest is not None:
            metrics["forest_val"] = evaluate(forest, *arrays["val"], thresholds)
            metrics["forest_test"] = evaluate(forest, *arrays["test"], thresholds)
            metrics["forest_train_seconds"] = round(time.perf_counter() - forest_started, 1)
            if danger_f1(metrics["forest_val"]) > danger_f1(metrics["mlp_val"]):
                model, metrics["shipped"] = forest, "forest"
    metrics["total_seconds"] = round(time.perf_counter() - started, 1)
    model.save(model_path())
    metrics["demo_clips"] = write_demo_clips(sources, args.cache)
    (model_path().parent / "metrics.json").write_text(
        json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps({k: metrics[k] for k in ("windows", "total_seconds")}))
    print("shipped:", metrics["shipped"])
    for key in ("mlp_test", "forest_test"):
        if metrics.get(key):
            print(key, {n: v["f1"] for n, v in metrics[key]["snr_5db_or_more"].items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
