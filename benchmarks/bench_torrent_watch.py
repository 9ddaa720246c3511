"""One whole torrent_watch cycle over N torrents in a real qbittorrent-nox: full vs incremental.

A cycle is what the scheduled job does: poll qBittorrent, read the account from the tracker
(the simulator, in this process, over loopback HTTP), update the `torrents` table, step and
store the ratio guard. The full-poll cycle lists every torrent afresh and rewrites every
row; the incremental cycle asks sync/maindata for what changed since its rid and writes only
that. Between cycles K torrents change (a new tag each), interleaved so both variants see the
same qBittorrent. The database is a fresh SQLite file (set BENCH_DATABASE_URL for another).

Usage: env BENCH_N (default 2000), BENCH_REPS (default 9).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.qbittorrent import QbitProcess  # noqa: E402
from tests.support.tracker_sim import start_tracker_sim  # noqa: E402

from benchmarks.bench_qbittorrent_poll import add_many  # noqa: E402
from benchmarks.timing import median_seconds, report  # noqa: E402
from mamcrawler.adapters.qbittorrent import QbitClient  # noqa: E402
from mamcrawler.config import load_settings  # noqa: E402
from mamcrawler.domain.torrents import ClientSnapshot  # noqa: E402
from mamcrawler.jobs.context import JobContext  # noqa: E402
from mamcrawler.services import torrent_watch  # noqa: E402
from mamcrawler.services.tracker import TrackerEndpoint  # noqa: E402
from mamcrawler.store import migrate  # noqa: E402
from mamcrawler.store.db import make_engine, make_session_factory  # noqa: E402

CHANGED_PER_CYCLE = 5
CATEGORY = "bench"  # add_many puts the generated torrents there


class TimedClient(QbitClient):
    """The watch's incremental client, timing each poll so the cycle can be split."""

    poll_seconds: list[float]

    def poll(self) -> ClientSnapshot:
        began = time.perf_counter()
        try:
            return self._poll()
        finally:
            self.poll_seconds.append(time.perf_counter() - began)

    def _poll(self) -> ClientSnapshot:
        return super().poll()


class FullPollClient(TimedClient):
    """Every poll a full listing (torrents/info + transfer/info), as without sync/maindata."""

    def _poll(self) -> ClientSnapshot:
        return self.full_poll()


def contexts(proc: QbitProcess, tmp: Path, tracker: TrackerEndpoint):
    """Job contexts for both variants on one database; each with its own cached client."""
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    settings = load_settings(None, data_dir=tmp / "data", api_key="bench-api-key-0123456789",
                             demo=False, database_url=url, qb_host="127.0.0.1",
                             qb_port=proc.webui_port, qb_username=proc.username,
                             qb_password=proc.password, qb_category=CATEGORY)
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    made = {}
    for name, kind in (("full", FullPollClient), ("incremental", TimedClient)):
        ctx = JobContext(settings=settings, sessions=sessions, tracker=tracker)
        client = kind("127.0.0.1", proc.webui_port, proc.username, proc.password, timeout_s=120)
        client.poll_seconds = []
        ctx.clients.get(torrent_watch.WATCH_CLIENT, lambda c=client: c)
        made[name] = ctx
    return made, engine


def polls(ctx: JobContext) -> list[float]:
    return ctx.clients.get(torrent_watch.WATCH_CLIENT, lambda: None).poll_seconds


def measure(proc: QbitProcess, ctxs: dict, hashes: list[str], reps: int) -> dict:
    api = proc.api()
    for ctx in ctxs.values():  # first cycles: rows inserted, the poller's first full update
        torrent_watch.run(ctx)
        polls(ctx).clear()
    samples: dict[str, list[float]] = {"full": [], "incremental": []}
    for rep in range(reps):
        for variant in ("full", "incremental"):
            start = (2 * rep + (variant == "incremental")) * CHANGED_PER_CYCLE
            picked = [hashes[(start + j) % len(hashes)] for j in range(CHANGED_PER_CYCLE)]
            api.torrents_add_tags(tags=f"{variant}{rep}", torrent_hashes=picked)
            began = time.perf_counter()
            summary = torrent_watch.run(ctxs[variant])
            samples[variant].append(time.perf_counter() - began)
            assert summary.startswith(f"{len(hashes)} torrent(s)"), summary
    poll_median = {k: statistics.median(polls(ctx)) for k, ctx in ctxs.items()}
    idle = median_seconds(lambda: torrent_watch.run(ctxs["incremental"]), repeat=reps)
    return {"full": statistics.median(samples["full"]),
            "incremental": statistics.median(samples["incremental"]), "idle": idle,
            "spread": {k: (min(v), max(v)) for k, v in samples.items()},
            "poll": poll_median}


def main() -> None:
    n = int(os.environ.get("BENCH_N", 2000))
    reps = int(os.environ.get("BENCH_REPS", 9))
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp_name:
        tmp = Path(tmp_name)
        proc = QbitProcess(tmp / "qbit").start()
        sim, stop_sim = start_tracker_sim()
        engine = None
        try:
            began = time.perf_counter()
            hashes = add_many(proc, n)
            setup_s = time.perf_counter() - began
            ctxs, engine = contexts(proc, tmp, TrackerEndpoint(sim.base_url, sim.mam_id, 0.0))
            results = measure(proc, ctxs, hashes, reps)
        finally:
            if engine is not None:
                engine.dispose()
            stop_sim()
            proc.stop()
    print(f"\ntorrent_watch cycle (poll + tracker read + store update + guard): N={n} torrents, "
          f"{reps} repetitions, {CHANGED_PER_CYCLE} changed per cycle (set-up {setup_s:.1f} s)")
    report([("full-poll cycle", results["full"]),
            (f"incremental cycle, {CHANGED_PER_CYCLE} changed", results["incremental"]),
            ("incremental cycle, nothing changed", results["idle"])], "full-poll cycle")
    for variant, (low, high) in results["spread"].items():
        cycle, poll = results[variant], results["poll"][variant]
        print(f"  {variant}: min {low * 1000:.1f} ms, max {high * 1000:.1f} ms; of the median "
              f"cycle, poll {poll * 1000:.1f} ms, the rest {(cycle - poll) * 1000:.1f} ms")
    print(f"ratio full / incremental: {results['full'] / results['incremental']:.1f}x")


if __name__ == "__main__":
    main()
