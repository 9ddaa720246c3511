"""The API of a real `serve` under load: 20 concurrent clients read `/api/books` (10,000 books)
and `/health` while `mamcrawler scan` files a library into the same database and the `backup`
job runs again and again inside the service.

Baseline: `/health` alone - one client, nothing else running - in the same run; p50 rows are
shown against its p50, p99 rows against its p99. Loopback only; every loop is bounded in
count and time, and every process started here is stopped here.

Usage: env BENCH_BOOKS (default 10000), BENCH_CLIENTS (20), BENCH_REQUESTS (per client,
default 40, half of them /health), BENCH_SCAN_BOOKS (library scanned meanwhile, 4000).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.library_gen import generate_library, make_templates  # noqa: E402
from tests.support.processes import CLI, cli_env, wait_for  # noqa: E402
from tests.support.service import free_port  # noqa: E402

from benchmarks.timing import report  # noqa: E402

BOOKS = int(os.environ.get("BENCH_BOOKS", "10000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "40"))
SCAN_BOOKS = int(os.environ.get("BENCH_SCAN_BOOKS", "4000"))
KEY = "bench-key-0123456789"
LOAD_DEADLINE_S = 180  # the load phase stops here whatever is left
BASELINE = "/health alone"


def fill(url: str) -> None:
    from mamcrawler.services import library
    from mamcrawler.store import migrate
    from mamcrawler.store.db import make_engine, make_session_factory, session_scope

    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        for i in range(BOOKS):
            library.create_book(session, {
                "title": f"Book {i}", "authors": [f"Author {i % 1000}"],
                "narrators": [f"Narrator {i % 400}"],
                "series": [{"name": f"Series {i % 2000}", "position": str(i // 2000 + 1)}]})
    engine.dispose()


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def one_client(base: str, path: str, count: int = 200) -> list[float]:
    """Latencies of `count` requests one after another, nothing else running."""
    rng = random.Random(1)
    with httpx.Client(base_url=base, headers={"X-Api-Key": KEY}, timeout=30) as client:
        return [_timed(client, path, **_params(path, rng)) for _ in range(count)]


def _params(path: str, rng: random.Random) -> dict:
    """A random page of 50 for /api/books; nothing for /health."""
    if path != "/api/books":
        return {}
    return {"limit": 50, "offset": rng.randrange(0, max(1, BOOKS - 50))}


def _timed(client: httpx.Client, path: str, **params) -> float:
    began = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, (path, response.status_code, response.text[:200])
    return elapsed


def clients_under_load(base: str) -> dict[str, list[float]]:
    """CLIENTS threads, each REQUESTS requests alternating a random /api/books page (50) and
    /health; latencies by path."""
    samples: dict[str, list[float]] = {"/api/books": [], "/health": []}
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_DEADLINE_S

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers={"X-Api-Key": KEY}, timeout=60) as client:
            for n in range(REQUESTS):
                if time.monotonic() > deadline:
                    return
                path = "/health" if n % 2 else "/api/books"
                took = _timed(client, path, **_params(path, rng))
                with lock:
                    samples[path].append(took)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_DEADLINE_S + 60)
    return samples


class BackupLoop(threading.Thread):
    """Runs the `backup` job in the service, one run after another, until stopped."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.runs, self.stop = base, 0, threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers={"X-Api-Key": KEY}, timeout=60) as api:
            while not self.stop.is_set() and self.runs < 200:
                before = self._latest(api)[0]
                assert api.post("/api/scheduler/jobs/backup/run").status_code == 202
                wait_for(lambda b=before: self.stop.is_set() or self._finished_after(api, b),
                         timeout=120, what="the backup run", every=0.1)
                self.runs += 1

    def _latest(self, api: httpx.Client) -> tuple[int, dict | None]:
        page = api.get("/api/scheduler/runs", params={"job": "backup", "limit": 1}).json()
        items = page["data"]["items"]
        return page["data"]["total"], items[0] if items else None

    def _finished_after(self, api: httpx.Client, before: int) -> bool:
        total, newest = self._latest(api)
        if total > before and newest["finished_at"]:
            assert newest["outcome"] == "success", newest
            return True
        return False


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-api-load-") as name:
        tmp = Path(name)
        url = f"sqlite:///{tmp / 'data' / 'mamcrawler.db'}"
        began = time.perf_counter()
        fill(url)
        library = generate_library(tmp / "library", SCAN_BOOKS, make_templates(tmp / "tpl"))
        print(f"  {BOOKS} books and a library of {SCAN_BOOKS} to scan made in "
              f"{time.perf_counter() - began:.0f} s")
        env = cli_env(data_dir=tmp / "data", database_url=url, demo="false", api_key=KEY,
                      log_level="WARNING")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with (tmp / "serve.log").open("w") as log:
            serve = subprocess.Popen([*CLI, "serve", "--port", str(port)], cwd=tmp, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        scan = None
        try:
            wait_for(lambda: _answers(base), timeout=60, what="serve to answer")
            alone = one_client(base, "/health")
            books_alone = one_client(base, "/api/books")
            scan = subprocess.Popen([*CLI, "scan", str(library.root)], cwd=tmp, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            backups = BackupLoop(base)
            backups.start()
            load_began = time.perf_counter()
            loaded = clients_under_load(base)
            load_s = time.perf_counter() - load_began
            scanning = scan.poll() is None
            backups.stop.set()
            backups.join(120)
        finally:
            for proc in (scan, serve):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(30)
        print(f"  {CLIENTS} clients x {REQUESTS} requests in {load_s:.1f} s; backup job ran "
              f"{backups.runs} times; the scan was "
              f"{'still running' if scanning else 'done'} at the end")
        rows = {BASELINE: percentiles(alone), "/api/books alone": percentiles(books_alone),
                f"/health, {CLIENTS} clients + scan + job": percentiles(loaded["/health"]),
                f"/api/books, {CLIENTS} clients + scan + job": percentiles(loaded["/api/books"])}
        for index, label in ((0, "p50"), (1, "p99")):
            print(f"  {label}")
            report([(name, values[index]) for name, values in rows.items()], BASELINE)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
