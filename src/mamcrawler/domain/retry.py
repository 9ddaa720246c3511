"""When a failed grab is tried again (R10): after 1 day, 3 days, 7 days, then never."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=7))


@dataclass(frozen=True)
class RetryDecision:
    retry_at: datetime | None  # None: give up
    attempts: int  # failures so far, this one included
    reason: str

    @property
    def abandoned(self) -> bool:
        return self.retry_at is None


def after_failure(failures_before: int, now: datetime,
                  delays: tuple[timedelta, ...] = DEFAULT_DELAYS) -> RetryDecision:
    """What to do after one more failure, given how many came before it.

    The first failure waits delays[0], the second delays[1], ...; once every delay has been
    used the item is abandoned (and tallied by the caller in the failed attempts).
    """
    if failures_before < 0:
        raise ValueError("failures_before must be >= 0")
    attempts = failures_before + 1
    if failures_before >= len(delays):
        return RetryDecision(None, attempts, f"abandoned after {attempts} failed attempts")
    delay = delays[failures_before]
    return RetryDecision(now + delay, attempts,
                         f"failure {attempts}: retry in {_days(delay)}")


def _days(delay: timedelta) -> str:
    days = delay.total_seconds() / 86400
    return f"{days:g} day" + ("" if days == 1 else "s")
