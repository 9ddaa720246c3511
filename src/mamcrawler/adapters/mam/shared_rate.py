"""One tracker rate limit per install, shared by every process (`serve`, `jobs run`, …).

Two small files in the install's data folder hold it:

- ``<name>-rate.json``: the :class:`~mamcrawler.adapters.mam.ratelimit.Timeline` (last
  slot, the server's back-off, the intervals asked for recently), read and replaced under
  an ``flock`` held only for that read-modify-write;
- ``<name>-request.lock``: ``flock``-ed around a whole request, so requests from all
  processes go out one at a time and a rotated session cookie is saved before anyone
  sends the next one.

The kernel drops an ``flock`` when its process dies, so a killed holder never blocks the
others. A holder that is alive but stopped (Ctrl-Z) past its reserved slot plus a grace
makes the waiters give up with :class:`LimiterLockTimeout` rather than hang. Times are
wall-clock seconds (comparable between processes and across reboots); a clock stepped
backwards is detected from the time the file was written and the timeline shifted with it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mamcrawler.adapters.mam.ratelimit import CLAIM_TTL_S, DEFAULT_MIN_INTERVAL_S, Timeline

log = logging.getLogger(__name__)

# Nothing legitimate is reserved further ahead (intervals are at most an hour, the
# server's back-off is capped by the client); larger values are a corrupt file.
MAX_AHEAD_S = 2 * 3600.0
# How long a request may hold the request lock past its reserved slot (HTTP timeouts
# included) before waiters call the holder stuck.
LOCK_GRACE_S = 300.0
# The state lock is held for microseconds; a holder keeping it this long is stopped.
STATE_LOCK_TIMEOUT_S = 30.0
POLL_S = 0.02


class LimiterLockTimeout(TimeoutError):
    """Another process holds a tracker rate-limit lock and does not let go."""


class SharedRateLimiter:
    """A :class:`~mamcrawler.adapters.mam.ratelimit.MinIntervalLimiter` whose timeline
    lives in `directory`, so every process using that folder shares one rate.

    `clock` (wall seconds) and `sleep` are injectable for tests; polling for a lock always
    waits in real time.
    """

    def __init__(
        self,
        directory: Path | str,
        name: str = "tracker",
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        claim_ttl_s: float = CLAIM_TTL_S,
        lock_grace_s: float = LOCK_GRACE_S,
        poll_s: float = POLL_S,
    ) -> None:
        if min_interval_s < 0:
            raise ValueError("min_interval_s must be >= 0")
        self.directory = Path(directory)
        self.state_path = self.directory / f"{name}-rate.json"
        self.lock_path = self.directory / f"{name}-request.lock"
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sleep = sleep
        self.claim_ttl_s = claim_ttl_s
        self.lock_grace_s = lock_grace_s
        self.poll_s = poll_s
        self.exclusive = _RequestLock(self)

    def __repr__(self) -> str:
        return f"SharedRateLimiter({str(self.state_path)!r})"

    def acquire(self, min_interval_s: float | None = None) -> float:
        """Wait until a request may start; returns the (wall) time of the slot taken."""
        interval = self.min_interval_s if min_interval_s is None else min_interval_s
        timeline, now = self._update(
            lambda t, now: t.reserve(now, interval, self.claim_ttl_s))
        slot = timeline.last_slot if timeline.last_slot is not None else now
        if slot > now:
            self.sleep(slot - now)
        return slot

    def hold_off(self, seconds: float) -> None:
        """No process starts a request within `seconds` from now (the server's back-off)."""
        self._update(lambda t, now: t.held(now, seconds))

    def timeline(self) -> Timeline:
        """The shared timeline as it stands (for waiters and diagnostics)."""
        return self._update(None)[0]

    def _update(self, change: Callable[[Timeline, float], Timeline] | None
                ) -> tuple[Timeline, float]:
        fd = _open(self.state_path)
        try:
            limit = self.clock() + STATE_LOCK_TIMEOUT_S
            _lock(fd, lambda: limit, self.clock, self.poll_s,
                  lambda: f"the tracker rate file {self.state_path} is locked by a process "
                          "that does not let go")
            now = self.clock()
            timeline = _load(fd, self.state_path, now)
            if change is not None:
                timeline = change(timeline, now)
                _write(fd, timeline, now)
            return timeline, now
        finally:
            os.close(fd)  # releases the flock

    def _busy_until(self) -> float:
        """Until when a holder of the request lock is behaving: its slot plus the grace."""
        timeline = self.timeline()
        return max(timeline.last_slot or float("-inf"), timeline.hold_until) + self.lock_grace_s


class _RequestLock:
    """Held around a whole tracker request; re-entrant within a thread.

    Every entry opens its own file description, so the flock excludes other threads of
    this process as well as other processes.
    """

    def __init__(self, limiter: SharedRateLimiter) -> None:
        self._limiter = limiter
        self._local = threading.local()

    def __enter__(self) -> _RequestLock:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.fd = self._take()
        self._local.depth = depth + 1
        return self

    def __exit__(self, *_exc: object) -> None:
        self._local.depth -= 1
        if self._local.depth == 0:
            os.close(self._local.fd)  # releases the flock

    def _take(self) -> int:
        limiter = self._limiter
        fd = _open(limiter.lock_path)
        deadline = [limiter.clock() + limiter.lock_grace_s]

        def extend() -> float:
            # A holder that reserved a later slot (or met a back-off) is still on time.
            deadline[0] = max(deadline[0], limiter._busy_until())
            return deadline[0]

        try:
            _lock(fd, extend, limiter.clock, limiter.poll_s,
                  lambda: f"another MAMcrawler process ({_holder(limiter.lock_path)}) has "
                          "held the tracker request lock far past its turn; is it stopped "
                          "(Ctrl-Z)? Resume or end it")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
            return fd
        except BaseException:
            os.close(fd)
            raise


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def _lock(fd: int, deadline: Callable[[], float], clock: Callable[[], float], poll_s: float,
          stuck: Callable[[], str]) -> None:
    """flock `fd`, polling; raises LimiterLockTimeout once `deadline()` has passed.

    `deadline` is asked only when the lock is taken, and again when it has passed, so a
    holder that is still on time can move it.
    """
    limit: float | None = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if limit is None or clock() >= limit:
            limit = deadline()
            if clock() >= limit:
                raise LimiterLockTimeout(stuck())
        time.sleep(poll_s)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "pid unknown"
    except OSError:
        return "pid unknown"


def _load(fd: int, path: Path, now: float) -> Timeline:
    """The stored timeline made safe to use at `now`.

    A new file is an empty timeline; a corrupt one costs one interval of waiting. A
    clock stepped backwards since the write moves the timeline back with it, and values
    further ahead than anything legitimate are pulled back to `now`.
    """
    data = os.pread(fd, 65536, 0)
    if not data.strip():
        return Timeline()
    try:
        raw = json.loads(data)
        written_at = float(raw["written_at"])
        last, hold = raw["last_slot"], raw["hold_until"]
        timeline = Timeline(None if last is None else float(last),
                            float("-inf") if hold is None else float(hold),
                            tuple((float(i), float(t)) for i, t in raw["claims"]))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("the tracker rate file %s is unreadable (%s); waiting one interval",
                    path, exc)
        return Timeline(last_slot=now)
    shift = min(0.0, now - written_at)
    limit = now + MAX_AHEAD_S

    def settle(value: float) -> float:
        value += shift
        return now if value > limit else value

    return Timeline(None if timeline.last_slot is None else settle(timeline.last_slot),
                    settle(timeline.hold_until),
                    tuple((i, settle(t)) for i, t in timeline.claims))


def _write(fd: int, timeline: Timeline, now: float) -> None:
    hold = timeline.hold_until if timeline.hold_until != float("-inf") else None
    data = json.dumps({"last_slot": timeline.last_slot, "hold_until": hold,
                       "claims": [list(c) for c in timeline.claims],
                       "written_at": now}).encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
