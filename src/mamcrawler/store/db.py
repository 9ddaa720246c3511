"""Engine and session handling for SQLite (default, WAL mode) and PostgreSQL."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, pool
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("mamcrawler.store")
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def make_engine(url: str | URL, **kwargs) -> Engine:
    """Create an engine; for SQLite make the file private, turn on WAL, foreign keys, busy
    wait. Raises OSError when the SQLite file or its folder cannot be created."""
    path = sqlite_path(url)
    if make_url(url).get_backend_name() == "sqlite":
        if path is not None:
            make_private(path)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") or parsed.database.startswith("file:"):
        return None  # a SQLite URI names its file its own way; leave it alone
    return Path(parsed.database)


def make_private(path: Path) -> None:
    """Create the database file and its folder for their owner alone: the database holds
    the tracker session cookie. An existing file readable by others is tightened."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    # SQLite gives its -wal and -shm files the database file's mode, so those follow.
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(companion.stat().st_mode)
            if mode & 0o077:
                companion.chmod(mode & 0o700)
                log.info("made %s readable by its owner only (was %o)", companion, mode)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by other users and is not ours to change; "
                        "run: chmod 600 %s", companion, companion)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _wal(cursor, attempts: int = 40) -> None:
    """Turn on WAL. Switching a new database to WAL needs it to itself, and SQLite answers
    "database is locked" at once, without its busy wait, while a second process opens the
    same new file; so try again for a few seconds."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def transactional_ddl_engine(url: str | URL) -> Engine:
    """A SQLite engine whose transactions cover DDL too, for schema upgrades.

    Python's sqlite3 driver starts a transaction only before INSERT/UPDATE/DELETE, so
    CREATE and ALTER run in autocommit and a failed upgrade leaves half a schema. Here the
    driver's own handling is off and every transaction starts with BEGIN IMMEDIATE, which
    also makes a second process that upgrades at the same time wait for the first.
    """
    engine = make_engine(url, poolclass=pool.NullPool)
    event.listen(engine, "connect", _driver_autocommit)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _driver_autocommit(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None


def _begin_immediate(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
