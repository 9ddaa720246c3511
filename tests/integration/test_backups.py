"""Backups: `db backup` copies the SQLite database while a real `serve` writes to it, and the
copy restored into a new DATA_DIR (as README, Database, says) serves the data back; the
daily `backup` job keeps BACKUP_KEEP_DAYS days; PostgreSQL gets the pg_dump command."""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mamcrawler.services import backups
from mamcrawler.services.clients import JobNotConfigured
from mamcrawler.store.backup import BackupError, backup_sqlite
from tests.integration.test_migration_failures import WITH_FILE_LIMIT
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

NOW = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def serve(processes, data) -> httpx.Client:
    port = free_port()
    server = processes.start("serve", "--port", str(port),
                             env=cli_env(data_dir=data, demo="false", api_key=API_KEY))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Api-Key": API_KEY},
                          timeout=30)

    def up():
        assert server.proc.poll() is None, server.output()
        try:
            return client.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="serve to answer")
    return client


def book(i: int) -> dict:
    return {"title": f"Book {i}", "authors": [f"Author {i % 7}"],
            "series": [{"name": f"Series {i % 5}", "position": str(i)}]}


class Writer(threading.Thread):
    """Adds books one after another until stopped (at most 5,000 or 120 s)."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client, self.added, self.stop = client, 0, threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and self.added < 5000 and time.monotonic() < deadline:
            response = self.client.post("/api/books", json=book(self.added + 1))
            assert response.status_code == 201, response.text
            self.added += 1


def all_books(client: httpx.Client) -> list[dict]:
    items, offset = [], 0
    while True:
        page = client.get("/api/books", params={"limit": 500, "offset": offset}).json()["data"]
        items += page["items"]
        offset += 500
        if offset >= page["total"]:
            return items


def test_a_backup_taken_while_serve_writes_restores_into_a_new_data_dir(tmp_path, processes):
    live = serve(processes, tmp_path / "data")
    writer = Writer(live)
    writer.start()
    try:
        wait_for(lambda: writer.added >= 50, timeout=60, what="the first books")
        before = writer.added
        result = processes.run("db", "backup", str(tmp_path / "copy.db"),
                               env=cli_env(data_dir=tmp_path / "data", demo="false"))
        after = writer.added
    finally:
        writer.stop.set()
        writer.join(30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert after > before, "the service was not writing while the backup ran"
    copy = tmp_path / "copy.db"
    assert mode(copy) == 0o600
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    restored = tmp_path / "restored"  # README: copy the backup over DATA_DIR/mamcrawler.db
    restored.mkdir(mode=0o700)
    shutil.copy(copy, restored / "mamcrawler.db")
    books = all_books(serve(processes, restored))
    assert before <= len(books) <= after
    # One consistent moment: the first N books, each with its people and series.
    assert [b["id"] for b in books] == list(range(1, len(books) + 1))
    for b in books:
        wanted = book(b["id"])
        assert (b["title"], b["authors"], b["series"]) == (
            wanted["title"], wanted["authors"], wanted["series"]), b


def test_db_backup_into_a_folder_names_the_file_and_refuses_to_overwrite(tmp_path, processes):
    env = cli_env(data_dir=tmp_path / "data", demo="false")
    missing = processes.run("db", "backup", str(tmp_path), env=env)
    assert missing.returncode == 2
    assert f"there is no database file {tmp_path / 'data' / 'mamcrawler.db'}" in missing.stderr
    assert processes.run("db", "upgrade", env=env).returncode == 0
    first = processes.run("db", "backup", str(tmp_path), env=env)
    assert first.returncode == 0, first.stderr
    [made] = tmp_path.glob("mamcrawler-*.db")
    assert f"backed up to {made}" in first.stdout and "to restore: stop the service" in \
        first.stdout
    again = processes.run("db", "backup", str(made), env=env)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_a_backup_on_a_full_disk_leaves_nothing_behind(tmp_path, processes):
    env = cli_env(data_dir=tmp_path / "data", demo="false")
    assert processes.run("db", "upgrade", env=env).returncode == 0
    target = tmp_path / "out" / "copy.db"
    failed = subprocess.run([sys.executable, "-c", WITH_FILE_LIMIT, "100000", "db", "backup",
                             str(target)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    assert f"the backup of {tmp_path / 'data' / 'mamcrawler.db'} to {target} failed" in \
        failed.stderr
    assert "nothing was written. Make room on the disk" in failed.stderr
    assert list(target.parent.iterdir()) == []


def test_postgresql_gets_the_pg_dump_command_with_the_password_masked(tmp_path, processes):
    url = "postgresql+psycopg://mc:hunter22@127.0.0.1:5432/mamcrawler"
    result = processes.run("db", "backup", str(tmp_path / "mc.dump"), env=cli_env(
        data_dir=tmp_path / "data", demo="false", database_url=url))
    assert result.returncode == 2
    assert "hunter22" not in result.stdout + result.stderr
    assert (f"pg_dump --format=custom --file={tmp_path / 'mc.dump'} "
            "'postgresql://mc:********@127.0.0.1:5432/mamcrawler'") in result.stderr
    assert "PGPASSWORD" in result.stderr and not (tmp_path / "mc.dump").exists()


def test_the_backup_job_on_postgresql_is_not_configured(make_settings):
    settings = make_settings(database_url="postgresql+psycopg://mc:pw@127.0.0.1:9/mc")
    ctx = type("Ctx", (), {"settings": settings, "clock": staticmethod(lambda: NOW)})
    with pytest.raises(JobNotConfigured, match="pg_dump"):
        backups.backup_job(ctx)


def make_daily(folder, stem: str, age: timedelta) -> object:
    path = folder / backups.daily_name(folder / f"{stem}.db", NOW - age)
    path.write_bytes(b"an old backup")
    return path


def test_the_daily_job_keeps_backup_keep_days_and_never_the_newest(make_settings,
                                                                   sqlite_template, tmp_path):
    database = tmp_path / "live" / "mamcrawler.db"
    database.parent.mkdir()
    shutil.copy(sqlite_template, database)
    settings = make_settings(database_url=f"sqlite:///{database}", backup_keep_days=7)
    folder = settings.effective_backup_dir
    yesterday = backups.daily_backup(settings, NOW - timedelta(days=1))
    assert yesterday.file.parent == folder == settings.data_dir / "backups"
    assert mode(yesterday.file) == 0o600 and mode(folder) == 0o700  # made by the job
    old = [make_daily(folder, "mamcrawler", timedelta(days=d)) for d in (30, 8)]
    recent = make_daily(folder, "mamcrawler", timedelta(days=6))
    other_database = make_daily(folder, "demo", timedelta(days=30))
    leftover = folder / ".mamcrawler-20261101-031500.db.part"
    leftover.write_bytes(b"interrupted")
    os.utime(leftover, (0, 0))
    notes = folder / "notes.txt"
    notes.write_text("mine")

    done = backups.daily_backup(settings, NOW)
    assert done.file == folder / "mamcrawler-20261122-031500.db"
    assert mode(done.file) == 0o600
    assert sorted(done.removed) == sorted([*old, leftover])
    assert {p.name for p in folder.iterdir()} == {done.file.name, yesterday.file.name,
                                                  recent.name, other_database.name, notes.name}
    assert done.summary().endswith("; 3 older removed")

    # A month without a successful backup: the last one is kept, however old.
    lone = tmp_path / "lone"
    lone.mkdir()
    kept = make_daily(lone, "mamcrawler", timedelta(days=40))
    assert backups.prune(lone, "mamcrawler", NOW, 7) == []
    assert kept.exists()


def test_backup_refuses_a_damaged_database(tmp_path):
    damaged = tmp_path / "mamcrawler.db"
    damaged.write_bytes(b"not a database at all " * 500)
    with pytest.raises(BackupError, match="file is not a database.*use an earlier backup"):
        backup_sqlite(damaged, tmp_path / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mamcrawler.db"]
