"""What is wrong with the configured database, said so a person can fix it.

Start-up opens the database through `open_database`; every way that can fail (a URL that is
not one, an unsupported database, a server that does not answer, a file that is read-only
or not a database) becomes one DatabaseProblem naming the setting or file and the fix.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from mamcrawler.logs import mask_url

from .db import make_engine, sqlite_path

SUPPORTED = "sqlite:///path/to/mamcrawler.db or postgresql+psycopg://user@host:5432/db"


class DatabaseProblem(Exception):
    """The database cannot be used. The message says what, where, and the fix."""


def masked(url: str | URL) -> str:
    """`url` with its password hidden, also when it does not parse."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    return mask_url(url)


def where(url: str | URL, setting: str) -> str:
    """How to name the database in a message: its file, or the setting holding its URL."""
    path = sqlite_path(url)
    if path is not None:
        return f"the database file {path}"
    return f"the database at {masked(url)} ({setting})"


def check_url(url: str, setting: str = "DATABASE_URL") -> URL:
    """The parsed URL, or a DatabaseProblem when it is no URL of a supported database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseProblem(
            f"{setting}={masked(url)!r} is not a database URL.\n"
            f"  Fix: set {setting} (environment or .env) to {SUPPORTED}, or leave it empty "
            "for SQLite in DATA_DIR.") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseProblem(
            f"{setting}={masked(parsed)!r} asks for {backend}, which MAMcrawler does not "
            f"support.\n  Fix: use {SUPPORTED}, or leave {setting} empty for SQLite in "
            "DATA_DIR.")
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise DatabaseProblem(
            f"{setting}={masked(parsed)!r} names the driver {parsed.drivername!r}, which is not "
            f"installed.\n  Fix: use {SUPPORTED}.") from None
    return parsed


def open_database(url: str, setting: str = "DATABASE_URL") -> Engine:
    """An engine on `url` that has been connected to once; else a DatabaseProblem."""
    check_url(url, setting)
    try:
        engine = make_engine(url)
    except OSError as exc:
        raise problem(exc, url, setting) from None
    try:
        with engine.connect() as conn:
            # Reading the schema is what fails on a file that is not a SQLite database.
            if engine.dialect.name == "sqlite":
                conn.execute(text("SELECT count(*) FROM sqlite_master"))
            else:
                conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        raise problem(exc, url, setting) from None
    return engine


def problem(exc: BaseException, url: str | URL, setting: str) -> DatabaseProblem:
    """`exc`, met while using the database at `url`, as a message with the fix."""
    cause = cause_of(exc)
    return DatabaseProblem(f"cannot use {where(url, setting)}: {cause}.\n"
                           f"  Fix: {fix_for(cause, url, setting)}.")


def cause_of(exc: BaseException) -> str:
    """The driver's own first line (the useful part), without SQLAlchemy's wrapping."""
    inner = getattr(exc, "orig", None) or exc
    text_ = str(inner).strip() or type(inner).__name__
    return text_.splitlines()[0].rstrip(".")


def fix_for(cause: str, url: str | URL, setting: str) -> str:
    lowered = cause.lower()
    path = sqlite_path(url)
    if path is not None:
        return _sqlite_fix(lowered, path)
    parsed = make_url(url)
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if "refused" in lowered or "timeout" in lowered or "could not translate" in lowered \
            or "no route" in lowered or "resolve" in lowered:
        return f"start PostgreSQL at {server}, or correct the host and port in {setting}"
    if "password" in lowered or "authentication" in lowered or "role" in lowered:
        return f"correct the user name and password in {setting}"
    if "database" in lowered and "does not exist" in lowered:
        return f"create the database ({parsed.database}) or correct its name in {setting}"
    return f"correct {setting} or the PostgreSQL server at {server}"


def _sqlite_fix(lowered: str, path: Path) -> str:
    if "full" in lowered or "disk i/o" in lowered or "no space" in lowered:
        return f"make room on the disk holding {path.parent}"
    if "readonly" in lowered or "read-only" in lowered or "permission" in lowered \
            or "unable to open" in lowered:
        return (f"let this user write {path} and its folder (or set DATA_DIR, or "
                "DATABASE_URL, to a writable place)")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return (f"{path} is damaged: restore it from a backup, or move it aside to start "
                "with an empty database")
    if "not a directory" in lowered or "is a directory" in lowered:
        return f"set DATA_DIR (or DATABASE_URL) so that {path} can be a file"
    return f"check {path} and its folder"
