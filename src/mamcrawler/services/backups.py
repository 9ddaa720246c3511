"""Backups of the database: one made on demand (`mamcrawler db backup PATH`) and the daily
one, kept BACKUP_KEEP_DAYS days in BACKUP_DIR (default DATA_DIR/backups).

SQLite only: a PostgreSQL database is backed up with pg_dump, which the messages name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mamcrawler.config import Settings
from mamcrawler.store.backup import BackupError, backup_sqlite, pg_dump_hint
from mamcrawler.store.db import sqlite_path

from .clients import JobNotConfigured

log = logging.getLogger("mamcrawler.backups")
STAMP = "%Y%m%d-%H%M%S"
_DAILY = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})\.db$")
_LEFTOVER_AGE = timedelta(days=1)  # an interrupted backup's temporary file


class BackupNotPossible(BackupError):
    """The configured database is not a SQLite file; the message says what to do instead."""


@dataclass(frozen=True)
class Backup:
    database: Path
    file: Path
    size: int
    removed: tuple[Path, ...] = ()  # old daily backups deleted afterwards

    def summary(self) -> str:
        kept = f"; {len(self.removed)} older removed" if self.removed else ""
        return f"backed up to {self.file} ({self.size / 1_000_000:.1f} MB){kept}"


def database_file(settings: Settings, target: Path | None = None) -> Path:
    """The SQLite file to back up; BackupNotPossible (with the pg_dump command) if none."""
    url = settings.effective_database_url
    path = sqlite_path(url)
    if path is not None:
        return path
    if url.startswith("postgresql"):
        raise BackupNotPossible(pg_dump_hint(url, target))
    raise BackupNotPossible("DATABASE_URL names no SQLite file to back up")


def backup_to(settings: Settings, target: Path, now: datetime) -> Backup:
    """Back the database up into `target`; a folder gets a file named after the database
    and the time, e.g. mamcrawler-20261122-031500.db. Raises BackupError."""
    database = database_file(settings, target)
    if target.is_dir():
        target = target / daily_name(database, now)
    return Backup(database, target, backup_sqlite(database, target))


def daily_backup(settings: Settings, now: datetime) -> Backup:
    """Today's backup into BACKUP_DIR, then the ones older than BACKUP_KEEP_DAYS removed."""
    database = database_file(settings)
    folder = settings.effective_backup_dir
    target = folder / daily_name(database, now)
    size = backup_sqlite(database, target)
    removed = prune(folder, database.stem, now, settings.backup_keep_days)
    return Backup(database, target, size, tuple(removed))


def backup_job(ctx: Any) -> str:
    """The `backup` job; `not_configured` on PostgreSQL, with the pg_dump command."""
    try:
        return daily_backup(ctx.settings, ctx.clock()).summary()
    except BackupNotPossible as exc:
        raise JobNotConfigured(str(exc)) from None


def daily_name(database: Path, at: datetime) -> str:
    return f"{database.stem}-{at.astimezone(UTC).strftime(STAMP)}.db"


def prune(folder: Path, stem: str, now: datetime, keep_days: int) -> list[Path]:
    """Delete the backups of database `stem` in `folder` taken more than `keep_days` days
    before `now` - never the newest one, whatever its age - and temporary files left by an
    interrupted backup. Other files are never touched. Returns what was deleted."""
    taken = sorted((stamp, path) for path in folder.iterdir()
                   if (stamp := _taken_at(path, stem)) is not None)
    doomed = [path for stamp, path in taken[:-1] if stamp < now - timedelta(days=keep_days)]
    doomed += [path for path in folder.glob(f".{stem}-*.db.part")
               if datetime.fromtimestamp(path.stat().st_mtime, UTC) < now - _LEFTOVER_AGE]
    removed = []
    for path in doomed:
        try:
            path.unlink()
            removed.append(path)
        except OSError as exc:
            log.warning("could not remove the old backup %s: %s", path, exc.strerror or exc)
    return removed


def _taken_at(path: Path, stem: str) -> datetime | None:
    match = _DAILY.match(path.name)
    if not match or match["stem"] != stem or not path.is_file():
        return None
    try:
        return datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
