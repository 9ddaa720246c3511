"""Schema migrations through Alembic. The app never uses create_all outside tests.

An upgrade is all-or-nothing on both databases: every step runs in one transaction (on
SQLite through `transactional_ddl_engine`, since its driver would commit each CREATE on
its own), so a failure part-way - a full disk, a killed process - leaves the schema as it
was, and running the upgrade again starts from there.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from .db import transactional_ddl_engine
from .problems import DatabaseProblem, cause_of, fix_for, problem, where

log = logging.getLogger("mamcrawler.store")
MIGRATIONS = Path(__file__).parent / "migrations"
# Held for the upgrade's transaction on PostgreSQL, so two processes starting at once take
# turns instead of both creating the same tables. Any fixed number; this is "MAMC".
PG_UPGRADE_LOCK = 0x4D414D43


class UpgradeFailed(DatabaseProblem):
    """The upgrade stopped and its transaction was rolled back."""


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine, revision: str = "head", setting: str = "DATABASE_URL") -> None:
    """Bring the database to `revision` (default: the newest), entirely or not at all.

    Raises UpgradeFailed saying what happened and how to retry. `setting` names the variable
    holding the URL, for messages.
    """
    try:
        before = current_revision(engine)
    except Exception as exc:
        raise problem(exc, engine.url, setting) from exc
    runner = transactional_ddl_engine(engine.url) if engine.dialect.name == "sqlite" else engine
    cfg = alembic_config()
    try:
        with runner.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_UPGRADE_LOCK})
            # Judged inside the transaction: another process may have upgraded meanwhile.
            if MigrationContext.configure(conn).get_current_revision() is None:
                _refuse_half_made_schema(conn, setting)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except DatabaseProblem:
        raise
    except Exception as exc:
        raise _failed(exc, engine, before, setting) from exc
    finally:
        if runner is not engine:
            runner.dispose()
    after = current_revision(engine)
    if after != before:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def _failed(exc: Exception, engine: Engine, before: str | None,
            setting: str) -> UpgradeFailed:
    cause = cause_of(exc)
    state = f"still at revision {before}" if before else "still empty"
    return UpgradeFailed(
        f"the database upgrade failed and was rolled back: {where(engine.url, setting)} is "
        f"unchanged, {state}.\n  Cause: {cause}.\n"
        f"  Fix: {fix_for(cause, engine.url, setting)}; then run `mamcrawler db upgrade` "
        "again.")


def _refuse_half_made_schema(conn: Connection, setting: str) -> None:
    """Tables of ours without a revision are what an upgrade by a version before 0006 left
    when it failed part-way; upgrading over them would fail with "already exists"."""
    from .models import Base

    present = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
    if present:
        raise DatabaseProblem(
            f"{where(conn.engine.url, setting)} has {len(present)} MAMcrawler tables but no schema "
            "revision: an earlier first upgrade stopped part-way (older versions could not "
            "undo it). The service never ran on it, so it holds no data of yours.\n"
            "  Fix: delete it (for SQLite the file and its -wal and -shm files; for "
            "PostgreSQL drop those tables) and run `mamcrawler db upgrade` again.")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision this version's migrations know."""
    return frozenset(rev.revision for rev in
                     ScriptDirectory.from_config(alembic_config()).walk_revisions())


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
