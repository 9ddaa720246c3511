"""How a job's loops learn that they should stop, and how a run's report is judged.

A job builds one `RunGuard` per run and hands it to its service as the `stop` callable,
asked between items: it answers True once the process is stopping (the service then ends
after the item it is on) or once a system the job needs turned out to be down. Ports
wrapped with `guard.watch` report every failure to the guard; after a "down" failure
(unreachable, or our session or login refused) they fail at once without asking the
system again, so the remaining items are not tried. `guard.judged(report)` then turns
the service's report into the run's result.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.mam.errors import (
    TrackerAuthError,
    TrackerBlocked,
    TrackerPurchaseUncertain,
    TrackerRefused,
    TrackerUnavailable,
)
from mamcrawler.adapters.qbittorrent.errors import (
    TorrentAddRejected,
    TorrentClientAuthError,
    TorrentClientError,
    TorrentClientUnavailable,
)
from mamcrawler.domain.run_outcome import JobReport

# Every further request would fail the same way: stop asking.
DOWN = (TrackerUnavailable, TrackerAuthError, TrackerBlocked, TorrentClientUnavailable,
        TorrentClientAuthError)
# Not failures of the run: the system understood and said no, or a purchase's answer was
# lost and the account is read back to learn what happened (the job records those itself).
HANDLED = (TrackerRefused, TrackerPurchaseUncertain, TorrentAddRejected)
WATCHED = (TrackerError, TorrentClientError)


class JobStopped(Exception):
    """The process is stopping; the job ended after the item it was on."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


class RunGuard:
    """One run's answer to "stop now?" (see the module docstring)."""

    def __init__(self, stopping: threading.Event | None = None) -> None:
        self.stopping = stopping if stopping is not None else threading.Event()
        self.down: str | None = None  # the failure that showed a system is down
        self.errors: list[str] = []  # every failure of a watched port, down or not
        self.answered = 0  # calls of watched ports that succeeded
        self.stopped = False  # a loop ended early because the process is stopping

    def __call__(self) -> bool:
        if self.stopping.is_set():
            self.stopped = True
            return True
        return self.down is not None

    def watch(self, port: Any) -> Any:
        """`port` with its failures reported here (see the module docstring)."""
        return _Watched(port, self)

    def failed(self, exc: Exception) -> None:
        if isinstance(exc, HANDLED) or not isinstance(exc, WATCHED):
            return
        self.errors.append(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, DOWN) and self.down is None:
            self.down = str(exc)

    def by_requests(self, summary: str, unit: str) -> JobReport | str:
        """For a job whose items are its requests to the watched ports: a failure it
        went on after makes the run `partial` (`failed` when nothing answered)."""
        if not self.errors:
            return summary
        return JobReport(summary, done=self.answered, failed=len(self.errors), unit=unit,
                         failures=tuple(self.errors[:3]))

    def judged(self, report: JobReport | str) -> JobReport | str:
        """The run's result. Raises JobStopped when a loop stopped because the process is
        stopping; a system found down makes the run `failed` with that one error."""
        summary = report if isinstance(report, str) else report.summary
        if self.stopped:
            raise JobStopped(summary)
        if self.down is None:
            return report
        if isinstance(report, str):
            return JobReport(summary, error=self.down)
        return replace(report, error=self.down)


class _Watched:
    """Forwards to a port; failures go to the guard, and once a system is down its calls
    fail at once with that failure."""

    def __init__(self, port: Any, guard: RunGuard) -> None:
        self._port, self._guard = port, guard
        self._down: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._port, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._down is not None:
                raise self._down
            try:
                result = target(*args, **kwargs)
            except Exception as exc:
                self._guard.failed(exc)
                if isinstance(exc, DOWN):
                    self._down = exc
                raise
            self._guard.answered += 1
            return result

        return call


def never() -> bool:
    """A `stop` that never asks to stop (services called outside a job)."""
    return False
