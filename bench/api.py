"""GET /api/v1/districts requests/s and p99 with 50 clients, next to a bare FastAPI hello world.

Why: the district list is the most-hit public endpoint (every map and screen loads it), and the
issue's target is to stay within 2x of a bare FastAPI route. Both servers run in turn as
subprocesses under the same uvicorn settings (one worker, 127.0.0.1, a free port); the platform
is the real ``smartseoul serve`` on a temporary migrated and seeded SQLite database. The load
generator (``bench/_load.py``) is a raw asyncio keep-alive client so that it is not the bottleneck;
its CPU share and the server's are printed on stderr for each phase as evidence.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.progress import Progress

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
CLIENTS = 50
API_PATH = "/api/v1/districts"
HELLO_PATH = "/hello"
STARTUP_SECONDS = 60.0

err = Console(stderr=True, soft_wrap=True)


def _sibling(name: str) -> ModuleType:
    """Import ``bench/NAME.py``; bench/ is not a package (the runner loads files by path)."""
    spec = importlib.util.spec_from_file_location(f"smartseoul_bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_load = _sibling("_load")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: the sockets are held open together while the ports are
    chosen, so two picks can never land on the same port (one-at-a-time picks did, in CI)."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)
        ]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _free_port() -> int:
    return _free_ports(1)[0]


def _seed_database(url: str) -> None:
    """A migrated database with the reference city and the schools, as the test fixtures make it."""
    from sqlalchemy.orm import Session

    from smartseoul.city import service
    from smartseoul.core.db import make_engine
    from smartseoul.core.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            service.load_reference_data(session)
            service.seed_schools(session, 20151, service.CityIndex.from_session(session))
            session.commit()
    finally:
        engine.dispose()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process from /proc (Linux); None where that is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A running server subprocess. (A plain class: ``smartseoul.benchmarks`` loads this file
    without registering it in ``sys.modules``, which ``@dataclass`` needs with string annotations.)"""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.contextmanager
def serve(
    command: list[str], env: dict[str, str], probe: str, workdir: Path, port: int | None = None
) -> Iterator[Server]:
    """Start ``command`` (``{host}`` and ``{port}`` filled in) on a free port, wait until ``probe``
    answers 200, and always stop it, even when the measurement fails.

    The output goes to a file rather than a pipe (a full pipe would block the server) and is
    quoted in the error when the server does not come up.
    """
    port = port or _free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [part.format(host=HOST, port=port) for part in command],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(process, port, log)
    try:
        _wait_ready(server, probe)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(server: Server, probe: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    last_error = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with code {server.process.returncode} before answering:\n{server.log_tail()}"
            )
        connection = http.client.HTTPConnection(HOST, server.port, timeout=2.0)
        try:
            connection.request("GET", probe)
            response = connection.getresponse()
            body = response.read()
            if response.status == 200 and body:
                return
            last_error = f"HTTP {response.status}: {body[:200]!r}"
        except OSError as error:
            last_error = str(error)
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {STARTUP_SECONDS:.0f} s ({last_error}):\n{server.log_tail()}")


def _measure(label: str, server: Server, path: str, warmup: float, duration: float) -> Any:
    """Load one server; returns the load Result and prints who used how much CPU (on stderr)."""
    server_cpu_start = _cpu_seconds(server.process.pid)
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"{label}: {CLIENTS} clients", total=warmup + duration)
        started = time.perf_counter()
        result = _load.load(
            HOST,
            server.port,
            path,
            connections=CLIENTS,
            warmup=warmup,
            duration=duration,
            on_tick=lambda now: progress.update(task, completed=now - started),
        )
    server_cpu_end = _cpu_seconds(server.process.pid)
    server_share = ""
    if server_cpu_start is not None and server_cpu_end is not None:
        share = (server_cpu_end - server_cpu_start) / (time.perf_counter() - started)
        server_share = f", server CPU {share:.0%} (warm-up included)"
    err.print(
        f"{label}: {result.requests} requests in {result.seconds:.2f} s, "
        f"load client CPU {result.client_cpu_share:.0%}{server_share}",
        highlight=False,
    )
    return result


def run(quick: bool = False) -> dict[str, float]:
    """Measure the hello-world baseline, then the platform endpoint, one server at a time."""
    warmup, duration = (0.3, 1.5) if quick else (1.0, 5.0)
    workdir = Path(tempfile.mkdtemp(prefix="smartseoul-bench-api-"))
    try:
        database_url = f"sqlite:///{(workdir / 'bench.db').as_posix()}"
        with err.status("seeding a temporary database"):
            _seed_database(database_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSEOUL_")}
        env.update(
            SMARTSEOUL_DATA_DIR=str(workdir),
            SMARTSEOUL_DATABASE_URL=database_url,
            SMARTSEOUL_BUS_URL="memory://",
        )
        hello_command = [sys.executable, str(HERE / "_hello_app.py"), "{host}", "{port}"]
        # The real `smartseoul serve`, on this interpreter (no dependence on PATH).
        api_command = [sys.executable, "-m", "smartseoul.cli", "serve"]
        api_command += ["--host", "{host}", "--port", "{port}"]

        with serve(hello_command, env, HELLO_PATH, workdir) as server:
            hello = _measure("hello", server, HELLO_PATH, warmup, duration)
        with serve(api_command, env, API_PATH, workdir) as server:
            api = _measure("api", server, API_PATH, warmup, duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "api_rps": round(api.rps, 1),
        "api_p99_ms": round(api.percentile_ms(0.99), 2),
        "hello_rps": round(hello.rps, 1),
        "hello_p99_ms": round(hello.percentile_ms(0.99), 2),
        "ratio_hello_over_api_rps": round(hello.rps / api.rps, 3),
        "ratio_api_over_hello_p99": round(api.percentile_ms(0.99) / hello.percentile_ms(0.99), 3),
    }
