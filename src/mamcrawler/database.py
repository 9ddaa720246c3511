"""The configured database, opened for a command or for the service.

Kept apart from the runtime so a command that needs only the database (want, status, jobs
list) loads nothing else.
"""

from __future__ import annotations

from sqlalchemy import Engine

from mamcrawler.config import Settings, prepare_data_dir
from mamcrawler.store import migrate, problems
from mamcrawler.store.problems import DatabaseProblem


class DatabaseNotReady(DatabaseProblem):
    """The database schema is older than this program."""


def database_setting(settings: Settings) -> str:
    """The variable that chose the database, for messages."""
    return "DATABASE_URL" if settings.database_url and not settings.is_demo else "DATA_DIR"


def open_database(settings: Settings, *, upgrade: bool = True) -> Engine:
    """The configured database with its schema brought up to date (or, with `upgrade`
    False, checked to be). Raises ConfigError or DatabaseProblem, whose message names the
    variable or file at fault and the fix."""
    prepare_data_dir(settings)
    setting = database_setting(settings)
    engine = problems.open_database(settings.effective_database_url, setting)
    try:
        if upgrade:
            migrate.upgrade(engine, setting=setting)
        elif not migrate.is_current(engine):
            raise DatabaseNotReady(
                "the database schema is not up to date.\n  Fix: run `mamcrawler db upgrade`.")
    except BaseException:
        engine.dispose()
        raise
    return engine
