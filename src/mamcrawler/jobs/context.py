"""What a job is handed when it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.config import Settings
from mamcrawler.policies import Policies
from mamcrawler.services import notify
from mamcrawler.services.clients import ClientCache, JobNotConfigured
from mamcrawler.services.notify import Notifier
from mamcrawler.services.reports import RunGuard
from mamcrawler.services.tracker import TrackerEndpoint

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, text: str) -> None:
    return None


@dataclass(frozen=True)
class ActiveRun:
    run_id: int
    job_name: str
    holder: str  # its lock's holder


class ActiveRuns:
    """The runs this process is doing now, so a stopping service can wait for them."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._runs: dict[int, ActiveRun] = {}

    @contextmanager
    def running(self, run: ActiveRun) -> Iterator[None]:
        with self._changed:
            self._runs[run.run_id] = run
        try:
            yield
        finally:
            with self._changed:
                self._runs.pop(run.run_id, None)
                self._changed.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no run is active; False when some still are after `timeout_s`."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._runs, timeout_s)

    def now(self) -> list[ActiveRun]:
        with self._changed:
            return list(self._runs.values())


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    tracker: TrackerEndpoint | None = None  # None: no tracker session configured
    clients: ClientCache = field(default_factory=ClientCache)
    progress: Progress = _no_progress
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policies: Policies = None  # type: ignore[assignment]  # built from settings when not given
    # What a command asks of one run (e.g. completion of one series): {"completion.only": …}
    options: dict[str, object] = field(default_factory=dict)
    # Set when the process is stopping: long jobs end after the item they are on.
    stopping: threading.Event = field(default_factory=threading.Event)
    active: ActiveRuns = field(default_factory=ActiveRuns)
    notifier: Notifier = None  # type: ignore[assignment]  # from NOTIFY_URLS when not given

    def __post_init__(self) -> None:
        if self.policies is None:
            self.policies = Policies.from_settings(self.settings)
        if self.notifier is None:
            self.notifier = notify.from_settings(self.settings)

    def guard(self) -> RunGuard:
        """A new run's stop signal (see services.reports)."""
        return RunGuard(self.stopping)


__all__ = ["ActiveRun", "ActiveRuns", "ClientCache", "JobContext", "JobNotConfigured",
           "Progress"]
