"""What a job is handed when it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.config import Settings

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, text: str) -> None:
    return None


@dataclass
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    progress: Progress = _no_progress
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class JobNotConfigured(Exception):
    """The job has nothing it can do yet (its feature or its connection is not set up).

    Recorded as outcome ``not_configured``, never as success.
    """
