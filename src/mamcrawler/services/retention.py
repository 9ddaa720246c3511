"""Delete history past its retention period (R1). Failed attempts are kept forever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from mamcrawler.store.models import (
    MetadataCorrection,
    RequestLog,
    SeedingAction,
    TaskRun,
    TorrentRecoveryAttempt,
)

# The history tables that expire, with the column that dates each row.
EXPIRING = ((TaskRun, TaskRun.started_at), (MetadataCorrection, MetadataCorrection.at),
            (RequestLog, RequestLog.at), (TorrentRecoveryAttempt, TorrentRecoveryAttempt.at),
            (SeedingAction, SeedingAction.at))


@dataclass(frozen=True)
class CleanupResult:
    cutoff: datetime
    deleted: dict[str, int]

    def summary(self) -> str:
        parts = ", ".join(f"{n} {table}" for table, n in self.deleted.items())
        return f"deleted rows older than {self.cutoff:%Y-%m-%d %H:%M} UTC: {parts}"


def cleanup(session: Session, now: datetime, retention_days: int) -> CleanupResult:
    """Delete expired history rows; never touches failed attempts or running task runs."""
    cutoff = now - timedelta(days=retention_days)
    deleted: dict[str, int] = {}
    for model, column in EXPIRING:
        stmt = delete(model).where(column < cutoff)
        if model is TaskRun:
            stmt = stmt.where(TaskRun.outcome != "running")
        deleted[model.__tablename__] = session.execute(stmt).rowcount or 0
    return CleanupResult(cutoff, deleted)
