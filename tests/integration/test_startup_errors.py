"""A command that cannot start says why in a few lines - the variable or file at fault and
the fix - and exits 2, instead of printing a traceback (serve, status, jobs, db upgrade)."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine
from tests.support.processes import cli_env

# Root ignores permission bits; run the commands as root without that power instead (the
# files are root's, so they are "ours" as they would be for the service's own user).
AS_ROOT = os.geteuid() == 0
UNPRIVILEGED = (["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
                if AS_ROOT else [])


@pytest.fixture
def place(tmp_path):
    """A folder for a case; permissions taken away in it are given back afterwards."""
    if AS_ROOT and not shutil.which("setpriv"):
        pytest.skip("running as root and setpriv (util-linux) is not installed")
    yield tmp_path
    for path in [tmp_path, *tmp_path.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def writable(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_only(path: Path) -> Path:
    path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
    return path


def mamcrawler(command: str, place: Path, **settings) -> tuple[int, str]:
    env = cli_env(demo="false", mam_id="s" * 20, api_key="k" * 20, mam_url="http://127.0.0.1:9",
                  **settings)
    result = subprocess.run([*UNPRIVILEGED, sys.executable, "-m", "mamcrawler.cli",
                             *command.split()],
                            cwd=place, env=env, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def assert_one_message(status: int, output: str, *expected: str) -> None:
    assert status == 2, output
    assert "Traceback" not in output and len(output.strip().splitlines()) <= 5, output
    assert "Fix:" in output, output
    for text in expected:
        assert text in output, output


def migrated(path: Path) -> Path:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.chmod(0o644)
    return path


@pytest.mark.parametrize("command", ["db upgrade", "serve"])
def test_a_database_url_that_is_not_one(place, command):
    status, output = mamcrawler(command, place, data_dir=writable(place / "data"),
                                database_url="garbage")
    assert_one_message(status, output, "DATABASE_URL='garbage' is not a database URL",
                       "postgresql+psycopg://")


@pytest.mark.parametrize("command", ["status", "jobs run account_check"])
def test_an_unsupported_database(place, command):
    status, output = mamcrawler(command, place, data_dir=writable(place / "data"),
                                database_url="mysql://me:hunter22@127.0.0.1/mc")
    assert_one_message(status, output, "DATABASE_URL=", "asks for mysql")
    assert "hunter22" not in output


@pytest.mark.parametrize("command", ["jobs list", "serve"])
def test_postgresql_not_answering(place, command):
    url = "postgresql+psycopg://postgres:hunter22@127.0.0.1:9/test"
    status, output = mamcrawler(command, place, data_dir=writable(place / "data"),
                                database_url=url)
    assert_one_message(status, output, "127.0.0.1:9", "(DATABASE_URL)", "Connection refused",
                       "start PostgreSQL at 127.0.0.1:9, or correct the host and port in "
                       "DATABASE_URL")
    assert "hunter22" not in output


@pytest.mark.parametrize("command", ["serve", "db upgrade"])
def test_a_read_only_sqlite_file(place, command):
    folder = place / "ro"
    folder.mkdir()
    database = read_only(migrated(folder / "mamcrawler.db"))
    read_only(folder)
    status, output = mamcrawler(command, place, data_dir=writable(place / "data"),
                                database_url=f"sqlite:///{database}")
    assert_one_message(status, output, f"the database file {database}", "readonly",
                       "let this user write")


@pytest.mark.parametrize("command", ["jobs list", "status"])
def test_a_corrupted_sqlite_file(place, command):
    data = writable(place / "data")
    database = data / "mamcrawler.db"
    database.write_bytes(b"not a database at all " * 500)
    status, output = mamcrawler(command, place, data_dir=data)
    assert_one_message(status, output, f"the database file {database}: file is not a database",
                       "restore it from a backup")


@pytest.mark.parametrize("command", ["serve", "status", "jobs list", "db upgrade"])
def test_a_data_dir_that_is_not_writable(place, command):
    data = place / "data"
    data.mkdir()
    read_only(data)
    status, output = mamcrawler(command, place, data_dir=data)
    assert_one_message(status, output, f"DATA_DIR='{data}': cannot be used: Permission denied",
                       "Fix: set DATA_DIR")


def test_config_check_reports_a_bad_database_url_as_a_failed_check(place):
    status, output = mamcrawler("config check", place, data_dir=writable(place / "data"),
                                database_url="mysql://me:hunter22@127.0.0.1/mc", columns=250)
    assert status == 1 and "Traceback" not in output, output
    assert "FAIL database: DATABASE_URL='mysql://me:********@127.0.0.1/mc' asks for mysql" \
        in output
