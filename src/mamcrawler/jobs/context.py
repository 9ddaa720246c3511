"""What a job is handed when it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.config import Settings
from mamcrawler.policies import Policies
from mamcrawler.services import notify
from mamcrawler.services.clients import ClientCache, JobNotConfigured
from mamcrawler.services.notify import Notifier
from mamcrawler.services.tracker import TrackerEndpoint

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, text: str) -> None:
    return None


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    tracker: TrackerEndpoint | None = None  # None: no tracker session configured
    clients: ClientCache = field(default_factory=ClientCache)
    progress: Progress = _no_progress
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policies: Policies = None  # type: ignore[assignment]  # built from settings when not given
    notifier: Notifier = None  # type: ignore[assignment]  # from NOTIFY_URLS when not given

    def __post_init__(self) -> None:
        if self.policies is None:
            self.policies = Policies.from_settings(self.settings)
        if self.notifier is None:
            self.notifier = notify.from_settings(self.settings)


__all__ = ["ClientCache", "JobContext", "JobNotConfigured", "Progress"]
