"""Honest outcomes (partial with counts, failed with the one error of a system that went
down) and the jobs' stop signal, through the runner on both databases."""

import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamcrawler.adapters.mam.errors import TrackerUnavailable
from mamcrawler.api.app import create_app
from mamcrawler.jobs.acquisition_jobs import COMMAND_CLIENT
from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services import library, metadata_jobs
from mamcrawler.services.metadata import BookOutcome
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store import locks
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import JobLock, TaskRun, VipPending, WantedBook
from tests.support.database import API_KEY
from tests.support.fake_tracker import FakeTracker
from tests.support.processes import cli_env, wait_for

SEARCH_PATH = "/tor/js/loadSearchJSONbasic.php"


@pytest.fixture
def rt(make_settings, db_url):
    settings = make_settings(database_url=db_url, narrator_speech_engine="off",
                             qb_host="127.0.0.1", shutdown_grace_s=0.5)
    runtime = Runtime.build(settings, upgrade_db=False)
    yield runtime
    runtime.close()


def add_books(rt, count):
    with session_scope(rt.sessions) as s:
        books = [library.create_book(s, {"title": f"Book {n}", "authors": ["Ana Vale"]})
                 for n in range(count)]
        s.flush()
        return [b.id for b in books]


def enrich_with(monkeypatch, behaviour):
    """metadata_maintenance enriches each book with `behaviour(book_id)`."""
    def enrich(sessions, tools, book_id, listen=None):
        return behaviour(book_id)

    monkeypatch.setattr(metadata_jobs, "enrich_book", enrich)


def test_some_failing_books_make_the_run_partial_with_counts(rt, monkeypatch):
    ids = add_books(rt, 4)
    every_source = {name: "HTTP 503" for name in
                    ("audnexus", "openlibrary", "googlebooks", "itunes")}

    def behaviour(book_id):
        if book_id == ids[1]:
            raise RuntimeError("a source's answer broke the parser")
        if book_id == ids[2]:
            return BookOutcome(book_id, source_errors=every_source)
        return BookOutcome(book_id)

    enrich_with(monkeypatch, behaviour)
    result = run_job(rt.scheduler.ctx, "metadata_maintenance", trigger="manual")
    assert (result.outcome, result.items_done, result.items_failed) == ("partial", 2, 2)
    assert result.error == (f"2 of 4 books failed: book {ids[1]}: RuntimeError: a source's "
                            f"answer broke the parser; book {ids[2]}: no metadata source "
                            "answered")
    assert result.summary.startswith("3 books checked")

    with TestClient(create_app(rt, start_scheduler=False), headers={"X-Api-Key": API_KEY}) \
            as api:
        page = api.get("/api/scheduler/runs", params={"outcome": "partial"}).json()["data"]
        [run] = page["items"]
        assert (run["id"], run["items_done"], run["items_failed"]) == (result.run_id, 2, 2)
        job = api.get("/api/scheduler/jobs/metadata_maintenance").json()["data"]
        assert job["last_run"]["outcome"] == "partial"


def test_every_book_failing_is_a_failed_run(rt, monkeypatch):
    add_books(rt, 2)

    def behaviour(book_id):
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    enrich_with(monkeypatch, behaviour)
    result = run_job(rt.scheduler.ctx, "metadata_maintenance", trigger="manual")
    assert (result.outcome, result.items_done, result.items_failed) == ("failed", 0, 2)
    assert result.error.startswith("all 2 books failed: book ")


def test_a_stopping_process_ends_the_job_after_its_current_book(rt, monkeypatch):
    ids = add_books(rt, 5)
    ctx = rt.scheduler.ctx

    def behaviour(book_id):
        if book_id == ids[1]:
            ctx.stopping.set()  # SIGTERM arrives while the second book is being checked
        return BookOutcome(book_id)

    enrich_with(monkeypatch, behaviour)
    result = run_job(ctx, "metadata_maintenance", trigger="manual")
    assert result.outcome == "interrupted"
    assert result.summary.startswith("2 books checked")
    assert "the service was stopping" in result.error


class DyingTracker(FakeTracker):
    """Answers the first search, then is unreachable."""

    def search(self, query):
        if any(call[0] == "search" for call in self.calls):
            self.search_error = TrackerUnavailable("HTTP 503: Service Unavailable", status=503)
        return super().search(query)


def test_a_tracker_that_dies_mid_run_fails_it_with_one_error_and_the_rest_wait(
        rt, fake_torrent_client):
    ctx = rt.scheduler.ctx
    ctx.tracker = TrackerEndpoint("http://127.0.0.1:9", "unused-cookie", 0.0)
    tracker = ctx.clients.get("tracker", DyingTracker)
    ctx.clients.get(COMMAND_CLIENT, lambda: fake_torrent_client)
    with session_scope(rt.sessions) as s:
        wanted = [add_wanted(s, {"title": f"Lost Book {n}", "author": "Ana Vale"})[0].id
                  for n in range(4)]

    result = run_job(ctx, "acquisition", trigger="manual")
    assert result.outcome == "failed"
    assert result.error.startswith("The tracker could not be reached (HTTP 503")
    assert (result.items_done, result.items_failed) == (1, 1)
    assert [c for c in tracker.calls if c[0] == "search"] == [
        ("search", "Lost Book 0 Ana Vale"), ("search", "Lost Book 1 Ana Vale")]
    with session_scope(rt.sessions) as s:
        rows = {w.id: w for w in s.scalars(select(WantedBook))}
        assert all(rows[w].status == "wanted" for w in wanted)
        assert rows[wanted[0]].last_searched_at is not None
        # the failed search and the books never searched are searched at the next run
        assert [rows[w].last_searched_at for w in wanted[1:]] == [None, None, None]


def test_a_job_still_running_after_the_grace_is_recorded_interrupted(rt, extra_jobs):
    gate = threading.Event()
    extra_jobs("stubborn_job", lambda ctx: gate.wait(30) and "finished late")
    ctx = rt.scheduler.ctx
    rt.scheduler.trigger("stubborn_job", trigger="manual")
    wait_for(lambda: ctx.active.now(), what="the job to start")
    rt.scheduler.shutdown()  # waits SHUTDOWN_GRACE_S (0.5 s) for it, then gives up on it
    with session_scope(rt.sessions) as s:
        [run] = s.scalars(select(TaskRun).where(TaskRun.job_name == "stubborn_job")).all()
        assert run.outcome == "interrupted" and "within the 0.5 s grace" in run.error
        assert s.get(JobLock, "stubborn_job") is None
    gate.set()
    wait_for(lambda: not ctx.active.now(), what="the job's thread to end")
    with session_scope(rt.sessions) as s:
        [run] = s.scalars(select(TaskRun).where(TaskRun.job_name == "stubborn_job")).all()
        assert run.outcome == "interrupted"  # never turned into success afterwards
    assert locks.holder_of(rt.sessions, "stubborn_job") is None


def test_jobs_run_exits_6_on_a_partial_run(db_url, tmp_path, processes, tracker_sim):
    from mamcrawler.store.db import make_engine, make_session_factory

    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        wanted, _ = add_wanted(s, {"title": "Pending Book", "author": "Ana Vale"})
        s.flush()  # only a pending release whose book is still wanted is looked up
        s.add(VipPending(release_id="77", title="Pending Book", author="Ana Vale",
                         wanted_id=wanted.id, created_at=datetime.now(UTC)))
    engine.dispose()
    tracker_sim.control.fail(404, count=1, path=SEARCH_PATH)  # the VIP-pending walk's search
    env = cli_env(data_dir=tmp_path / "data", api_key=API_KEY, demo="false",
                  database_url=db_url, mam_id=tracker_sim.mam_id, mam_url=tracker_sim.base_url,
                  mam_min_interval_s=0.5)
    done = processes.run("jobs", "run", "account_check", env=env)
    assert done.returncode == 6, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # as one line, whatever the terminal width
    assert "account_check: partial" in said
    assert "tracker requests failed: TrackerBadResponse: The tracker sent a reply" in said
    assert "HTTP 404" in said
