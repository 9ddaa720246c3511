"""Database fixtures: every test that asks for `db_url` runs on SQLite and PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (database `test`, trust auth; override with
TEST_POSTGRES_URL). Each test session gets its own schema, dropped at the end. When no
server answers, PostgreSQL cases are skipped with the reason, except under CI=true, where
they fail: CI must have the server.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mamcrawler.config import Settings, load_settings
from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine

PG_BASE = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
API_KEY = "test-api-key-0123456789"
KEEP_TABLES = {"alembic_version", "category_settings"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason on a developer machine; fail under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must be available)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_admin():
    """An engine on the PostgreSQL test database, or a skip (a failure under CI)."""
    admin = create_engine(PG_BASE, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {PG_BASE}: {str(exc).splitlines()[0]}")
    yield admin
    admin.dispose()


def new_pg_schema(admin, prefix: str):
    """Create an empty schema; returns (url that uses it, function that drops it)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))

    return f"{PG_BASE}?options=-csearch_path%3D{schema}", drop


@pytest.fixture(scope="session")
def pg_url(pg_admin):
    """A migrated PostgreSQL schema of its own for this test session."""
    url, drop = new_pg_schema(pg_admin, "mc_test")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path) -> str:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url, drop = new_pg_schema(request.getfixturevalue("pg_admin"), "mc_empty")
    request.addfinalizer(drop)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


def _empty_pg(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))]
        doomed = [t for t in tables if t not in KEEP_TABLES]
        if doomed:
            conn.execute(text(f"TRUNCATE {', '.join(doomed)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "mamcrawler.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _empty_pg(url)
    return url


@pytest.fixture
def make_settings(tmp_path):
    """Settings for a test: no .env, data in tmp_path, not in demo mode unless asked, and
    no metadata lookup on import unless asked (its default sources are public hosts)."""

    def build(**overrides) -> Settings:
        values = {"data_dir": tmp_path / "data", "api_key": API_KEY, "demo": False,
                  "metadata_on_import": False}
        values.update(overrides)
        return load_settings(None, **values)

    return build


@pytest.fixture
def settings(make_settings, db_url) -> Settings:
    return make_settings(database_url=db_url)


@pytest.fixture
def runtime(settings):
    from mamcrawler.runtime import Runtime

    rt = Runtime.build(settings, upgrade_db=False)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime):
    """A TestClient on the app (scheduler not started), sending the API key."""
    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app

    with TestClient(create_app(runtime, start_scheduler=False),
                    headers={"X-Api-Key": API_KEY}) as client:
        yield client


@pytest.fixture
def sessions(db_url):
    """A session factory on `db_url` (both databases)."""
    from mamcrawler.store.db import make_session_factory

    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()
