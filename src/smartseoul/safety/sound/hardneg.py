"""Hard-negative mining on the TRAINING split, then the gradient boosting retrained with them.

Why: the training windows place a clap, door or bag pop well inside a 1 s window over one steady
background; a stream shows them cut at a window's edge, two backgrounds meeting, a door in its
fourth of a second. Streaming the training backgrounds (never validation or test) with everyday loud
sounds mixed in, as the detector would hear them, and keeping every window the shipped model
scores as a danger, gives the background examples the model lacked.

A developer step after :mod:`.train` (needs scikit-learn and ``var/cache``)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m smartseoul.safety.sound.hardneg [--hours 1.5] [--out PATH]

It writes a CANDIDATE model (default ``var/cache/sound/candidate_model.npz``) and the mined
windows' features next to it (``*.hard.npz``); calibrate it (:mod:`.calibrate` ``--model``) and
bench it before it replaces ``model/sound_model.npz``. A further round mines with the candidate
(``--model``, another ``--seed``) and keeps the earlier rounds' windows (``--with``), so the model
learns what it still confuses without forgetting what it learnt; give every round its own ``--out``
(the calibration caches its scores by the model file's name).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from smartseoul.safety.sound import dataset, train
from smartseoul.safety.sound.calibrate import background_stream
from smartseoul.safety.sound.detector import SATURATED_FRACTION
from smartseoul.safety.sound.features import SAMPLE_RATE, WINDOW, clipped_fraction, window_features
from smartseoul.safety.sound.model import DANGER_CLASSES, Model, load, shipped

HOP = SAMPLE_RATE // 4
GATE_DBFS = -55.0


def stream_windows(audio: np.ndarray) -> list[np.ndarray]:
    """The windows the detector would classify (above the gate, not saturated)."""
    out = []
    for end in range(WINDOW, audio.size + 1, HOP):
        window = audio[end - WINDOW : end]
        level = 10 * np.log10(max(float(np.mean(window.astype(np.float64) ** 2)), 1e-12))
        if level < GATE_DBFS or clipped_fraction(window) >= SATURATED_FRACTION:
            continue
        out.append(window)
    return out


def mine(model: Model, hours: float, seed: int, floor: float) -> tuple[np.ndarray, int]:
    """Features of training-background stream windows whose top danger score reaches ``floor``."""
    cache = Path("var/cache/debian")
    sources = train.prepare_sources(train.CATALOGUE, cache)
    real = [
        dataset.read_source(s, cache)
        for s in sources
        if s.split == "train" and s.label.startswith("bg:") and s.package
    ]
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    seen = 0
    for _ in range(int(hours * 60)):
        windows = stream_windows(background_stream(rng, 60.0, real))
        feats = np.stack([window_features(w) for w in windows])
        seen += len(feats)
        danger = model.probabilities(feats)[:, 1:].max(axis=1)
        kept.append(feats[danger >= floor])
    return np.concatenate(kept), seen


def hard_path(out: Path) -> Path:
    """Where a round's mined windows are kept, so a later round can train on them again."""
    return out.with_suffix(".hard.npz")


def earlier_windows(path: Path) -> np.ndarray:
    """An earlier round's mined feature rows (``x``)."""
    with np.load(path) as data:
        return np.asarray(data["x"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--floor", type=float, default=0.3, help="danger score that makes a window hard")
    parser.add_argument("--out", type=Path, default=Path("var/cache/sound/candidate_model.npz"))
    parser.add_argument("--model", type=Path, default=None, help="mine with this model (default: shipped)")
    parser.add_argument(
        "--with", dest="earlier", type=Path, nargs="*", default=[], help="earlier rounds' *.hard.npz"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = load(args.model) if args.model else shipped()
    mined, seen = mine(model, args.hours, args.seed, args.floor)
    print(f"mined {len(mined)} hard negatives of {seen} windows in {time.perf_counter() - started:.0f} s")
    np.savez_compressed(hard_path(args.out), x=mined)
    hard = np.concatenate([mined, *(earlier_windows(path) for path in args.earlier)])
    arrays = train.cached_arrays([], Path("var/cache/debian"), 20261202, {"train": 1200})
    x, y, snr = arrays["train"]
    x = np.concatenate([x, hard.astype(x.dtype)])
    y = np.concatenate([y, np.zeros(len(hard), dtype=y.dtype)])
    snr = np.concatenate([snr, np.full(len(hard), 20.0, dtype=snr.dtype)])
    forest = train.train_forest((x, y, snr), 20261202)
    if forest is None:
        parser.exit(2, "error: scikit-learn is needed (.venv/bin/pip install scikit-learn==1.9.1)\n")
    forest.save(args.out)
    thresholds = {name: train.DEFAULT_THRESHOLD for name in DANGER_CLASSES}
    report = {
        "mined_with": str(args.model or "shipped"),
        "earlier_rounds": [str(path) for path in args.earlier],
        "mined": len(mined),
        "hard_negatives": len(hard),
        "stream_windows_seen": seen,
        "hours": args.hours,
        "seed": args.seed,
        "floor": args.floor,
        "val": train.evaluate(forest, *arrays["val"], thresholds),
        "mined_with_val": train.evaluate(model, *arrays["val"], thresholds),
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print("candidate val F1", {n: v["f1"] for n, v in report["val"]["snr_5db_or_more"].items()})
    print("mined-with val F1", {n: v["f1"] for n, v in report["mined_with_val"]["snr_5db_or_more"].items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
