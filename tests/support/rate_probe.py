"""Tracker clients in other processes, and a loopback server that notes when requests arrive.

- ``arrivals``: a tiny HTTP server on 127.0.0.1 answering every tracker search with "no
  results" and recording (monotonic arrival time, search text); a search whose text starts
  with ``hang`` gets no answer until the test ends.
- ``rate_workers``: starts ``python -m tests.support.rate_probe`` processes (a MamClient
  with a SharedRateLimiter on a given folder); all are killed after the test.

Run as a module, this file is the worker: it prints ``ready``, waits for the go file, sends
its searches, then prints the slots its limiter gave it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 30.0


@dataclass
class Arrivals:
    base_url: str
    release: threading.Event
    seen: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        with self.lock:
            return [text for _, text in self.seen]

    def times(self, prefix: str = "") -> list[float]:
        with self.lock:
            return [t for t, text in self.seen if text.startswith(prefix)]

    def wait_for(self, count: int, prefix: str = "", deadline_s: float = DEADLINE_S) -> None:
        deadline = time.monotonic() + deadline_s
        while len(self.times(prefix)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} request(s) {prefix!r}… never arrived; "
                                     f"seen {self.texts()}")
            time.sleep(0.01)


@pytest.fixture
def arrivals() -> Iterator[Arrivals]:
    release = threading.Event()
    record: Arrivals | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            arrived = time.monotonic()
            query = parse_qs(urlsplit(self.path).query)
            text = next((v[0] for k, v in query.items() if k.endswith("[text]")), "")
            assert record is not None
            with record.lock:
                record.seen.append((arrived, text))
            if text.startswith("hang"):
                release.wait(DEADLINE_S)
            body = json.dumps({"error": "Nothing returned, out of 0"}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client was killed while waiting

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    record = Arrivals(f"http://127.0.0.1:{server.server_address[1]}", release)
    yield record
    release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    def expect(self, line: str, deadline_s: float = DEADLINE_S) -> None:
        """Reads stdout until `line`; fails when the worker ends first."""
        assert self.process.stdout is not None
        got = self.process.stdout.readline().strip()
        if got != line:
            _, err = self.process.communicate(timeout=deadline_s)
            raise AssertionError(f"worker said {got!r}, not {line!r}: {err}")

    def slots(self, deadline_s: float = DEADLINE_S) -> list[float]:
        out, err = self.process.communicate(timeout=deadline_s)
        assert self.process.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def rate_workers() -> Iterator:
    started: list[subprocess.Popen[str]] = []

    def start(shared_dir: Path, base_url: str, tag: str, *, interval: float, count: int = 1,
              go_file: Path | None = None) -> Worker:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
        args = [sys.executable, "-m", "tests.support.rate_probe", str(shared_dir), base_url,
                tag, str(interval), str(count)] + ([str(go_file)] if go_file else [])
        process = subprocess.Popen(args, cwd=ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(process)
        return Worker(process)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=DEADLINE_S)


def main() -> None:
    from mamcrawler.adapters.mam import MamClient, MemorySessionStore, SearchQuery
    from mamcrawler.adapters.mam.shared_rate import SharedRateLimiter

    parser = argparse.ArgumentParser()
    for name in ("shared_dir", "base_url", "tag", "interval", "count"):
        parser.add_argument(name)
    parser.add_argument("go_file", nargs="?")
    args = parser.parse_args()
    slots: list[float] = []

    class Recording(SharedRateLimiter):
        def acquire(self, min_interval_s: float | None = None) -> float:
            slot = super().acquire(min_interval_s)
            slots.append(slot)
            return slot

    limiter = Recording(args.shared_dir, "tracker", float(args.interval))
    print("ready", flush=True)
    if args.go_file:
        deadline = time.monotonic() + DEADLINE_S
        while not Path(args.go_file).exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go file")
            time.sleep(0.005)
    with MamClient(args.base_url, "probe", MemorySessionStore(), limiter=limiter,
                   min_interval_s=float(args.interval), max_attempts=1, timeout_s=60) as client:
        for n in range(int(args.count)):
            client.search(SearchQuery(text=f"{args.tag}-{n}"))
    print(json.dumps(slots), flush=True)


if __name__ == "__main__":
    main()
