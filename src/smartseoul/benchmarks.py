"""Finds and runs the benchmarks kept in the repository's ``bench/`` folder.

A benchmark is ``bench/NAME.py`` with a docstring and ``run(quick: bool) -> dict[str, float]``
returning comparable figures (rates or ratios), its baseline measured in the same run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType


def bench_dir() -> Path:
    configured = os.environ.get("SMARTSEOUL_BENCH_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(__file__).resolve().parents[2] / "bench", Path.cwd() / "bench"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no bench/ folder found; run from the repository or set SMARTSEOUL_BENCH_DIR")


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def available() -> dict[str, str]:
    found = {}
    for path in sorted(bench_dir().glob("*.py")):
        if path.stem.startswith("_"):
            continue
        first_line = (_load(path).__doc__ or "").strip().splitlines()
        found[path.stem] = first_line[0] if first_line else ""
    return found


def run_benchmark(name: str, *, quick: bool = False) -> dict[str, float | None]:
    """The figures of one benchmark; None marks a figure that could not be measured (service down)."""
    figures: dict[str, float | None] = _load(bench_dir() / f"{name}.py").run(quick=quick)
    return figures
