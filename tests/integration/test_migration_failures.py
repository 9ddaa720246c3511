"""A failed upgrade changes nothing, says what happened and how to retry, and the retry
works - on SQLite too, whose driver would otherwise commit each CREATE TABLE on its own."""

import sqlite3
import subprocess
import sys
import threading

from sqlalchemy import inspect, text

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine
from mamcrawler.store.models import Base
from mamcrawler.store.problems import DatabaseProblem
from tests.support.processes import cli_env

# `mamcrawler` with a file size limit: writes past it fail as on a full disk (EFBIG;
# Python ignores SIGXFSZ). 100 kB is a fraction of what the first upgrade writes.
WITH_FILE_LIMIT = """
import resource, runpy, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["mamcrawler", *sys.argv[2:]]
runpy.run_module("mamcrawler.cli", run_name="__main__")
"""


def sqlite_tables(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()


def test_a_full_disk_during_the_first_upgrade_leaves_no_half_schema(tmp_path, processes):
    env = cli_env(data_dir=tmp_path / "data", demo="false", mam_id="x" * 20, api_key="k" * 20)
    failed = subprocess.run([sys.executable, "-c", WITH_FILE_LIMIT, "100000", "db", "upgrade"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    message = failed.stderr
    assert "Traceback" not in message and len(message.strip().splitlines()) <= 4, message
    database = tmp_path / "data" / "mamcrawler.db"
    assert f"the database upgrade failed and was rolled back: the database file {database} " \
           "is unchanged, still empty." in message
    assert "Cause: disk I/O error" in message or "full" in message
    assert "run `mamcrawler db upgrade` again" in message
    assert sqlite_tables(database) == []  # not 23 tables and no revision, as before

    again = processes.run("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    assert f"database at revision {migrate.head_revision()}" in again.stdout
    assert "alembic_version" in sqlite_tables(database)


def test_a_failing_step_rolls_back_the_whole_upgrade(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO job_settings VALUES ('acquisition', true, "
                          "CURRENT_TIMESTAMP)"))
        # In the way of 0006, two steps after 0004 created a table.
        conn.execute(text("ALTER TABLE task_runs ADD COLUMN heartbeat_at INTEGER"))
    try:
        migrate.upgrade(engine)
    except migrate.UpgradeFailed as exc:
        message = str(exc)
    else:
        raise AssertionError("the upgrade should have failed")
    assert "rolled back" in message and "unchanged, still at revision 0003" in message
    assert "heartbeat_at" in message and "mamcrawler db upgrade` again" in message
    assert migrate.current_revision(engine) == "0003"
    assert "torrent_recovery_attempts" not in inspect(engine).get_table_names()

    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE task_runs DROP COLUMN heartbeat_at"))
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT job_name FROM job_settings")).scalar_one() == \
            "acquisition"
    engine.dispose()


def test_a_half_made_schema_from_an_older_version_is_explained(empty_db_url):
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        for name in ("authors", "series", "app_state"):
            Base.metadata.tables[name].create(conn)
    try:
        migrate.upgrade(engine)
    except DatabaseProblem as exc:
        message = str(exc)
    else:
        raise AssertionError("the upgrade should have refused")
    assert "has 3 MAMcrawler tables but no schema revision" in message
    assert "Fix: delete it" in message and "already exists" not in message
    engine.dispose()


def test_two_processes_upgrading_at_once_take_turns(empty_db_url):
    errors = []

    def upgrade():
        engine = make_engine(empty_db_url)
        try:
            migrate.upgrade(engine)
        except Exception as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=upgrade) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert errors == []
    engine = make_engine(empty_db_url)
    assert migrate.is_current(engine)
    assert "authors" in inspect(engine).get_table_names()
    engine.dispose()
