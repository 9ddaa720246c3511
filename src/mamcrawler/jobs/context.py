"""What a job is handed when it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.config import Settings
from mamcrawler.policies import Policies
from mamcrawler.services.tracker import TrackerEndpoint

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, text: str) -> None:
    return None


class ClientCache:
    """Long-lived clients shared by the jobs of one process (e.g. a poller keeping its
    incremental position between runs). Built on first use, closed at shutdown."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._items:
                self._items[name] = factory()
            return self._items[name]

    def drop(self, name: str) -> None:
        with self._lock:
            item = self._items.pop(name, None)
        _close(item)

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for item in items:
            _close(item)


def _close(item: Any) -> None:
    close = getattr(item, "close", None)
    if callable(close):
        close()


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    tracker: TrackerEndpoint | None = None  # None: no tracker session configured
    clients: ClientCache = field(default_factory=ClientCache)
    progress: Progress = _no_progress
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policies: Policies = None  # type: ignore[assignment]  # built from settings when not given

    def __post_init__(self) -> None:
        if self.policies is None:
            self.policies = Policies.from_settings(self.settings)


class JobNotConfigured(Exception):
    """The job has nothing it can do yet (its feature or its connection is not set up).

    Recorded as outcome ``not_configured``, never as success.
    """
