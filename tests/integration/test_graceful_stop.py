"""SIGTERM to a real `serve` during a long job: the job ends after the book it is on, the
run is recorded `interrupted` (never `success`), and the process exits within the grace."""

import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from mamcrawler.services import library
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import TaskRun
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

BOOKS = 40
GRACE_S = 15


@pytest.fixture
def metadata_sources():
    """Every metadata source on one loopback server that finds nothing; counts requests by
    first path segment. iTunes' polite pacing makes each book take seconds."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                prefix = self.path.split("/")[1]
                seen[prefix] = seen.get(prefix, 0) + 1
            body = json.dumps({"error": "not found"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield url, seen
    server.shutdown()
    server.server_close()
    thread.join(10)


def add_books(db_url):
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        for n in range(BOOKS):
            library.create_book(s, {"title": f"Quiet Book {n}", "authors": ["Ana Vale"]})
    engine.dispose()


def maintenance_run(db_url):
    engine = make_engine(db_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            return s.scalars(select(TaskRun).where(
                TaskRun.job_name == "metadata_maintenance")).one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_during_metadata_maintenance_ends_it_after_the_current_book(
        db_url, tmp_path, processes, metadata_sources):
    url, seen = metadata_sources
    add_books(db_url)
    port = free_port()
    env = cli_env(data_dir=tmp_path / "data", api_key=API_KEY, demo="false",
                  database_url=db_url, shutdown_grace_s=GRACE_S, narrator_speech_engine="off",
                  metadata_cache_ttl_s=0, audnexus_url=url + "/audnexus",
                  audible_catalog_url=url + "/catalog", openlibrary_url=url + "/openlibrary",
                  google_books_url=url + "/google", itunes_url=url + "/itunes")
    served = processes.start("serve", "--port", str(port), env=env)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Api-Key": API_KEY})

    def up():
        assert served.proc.poll() is None, served.output()
        try:
            return api.get("/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, what="serve to start")
    assert api.post("/api/scheduler/jobs/metadata_maintenance/run").status_code == 202
    wait_for(lambda: seen.get("itunes", 0) >= 2, what="two books to be looked up")

    stopping = time.monotonic()
    status = served.stop()
    took = time.monotonic() - stopping
    assert status in (0, 128 + signal.SIGTERM), served.output()
    assert took < GRACE_S, f"{took:.1f} s to stop"
    run = maintenance_run(db_url)
    assert run.outcome == "interrupted", (run.outcome, run.summary, run.error)
    assert run.error.startswith("interrupted: the service was stopping")
    checked = int(run.summary.split(" books checked")[0])
    assert 2 <= checked < BOOKS
    assert seen["itunes"] <= checked + 1  # no book started after the stop
    assert "Traceback" not in served.output() and "cannot schedule new futures" not in \
        served.output()
