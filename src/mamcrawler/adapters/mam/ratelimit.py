"""A minimum interval between requests to one site, and the timeline it is kept on.

:class:`MinIntervalLimiter` is shared by every job in one process: jobs run in worker
threads and may each build their own client; they all draw from the same limiter for a
base URL (see :func:`shared_limiter`). The tracker goes further and shares one timeline
between every process of an install (:mod:`mamcrawler.adapters.mam.shared_rate`).

Callers may ask for different intervals. The gap before a slot is the largest interval
asked for recently by anyone, so a caller configured with a shorter interval never
shortens the gap another one needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Protocol

DEFAULT_MIN_INTERVAL_S = 2.0
# An interval someone asked for stays in force this long after its last slot, so a
# process between two runs of its jobs still keeps its gap against the others.
CLAIM_TTL_S = 3600.0


@dataclass(frozen=True)
class Timeline:
    """The last slot taken, the server's back-off, and the intervals asked for recently.

    `claims` holds (interval, time of the last slot taken with it) pairs. Pure values: the
    limiters keep one in memory or in a file and replace it under their lock.
    """

    last_slot: float | None = None
    hold_until: float = float("-inf")
    claims: tuple[tuple[float, float], ...] = ()

    def gap(self, now: float, interval: float, claim_ttl_s: float = CLAIM_TTL_S) -> float:
        """The spacing the next slot needs: `interval` or a longer one still claimed."""
        live = [i for i, seen in self.claims if seen >= now - claim_ttl_s]
        return max([interval, *live])

    def reserve(self, now: float, interval: float,
                claim_ttl_s: float = CLAIM_TTL_S) -> Timeline:
        """The timeline after taking the next free slot (its `last_slot`) at `now`."""
        slot = max(now, self.hold_until)
        if self.last_slot is not None:
            slot = max(slot, self.last_slot + self.gap(now, interval, claim_ttl_s))
        claims = {i: seen for i, seen in self.claims if seen >= now - claim_ttl_s}
        claims[interval] = slot
        return replace(self, last_slot=slot, claims=tuple(sorted(claims.items())))

    def held(self, now: float, seconds: float) -> Timeline:
        """The timeline after the server asked for no request within `seconds` of `now`."""
        return replace(self, hold_until=max(self.hold_until, now + seconds))


class RequestLimiter(Protocol):
    """What a client needs from a limiter (in-process or shared between processes)."""

    min_interval_s: float
    sleep: Callable[[float], None]

    @property
    def exclusive(self) -> AbstractContextManager[object]: ...

    def acquire(self, min_interval_s: float | None = None) -> float: ...

    def hold_off(self, seconds: float) -> None: ...


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
        claim_ttl_s: float = CLAIM_TTL_S,
    ) -> None:
        if min_interval_s < 0:
            raise ValueError("min_interval_s must be >= 0")
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sleep = sleep
        self.claim_ttl_s = claim_ttl_s
        self._lock = threading.Lock()
        # Held around a whole request (not just its start) so a rotated cookie is saved
        # before the next request reads it.
        self.exclusive = threading.RLock()
        self._timeline = Timeline()

    def acquire(self, min_interval_s: float | None = None) -> float:
        """Wait until a request may start; returns the (clock) time of the slot taken.

        `min_interval_s` overrides the limiter's interval for this caller, so clients
        configured differently still share one timeline; a shorter one never shortens
        the gap a longer one asked for within the last `claim_ttl_s`.
        """
        interval = self.min_interval_s if min_interval_s is None else min_interval_s
        with self._lock:
            now = self.clock()
            self._timeline = self._timeline.reserve(now, interval, self.claim_ttl_s)
            slot = self._timeline.last_slot
        assert slot is not None
        delay = slot - now
        if delay > 0:
            self.sleep(delay)
        return slot

    def hold_off(self, seconds: float) -> None:
        """No slot starts within `seconds` from now (the server asked us to back off)."""
        with self._lock:
            self._timeline = self._timeline.held(self.clock(), seconds)


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
