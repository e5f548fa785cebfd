"""Running the real `smartseoul` command in a subprocess, with a clean SMARTSEOUL_* environment."""

from __future__ import annotations

import os
import subprocess
import sys

CLI = [sys.executable, "-m", "smartseoul.cli"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
    full_env.update(env or {})
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120, check=False
    )
