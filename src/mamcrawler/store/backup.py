"""Copies of the SQLite database taken while the service runs, with SQLite's online backup
API; for PostgreSQL, the pg_dump command to use instead.

A copy of the database file made with `cp` while the service writes can be torn (the newest
pages are in the -wal file, or half written); the backup API copies one consistent snapshot
and lets writers go on meanwhile (WAL mode).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing, suppress
from pathlib import Path

from sqlalchemy.engine import make_url

from mamcrawler.logs import mask_url


class BackupError(Exception):
    """No backup was made; the message says why and what to do."""


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the SQLite database `source` into the new file `target`, readable by its owner
    alone (it holds the tracker session cookie); returns its size in bytes.

    The copy is written under a temporary name beside `target`, checked, and renamed: `target`
    is a whole, checked copy or does not exist. Raises BackupError.
    """
    if not source.is_file():
        raise BackupError(f"there is no database file {source} to back up")
    if target.exists():
        raise BackupError(f"{target} exists already; name a new file, or remove it first")
    part = target.with_name(f".{target.name}.part")
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        _copy(source, part)
        _sync(part)
        os.replace(part, target)
        _sync(target.parent)
    except (OSError, sqlite3.Error) as exc:
        with suppress(OSError):
            part.unlink()
        raise BackupError(f"the backup of {source} to {target} failed: {_reason(exc)}; "
                          f"nothing was written. {_fix(exc, target)}") from None
    return target.stat().st_size


def _copy(source: Path, part: Path) -> None:
    with closing(sqlite3.connect(source, timeout=30)) as src, \
            closing(sqlite3.connect(part)) as copy:
        src.backup(copy)  # all pages in one step: one consistent snapshot
        # The copy is a file of its own, not in WAL mode: no -wal or -shm to carry along.
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("the copy does not check out: " + "; ".join(problems[:3]))


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _fix(exc: BaseException, target: Path) -> str:
    text = str(exc).lower()
    if "full" in text or "no space" in text or "disk i/o" in text:
        return f"Make room on the disk holding {target.parent} and try again."
    if "not a database" in text or "malformed" in text:
        return "The database itself is damaged: keep the file and use an earlier backup."
    return f"Check that {target.parent} is a folder this user can write, and try again."


def pg_dump_hint(url: str, target: Path | None) -> str:
    """How to back up the PostgreSQL database at `url` with pg_dump (password masked)."""
    libpq = make_url(url).set(drivername="postgresql")  # pg_dump knows no "+psycopg"
    shown = mask_url(libpq.render_as_string(hide_password=False))
    file = target or Path("mamcrawler.dump")
    return (
        "DATABASE_URL is a PostgreSQL database: back it up with PostgreSQL's own pg_dump, "
        "which copies it consistently while the service runs:\n"
        f"  pg_dump --format=custom --file={file} '{shown}'\n"
        "Give the password in PGPASSWORD or ~/.pgpass instead of the URL. Restore: stop the "
        f"service, then pg_restore --clean --if-exists --dbname='{shown}' {file}")
