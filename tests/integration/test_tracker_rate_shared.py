"""One tracker rate per install, shared by every process through DATA_DIR (issue 9, case 10).

The first tests run real processes against a loopback server that notes arrival times;
the others drive two limiters on one folder (as two processes would) on a fake clock.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import sessionmaker

from mamcrawler.adapters.mam import (
    MamClient,
    MemorySessionStore,
    SearchQuery,
    SharedRateLimiter,
    TrackerRateLimited,
    TrackerUnavailable,
)
from mamcrawler.runtime import live_tracker
from mamcrawler.services.tracker import install_limiter, make_client
from tests.support.rate_probe import DEADLINE_S, Arrivals

# Arrival times carry send delays; the slots themselves are checked exactly.
JITTER_S = 0.08


@pytest.mark.parametrize(("short", "long"), [(0.5, 0.5), (0.2, 0.6)])
def test_two_processes_share_one_spacing(tmp_path: Path, arrivals: Arrivals, rate_workers,
                                         short: float, long: float) -> None:
    go = tmp_path / "go"
    data = tmp_path / "data"
    a = rate_workers(data, arrivals.base_url, "a", interval=short, count=4, go_file=go)
    a.expect("ready")
    b = rate_workers(data, arrivals.base_url, "b", interval=long, count=4)
    arrivals.wait_for(1, "b-")
    go.touch()  # `a` starts while `b` is busy: alone, it would send its first one at once
    slots = sorted(a.slots() + b.slots())

    # The shorter interval never shortens the gap the longer one asked for.
    assert len(slots) == 8
    assert all(y - x >= long - 1e-6 for x, y in pairwise(slots)), slots
    # Arrivals carry the sending delay, which a loaded machine stretches for one request
    # and not the next: over the whole run they keep the spacing, and no two come
    # back to back.
    times = sorted(arrivals.times())
    assert len(times) == 8
    assert times[-1] - times[0] >= 7 * long - JITTER_S, (times, arrivals.texts())
    assert all(y - x >= long / 2 for x, y in pairwise(times)), (times, arrivals.texts())


def test_a_killed_holder_does_not_block_the_other_process(
        tmp_path: Path, arrivals: Arrivals, rate_workers) -> None:
    data = tmp_path / "data"
    holder = rate_workers(data, arrivals.base_url, "hang", interval=0.5)
    arrivals.wait_for(1, "hang")  # its request is out and unanswered: it holds the lock
    assert _is_locked(data / "tracker-request.lock")
    waiter = rate_workers(data, arrivals.base_url, "after", interval=0.5)
    waiter.expect("ready")

    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(timeout=DEADLINE_S)
    killed_at = time.monotonic()
    assert len(waiter.slots()) == 1
    assert arrivals.times("after")[0] >= killed_at


def test_a_killed_holder_of_the_rate_file_does_not_block(tmp_path: Path) -> None:
    limiter = SharedRateLimiter(tmp_path, "tracker", 0.0)
    limiter.acquire()  # creates the file
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, signal, sys\n"
         "fd = os.open(sys.argv[1], os.O_RDWR)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('held', flush=True)\n"
         "signal.pause()\n", str(limiter.state_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert _is_locked(limiter.state_path)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (limiter.acquire(), done.set()), daemon=True)
        thread.start()
        holder.kill()
        assert done.wait(DEADLINE_S), "the dead holder's lock still blocks"
    finally:
        holder.kill()
        holder.wait(timeout=DEADLINE_S)


def test_a_stopped_holder_makes_the_waiter_give_up_without_sending(tmp_path: Path) -> None:
    limiter = SharedRateLimiter(tmp_path, "tracker", 0.0, lock_grace_s=0.2)
    sent: list[httpx.Request] = []
    fd = os.open(limiter.lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a holder that never lets go
    try:
        with MamClient("http://127.0.0.1:1", "x", MemorySessionStore(), limiter=limiter,
                       max_attempts=1, transport=httpx.MockTransport(sent.append)) as client, \
                pytest.raises(TrackerUnavailable, match="held the tracker request lock"):
            client.search(SearchQuery())
    finally:
        os.close(fd)
    assert sent == []


class FakeWallClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def two_processes(folder: Path, clock: FakeWallClock, first: float, second: float):
    return (SharedRateLimiter(folder, "tracker", first, clock=clock.clock, sleep=clock.sleep),
            SharedRateLimiter(folder, "tracker", second, clock=clock.clock, sleep=clock.sleep))


def test_the_longest_interval_asked_for_sets_the_gap(tmp_path: Path) -> None:
    clock = FakeWallClock()
    short, long = two_processes(tmp_path, clock, 0.5, 5.0)
    start = clock.now
    slots = [short.acquire(), long.acquire(), short.acquire(), short.acquire()]
    assert [s - start for s in slots] == [0.0, 5.0, 10.0, 15.0]

    clock.now += 3601  # the long interval's claim lapses an hour after its last use
    assert short.acquire() + 0.5 == short.acquire()


def test_a_server_back_off_holds_every_process(tmp_path: Path) -> None:
    clock = FakeWallClock()
    one, other = two_processes(tmp_path, clock, 1.0, 1.0)
    one.acquire()
    one.hold_off(120)
    assert other.acquire() == pytest.approx(clock.now) and clock.sleeps == [120.0]


def test_a_429_from_one_process_holds_the_other(tmp_path: Path) -> None:
    clock = FakeWallClock()
    one, other = two_processes(tmp_path, clock, 0.0, 0.0)
    answers = iter([httpx.Response(429, headers={"retry-after": "90"}, text="slow down"),
                    httpx.Response(200, json={"error": "Nothing returned, out of 0"})])

    def client(limiter: SharedRateLimiter) -> MamClient:
        return MamClient("http://127.0.0.1:1", "x", MemorySessionStore(), limiter=limiter,
                         max_attempts=1, transport=httpx.MockTransport(lambda _: next(answers)))

    with client(one) as first, pytest.raises(TrackerRateLimited):
        first.search(SearchQuery())
    with client(other) as second:
        assert second.search(SearchQuery()) == []
    assert clock.sleeps == [90.0]


def test_a_clock_stepped_back_does_not_stall_the_limiter(tmp_path: Path) -> None:
    clock = FakeWallClock()
    limiter, _ = two_processes(tmp_path, clock, 2.0, 2.0)
    limiter.acquire()
    clock.now -= 6 * 3600  # NTP or a person set the clock back six hours
    limiter.acquire()
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize("content", ["{not json", json.dumps({"last_slot": 1e18}), "[]"])
def test_a_damaged_rate_file_costs_one_interval(tmp_path: Path, content: str) -> None:
    clock = FakeWallClock()
    limiter, _ = two_processes(tmp_path, clock, 2.0, 2.0)
    limiter.state_path.write_text(content)
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == [2.0, 2.0]


def test_absurd_future_times_are_not_waited_for(tmp_path: Path) -> None:
    clock = FakeWallClock()
    limiter, _ = two_processes(tmp_path, clock, 2.0, 2.0)
    limiter.state_path.write_text(json.dumps({"last_slot": clock.now + 10 * 86400,
                                              "hold_until": clock.now + 10 * 86400,
                                              "claims": [[2.0, clock.now]],
                                              "written_at": clock.now}))
    limiter.acquire()
    assert clock.sleeps == [2.0]


def test_the_live_tracker_shares_its_rate_through_data_dir(make_settings) -> None:
    settings = make_settings(mam_id="x", mam_min_interval_s=3.0)
    endpoint = live_tracker(settings)
    assert endpoint is not None and endpoint.shared_dir == settings.data_dir
    with make_client(endpoint, sessionmaker()) as client:
        limiter = client._transport._limiter
    assert limiter is install_limiter(settings.data_dir)
    assert limiter.state_path == settings.data_dir.resolve() / "tracker-rate.json"


def _is_locked(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
