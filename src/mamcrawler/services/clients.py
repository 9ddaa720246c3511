"""Long-lived clients shared by the jobs of one process, and the "not configured" signal.

Both live in services (not jobs) so a service can use them without importing the layer
above it; `mamcrawler.jobs.context` re-exports them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


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


class JobNotConfigured(Exception):
    """The job has nothing it can do yet (its feature or its connection is not set up).

    Recorded as outcome ``not_configured``, never as success.
    """
