"""A minimum interval between tracker requests, shared by every job in the process.

Jobs run in worker threads and may each build their own client; they all draw from the
same limiter for a base URL (see :func:`shared_limiter`), so the tracker sees at most one
request per interval from this process no matter how many jobs are running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_MIN_INTERVAL_S = 2.0


class MinIntervalLimiter:
    """Spaces request starts at least `min_interval_s` apart; thread-safe.

    Each caller reserves the next free slot under a lock and then sleeps until it, so
    waiting callers never hold the lock. `clock` and `sleep` are injectable so tests can
    run on a fake clock without real waiting.
    """

    def __init__(
        self,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval_s < 0:
            raise ValueError("min_interval_s must be >= 0")
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        # Held around a whole request (not just its start) so a rotated cookie is saved
        # before the next request reads it.
        self.exclusive = threading.RLock()
        self._last_slot: float | None = None
        self._hold_until = float("-inf")

    def acquire(self, min_interval_s: float | None = None) -> float:
        """Wait until a request may start; returns the (clock) time of the slot taken.

        `min_interval_s` overrides the limiter's interval for this caller, so clients
        configured differently still share one timeline.
        """
        interval = self.min_interval_s if min_interval_s is None else min_interval_s
        with self._lock:
            now = self.clock()
            slot = max(now, self._hold_until)
            if self._last_slot is not None:
                slot = max(slot, self._last_slot + interval)
            self._last_slot = slot
        delay = slot - now
        if delay > 0:
            self.sleep(delay)
        return slot

    def hold_off(self, seconds: float) -> None:
        """No slot starts within `seconds` from now (the server asked us to back off)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self.clock() + seconds)


_registry: dict[str, MinIntervalLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(
    base_url: str, min_interval_s: float = DEFAULT_MIN_INTERVAL_S
) -> MinIntervalLimiter:
    """The process-wide limiter for `base_url` (trailing slashes and case ignored).

    The interval given here only seeds a new limiter; clients pass their own interval to
    :meth:`MinIntervalLimiter.acquire`.
    """
    key = base_url.strip().rstrip("/").lower()
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = MinIntervalLimiter(min_interval_s)
        return limiter
