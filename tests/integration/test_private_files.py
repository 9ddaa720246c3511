"""The database holds the live tracker cookie: DATA_DIR is created 0700 and the database
(with its -wal/-shm) and the API key file 0600; DATABASE_URL's password is never shown."""

import logging
import os
import stat

from mamcrawler.config import describe_sources
from mamcrawler.logs import RedactingFilter
from tests.support.processes import cli_env

PASSWORD = "hunter22-secret"
PG_URL = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:9/test"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_first_start_creates_data_dir_and_database_for_the_owner_only(tmp_path, processes):
    data = tmp_path / "new" / "data"
    old_umask = os.umask(0o022)  # what a service manager typically gives
    try:
        result = processes.run("jobs", "list", env=cli_env(data_dir=data, demo="false",
                                                           mam_id="s" * 20))
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    files = {p.name: mode(p) for p in data.iterdir()}
    assert files.pop("mamcrawler.db") == 0o600
    assert "api_key" not in files  # made by `serve`; `jobs list` only reads the database
    assert set(files) <= {"mamcrawler.db-wal", "mamcrawler.db-shm"}
    assert all(m == 0o600 for m in files.values()), files


def test_an_existing_world_readable_database_is_tightened(tmp_path, processes):
    env = cli_env(data_dir=tmp_path / "data", demo="false", mam_id="s" * 20, api_key="k" * 20)
    assert processes.run("db", "upgrade", env=env).returncode == 0
    database = tmp_path / "data" / "mamcrawler.db"
    database.chmod(0o644)  # as versions before this one created it
    result = processes.run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert mode(database) == 0o600


def test_config_check_masks_the_database_password(tmp_path, processes):
    result = processes.run("config", "check", env=cli_env(
        data_dir=tmp_path / "data", demo="false", mam_id="s" * 20,
        mam_url="http://127.0.0.1:9", database_url=PG_URL, columns=250))  # no wrapping
    output = result.stdout + result.stderr
    assert PASSWORD not in output
    assert "postgresql+psycopg://postgres:********@127.0.0.1:9/test" in output


def test_the_database_password_is_redacted_in_logs(make_settings):
    settings = make_settings(database_url=PG_URL.replace(PASSWORD, "p%40ss-word"))
    [shown] = [r.value for r in describe_sources(settings, None) if r.name == "DATABASE_URL"]
    assert shown == "postgresql+psycopg://postgres:********@127.0.0.1:9/test"
    record = logging.LogRecord("mamcrawler", logging.WARNING, __file__, 1,
                               "cannot reach %s (password %s)",
                               (settings.database_url, "p@ss-word"), None)
    RedactingFilter(settings.secret_values()).filter(record)
    assert "p%40ss" not in record.msg and "p@ss-word" not in record.msg
    assert "postgres:********@127.0.0.1" in record.msg
