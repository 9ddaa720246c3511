"""Where the newest session cookie lives between requests and restarts.

The tracker rotates the cookie on responses; the client saves each new value through a
:class:`SessionStore` the moment it arrives, and reads the current value back before every
request, so several clients (and a restarted process) share one session.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable


@runtime_checkable
class SessionStore(Protocol):
    """Persistent holder of the newest session cookie value."""

    def load(self) -> str | None:
        """The newest saved value, or None when nothing was saved yet."""
        ...

    def save(self, value: str) -> None:
        """Replace the saved value; must be durable before it returns."""
        ...


class MemorySessionStore:
    """A process-local store, for tests and for the demo; thread-safe."""

    def __init__(self, value: str | None = None) -> None:
        self._value = value
        self._lock = threading.Lock()
        self.saves = 0  # how many rotations were recorded; tests read it

    def load(self) -> str | None:
        with self._lock:
            return self._value

    def save(self, value: str) -> None:
        with self._lock:
            self._value = value
            self.saves += 1

    def __repr__(self) -> str:  # never show the cookie
        return f"MemorySessionStore(saved={self._value is not None}, saves={self.saves})"
