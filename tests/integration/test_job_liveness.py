"""A job's process killed mid-run: its lock is free at once, its run is recorded
`interrupted` with the reason, and the job runs again (`jobs run`, and `serve` on restart)."""

import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from mamcrawler.jobs.runner import recover_interrupted, run_job
from mamcrawler.jobs.scheduler import JobScheduler
from mamcrawler.store import liveness, locks
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import JobLock, TaskRun
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

HOST = socket.gethostname()


@pytest.fixture
def stalling_tracker():
    """A tracker that never answers until the test ends: a job asking it stays running."""
    arrived, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            arrived.set()
            release.wait(120)
            self.send_response(503)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", arrived=arrived)
    release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


def job_env(tmp_path, tracker_url, mam_id="stalled-session-cookie-1", **more):
    return cli_env(data_dir=tmp_path / "data", api_key=API_KEY, demo="false", mam_id=mam_id,
                   mam_url=tracker_url, mam_min_interval_s=0.5,
                   schedule_account_check="0 0 1 1 *", **more)


def db_rows(db_url, model, job="account_check"):
    engine = make_engine(db_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            return s.scalars(select(model).where(model.job_name == job)
                             .order_by(model.job_name if model is JobLock else model.id)).all()
    finally:
        engine.dispose()


def kill_while_asking_the_tracker(started, tracker):
    wait_for(lambda: tracker.arrived.is_set() or started.proc.poll() is not None,
             what="the job to ask the tracker")
    assert started.proc.poll() is None, started.output()
    os.kill(started.pid, signal.SIGKILL)
    started.proc.wait(10)


def test_jobs_run_killed_by_sigkill_is_interrupted_and_runs_again(
        db_url, tmp_path, processes, stalling_tracker, tracker_sim):
    env = job_env(tmp_path, stalling_tracker.url, database_url=db_url)
    first = processes.start("jobs", "run", "account_check", env=env)
    kill_while_asking_the_tracker(first, stalling_tracker)
    [left] = db_rows(db_url, TaskRun)
    assert (left.outcome, left.owner_pid, left.owner_host) == ("running", first.pid, HOST)
    assert db_rows(db_url, JobLock)[0].owner_pid == first.pid  # what kill -9 leaves behind

    again = processes.run("jobs", "run", "account_check", env=job_env(
        tmp_path, tracker_sim.base_url, tracker_sim.mam_id, database_url=db_url))
    assert again.returncode == 0, again.stdout + again.stderr  # not 4 (skipped)
    assert "account_check: success" in again.stdout
    interrupted, rerun = db_rows(db_url, TaskRun)
    assert interrupted.outcome == "interrupted" and rerun.outcome == "success"
    assert f"process {first.pid} on {HOST} is gone" in interrupted.error
    assert interrupted.started_at <= interrupted.finished_at <= rerun.started_at
    assert db_rows(db_url, JobLock) == []


def test_serve_killed_mid_job_marks_it_interrupted_and_runs_it_on_restart(
        tmp_path, processes, stalling_tracker, tracker_sim):
    db_url = f"sqlite:///{tmp_path / 'data' / 'mamcrawler.db'}"  # the default: DATA_DIR
    port = free_port()
    first = processes.start("serve", "--port", str(port),
                            env=job_env(tmp_path, stalling_tracker.url))
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Api-Key": API_KEY})
    wait_for(lambda: first.proc.poll() is not None or healthy(api), what="serve to start")
    assert first.proc.poll() is None, first.output()
    # A fresh install runs account_check soon after start (it never ran): that run stalls.
    kill_while_asking_the_tracker(first, stalling_tracker)
    assert [(r.outcome, r.trigger) for r in db_rows(db_url, TaskRun)] == [("running", "catch_up")]

    port = free_port()
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Api-Key": API_KEY})
    second = processes.start("serve", "--port", str(port), env=job_env(
        tmp_path, tracker_sim.base_url, tracker_sim.mam_id))

    def runs():
        if second.proc.poll() is not None or not healthy(api):
            return None
        items = api.get("/api/scheduler/runs", params={"job": "account_check"}).json()
        return [r for r in items["data"]["items"] if r["outcome"] != "running"]

    rerun, interrupted = wait_for(lambda: len(runs() or []) == 2 and runs(),
                                  what="the interrupted job to run again")
    assert second.proc.poll() is None, second.output()
    assert interrupted["outcome"] == "interrupted" and str(first.pid) in interrupted["error"]
    assert (rerun["outcome"], rerun["trigger"]) == ("success", "restart")
    only = api.get("/api/scheduler/runs", params={"outcome": "interrupted"}).json()
    assert [r["id"] for r in only["data"]["items"]] == [interrupted["id"]]
    job = api.get("/api/scheduler/jobs/account_check").json()["data"]
    assert job["last_run"]["id"] == rerun["id"]
    second.stop()
    assert "Traceback" not in second.output(), second.output()


def healthy(api):
    try:
        return api.get("/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_jobs_run_stopped_by_sigterm_records_interrupted_and_exits_5(
        db_url, tmp_path, processes, stalling_tracker):
    started = processes.start("jobs", "run", "account_check",
                              env=job_env(tmp_path, stalling_tracker.url, database_url=db_url))
    wait_for(lambda: stalling_tracker.arrived.is_set() or started.proc.poll() is not None,
             what="the job to ask the tracker")
    assert started.stop() == 5, started.output()
    assert "account_check: interrupted" in started.output()
    [run] = db_rows(db_url, TaskRun)
    assert run.outcome == "interrupted" and "SystemExit" in run.error and run.finished_at
    assert db_rows(db_url, JobLock) == []




def own(extra_jobs, name, **kw):
    """A job that records that it ran."""
    extra_jobs(name, lambda ctx: "ran", **kw)


def plant(runtime, job, *, host=HOST, pid=None, token="", beat_ago_s=0.0):
    """A lock and a running run as a process (alive or not) would have left them."""
    now = datetime.now(UTC)
    beat = now - timedelta(seconds=beat_ago_s)
    owner = {"owner_host": host, "owner_pid": pid or os.getpid(), "owner_token": token,
             "heartbeat_at": beat}
    with session_scope(runtime.sessions) as s:
        s.add(JobLock(job_name=job, holder=f"{host}:{owner['owner_pid']}:planted",
                      acquired_at=beat, expires_at=now + timedelta(hours=1), **owner))
        s.add(TaskRun(job_name=job, started_at=beat, outcome="running", **owner))


def test_a_live_owner_on_another_host_keeps_the_lock_until_it_stops_reporting(
        runtime, extra_jobs):
    own(extra_jobs, "shared_job")
    plant(runtime, "shared_job", host="other-host", pid=1, beat_ago_s=5)
    ctx = runtime.scheduler.ctx
    assert run_job(ctx, "shared_job").outcome == "skipped"

    with session_scope(runtime.sessions) as s:
        stale = datetime.now(UTC) - timedelta(seconds=liveness.LEASE_S + 5)
        s.get(JobLock, "shared_job").heartbeat_at = stale
        for run in s.scalars(select(TaskRun).where(TaskRun.outcome == "running")):
            run.heartbeat_at = stale
    assert run_job(ctx, "shared_job").outcome == "success"
    outcomes = [(r.outcome, r.error or "") for r in db_rows(runtime.settings.database_url,
                                                            TaskRun, "shared_job")]
    assert outcomes[0][0] == "interrupted" and "process 1 on other-host stopped reporting" \
        in outcomes[0][1]
    assert [o for o, _ in outcomes[1:]] == ["skipped", "success"]


def test_a_reused_process_id_does_not_keep_a_dead_lock(runtime, extra_jobs):
    own(extra_jobs, "reused_job")
    # This very process, but with another start token: the pid was given to a new process,
    # as happens when a container restarts and the service is pid 1 again.
    plant(runtime, "reused_job", token="another-process")
    assert run_job(runtime.scheduler.ctx, "reused_job").outcome == "success"
    assert locks.holder_of(runtime.sessions, "reused_job") is None


def test_heartbeats_renew_the_lock_and_the_run(runtime, extra_jobs, monkeypatch):
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.05)
    gate = threading.Event()
    extra_jobs("beating_job", lambda ctx: gate.wait(30) and "done")
    ctx = runtime.scheduler.ctx
    worker = threading.Thread(target=run_job, args=(ctx, "beating_job"))
    worker.start()
    try:
        def renewed():
            with session_scope(runtime.sessions) as s:
                lock = s.get(JobLock, "beating_job")
                run = s.scalars(select(TaskRun).where(TaskRun.job_name == "beating_job"))
                run = run.one_or_none()
                return lock is not None and run is not None \
                    and lock.heartbeat_at > lock.acquired_at and run.heartbeat_at > run.started_at

        wait_for(renewed, what="a heartbeat on the lock and the run")
    finally:
        gate.set()
        worker.join(30)


def test_runs_from_before_owners_were_recorded_are_judged_by_age(runtime):
    now = datetime.now(UTC)
    with session_scope(runtime.sessions) as s:
        s.add(TaskRun(job_name="account_check", started_at=now - timedelta(hours=2),
                      outcome="running"))
        s.add(TaskRun(job_name="account_check", started_at=now - timedelta(minutes=5),
                      outcome="running"))
    assert recover_interrupted(runtime.sessions, now) == ["account_check"]
    with session_scope(runtime.sessions) as s:
        rows = s.scalars(select(TaskRun).order_by(TaskRun.id)).all()
        assert [r.outcome for r in rows] == ["interrupted", "running"]
        assert "older than the job's max runtime" in rows[0].error


def test_interrupted_runs_expire_and_are_retried_once(runtime):
    old = datetime.now(UTC) - timedelta(days=90)
    with session_scope(runtime.sessions) as s:
        s.add(TaskRun(job_name="completion", started_at=old, finished_at=old,
                      outcome="interrupted", trigger="schedule"))
        s.add(TaskRun(job_name="category_sync", started_at=old, finished_at=old,
                      outcome="interrupted", trigger="restart"))
    # A re-run that was interrupted too is not started again at every restart.
    assert JobScheduler(runtime.scheduler.ctx).interrupted_jobs() == ["completion"]
    result = run_job(runtime.scheduler.ctx, "retention_cleanup", trigger="manual")
    assert "2 task_runs" in result.summary


def test_serve_stopped_during_a_stuck_job_records_it_interrupted_within_the_grace(
        tmp_path, processes, stalling_tracker):
    db_url = f"sqlite:///{tmp_path / 'data' / 'mamcrawler.db'}"
    port = free_port()
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    served = processes.start("serve", "--port", str(port), env=job_env(
        tmp_path, stalling_tracker.url, shutdown_grace_s=2))
    wait_for(lambda: served.proc.poll() is not None or healthy(api), what="serve to start")
    # account_check (never run: caught up at once) waits on a tracker that never answers
    wait_for(lambda: stalling_tracker.arrived.is_set() or served.proc.poll() is not None,
             what="the job to ask the tracker")
    stopping = time.monotonic()
    assert served.stop() in (0, 128 + signal.SIGTERM), served.output()
    assert time.monotonic() - stopping < 2 + 5  # the grace, then out without waiting
    [run] = db_rows(db_url, TaskRun)
    assert run.outcome == "interrupted" and "within the 2 s grace" in run.error, run.error
    assert db_rows(db_url, JobLock) == []
    assert "Traceback" not in served.output(), served.output()
