"""The first hour of a new user (issue 15): how long the demo-mode commands a person types
first take as real processes, and how soon `serve` answers.

Baseline, measured in the same run: `mamcrawler --help`, i.e. starting Python and loading
the command line, which every command pays. `want`, `status` and `jobs list` only open the
database (no tracker simulator, no demo world): target under 2 s each. `serve` is timed to
its first /health answer (the demo world still `starting`) and to the world being ready.

Usage: env BENCH_REPS (runs per command, default 5).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.timing import median_seconds, report

REPS = int(os.environ.get("BENCH_REPS", "5"))
SRC = Path(__file__).resolve().parents[1] / "src"


def _env(data_dir: Path, **more: str) -> dict[str, str]:
    from mamcrawler.config import Settings

    names = {n.upper() for n in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(DATA_DIR=str(data_dir), COLUMNS="80", PYTHONPATH=str(SRC), **more)
    return env


def _command(env: dict[str, str], *args: str):
    def run() -> None:
        subprocess.run([sys.executable, "-m", "mamcrawler.cli", *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(data_dir: Path) -> tuple[float, float]:
    """Seconds from starting `serve` to its first /health answer, and to the world ready."""
    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mamcrawler.cli", "serve", "--port", str(port)],
                            env=_env(data_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = ready = None
    try:
        deadline = time.monotonic() + 180
        while ready is None and time.monotonic() < deadline:
            try:
                world = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["data"]
            except httpx.HTTPError:
                time.sleep(0.02)
                continue
            first = first or time.perf_counter() - start
            if world["demo_world"] != "starting":
                ready = time.perf_counter() - start
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    if first is None or ready is None:
        raise RuntimeError("serve did not answer in time")
    return first, ready


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = _env(data)
        _command(env, "db", "upgrade")()
        rows = [("mamcrawler --help", median_seconds(_command(env, "--help"), repeat=REPS)),
                ("want (demo)", median_seconds(_command(env, "want", "The Tinker's Eclipse",
                                                        "--author", "Marisol Quayle"),
                                               repeat=REPS)),
                ("status (demo)", median_seconds(_command(env, "status"), repeat=REPS)),
                ("jobs list (demo)", median_seconds(_command(env, "jobs", "list"),
                                                    repeat=REPS))]
        first, ready = _serve(Path(tmp) / "serve")
        rows += [("serve: first /health", first), ("serve: demo world ready", ready)]
        print(f"  demo mode, {REPS} runs each (median); serve once, from an empty DATA_DIR")
        report(rows, baseline="mamcrawler --help")


if __name__ == "__main__":
    main()
