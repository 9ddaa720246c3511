"""One torrent-watch cycle over N torrents in a real qbittorrent-nox: full vs incremental poll.

Full poll: torrents/info + transfer/info, every torrent converted to a snapshot.
Incremental poll: sync/maindata with the previous rid after a few changes (tags on K
torrents), only the changed torrents converted. Both run in this process against the same
qBittorrent, interleaved, and the medians are compared.

Usage: bench_qbittorrent_poll.py [N] [REPS]   (or env BENCH_N, BENCH_REPS; defaults 2000, 15)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.qbittorrent import QbitProcess, torrent_bytes, wait_until  # noqa: E402

from mamcrawler.adapters.qbittorrent import QbitClient  # noqa: E402
from mamcrawler.domain.torrents import ClientSnapshot  # noqa: E402

BATCH = 250  # torrents per add request; qBittorrent takes many files in one multipart POST
CHANGED_PER_CYCLE = 5


def arg(position: int, env: str, default: int) -> int:
    if len(sys.argv) > position:
        return int(sys.argv[position])
    return int(os.environ.get(env, default))


def add_many(proc: QbitProcess, count: int) -> list[str]:
    """Add ``count`` generated tiny torrents, paused, in batches; return their hashes."""
    api = proc.api()
    hashes: list[str] = []
    for start in range(0, count, BATCH):
        files = {}
        for i in range(start, min(start + BATCH, count)):
            data, info_hash = torrent_bytes(f"bench-{i:05d}", {"a.bin": os.urandom(1024)})
            files[f"bench-{i:05d}.torrent"] = data
            hashes.append(info_hash)
        api.torrents_add(torrent_files=files, is_paused=True, category="bench")
    wait_until(
        lambda: len(api.torrents_info(category="bench")) == count,
        timeout_s=300,
        what=f"{count} torrents listed",
        every_s=0.5,
    )
    return hashes


def timed(poll: Callable[[], ClientSnapshot]) -> tuple[float, ClientSnapshot]:
    start = time.perf_counter()
    snapshot = poll()
    return time.perf_counter() - start, snapshot


def measure(proc: QbitProcess, client: QbitClient, hashes: list[str], reps: int) -> dict:
    api = proc.api()
    client.poll()  # the first incremental poll is a full update; the cycle starts after it
    full_s, incr_s, idle_s, changed = [], [], [], []
    for rep in range(reps):
        seconds, snapshot = timed(client.full_poll)
        full_s.append(seconds)
        assert len(snapshot.torrents) == len(hashes)
        picked = [hashes[(rep * CHANGED_PER_CYCLE + j) % len(hashes)] for j in range(5)]
        api.torrents_add_tags(tags=f"cycle{rep}", torrent_hashes=picked)
        seconds, snapshot = timed(client.poll)
        incr_s.append(seconds)
        assert not snapshot.full_update and len(snapshot.torrents) == len(hashes)
        changed.append(len(snapshot.changed))
        seconds, _ = timed(client.poll)
        idle_s.append(seconds)
    return {"full": full_s, "incremental": incr_s, "idle": idle_s, "changed": changed}


def payload_sizes(proc: QbitProcess) -> dict[str, int]:
    """Response sizes in bytes: what each cycle moves over the wire."""
    session = requests.Session()  # the test instance lets 127.0.0.1 in without a login

    def size(path: str, **params: int) -> tuple[int, dict]:
        response = session.get(f"{proc.url}/api/v2/{path}", params=params, timeout=120)
        response.raise_for_status()
        return len(response.content), response.json()

    full, _ = size("torrents/info")
    first, data = size("sync/maindata", rid=0)
    idle, _ = size("sync/maindata", rid=data["rid"])
    return {"torrents/info": full, "sync/maindata rid=0": first, "sync/maindata idle": idle}


def report(n: int, reps: int, setup_s: float, results: dict) -> None:
    full = statistics.median(results["full"])
    incr = statistics.median(results["incremental"])
    idle = statistics.median(results["idle"])
    print(f"\nqBittorrent poll benchmark: N={n} torrents, {reps} repetitions "
          f"(set-up {setup_s:.1f} s)")  # fmt: skip
    print(f"{'cycle':<48} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    rows = [
        ("full poll (torrents/info + transfer)", results["full"]),
        (f"incremental, {CHANGED_PER_CYCLE} changed (sync/maindata rid)", results["incremental"]),
        ("incremental, nothing changed", results["idle"]),
    ]
    for label, values in rows:
        print(f"{label:<48} {statistics.median(values) * 1000:>10.1f} "
              f"{min(values) * 1000:>8.1f} {max(values) * 1000:>8.1f}")  # fmt: skip
    print(f"changed torrents seen per incremental poll: {sorted(set(results['changed']))}")
    print(f"ratio full / incremental: {full / incr:.1f}x   (full / idle: {full / idle:.1f}x)")
    sizes = ", ".join(f"{name} {size:,} B" for name, size in results["payload"].items())
    print(f"payload: {sizes}")


def main() -> None:
    n, reps = arg(1, "BENCH_N", 2000), arg(2, "BENCH_REPS", 15)
    with tempfile.TemporaryDirectory(prefix="bench-qbit-") as tmp:
        proc = QbitProcess(Path(tmp)).start()
        try:
            started = time.perf_counter()
            hashes = add_many(proc, n)
            setup_s = time.perf_counter() - started
            results = measure(proc, proc.client(timeout_s=120), hashes, reps)
            results["payload"] = payload_sizes(proc)
        finally:
            proc.stop()
    report(n, reps, setup_s, results)


if __name__ == "__main__":
    main()
