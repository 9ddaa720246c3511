"""Jobs: every run recorded, failures isolated, pause survives restarts, one runner."""

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mamcrawler.jobs.context import JobContext, JobNotConfigured
from mamcrawler.jobs.runner import run_job
from mamcrawler.jobs.scheduler import JobScheduler
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    Book,
    FailedAttempt,
    MetadataCorrection,
    RequestLog,
    TaskRun,
    TorrentRecoveryAttempt,
)


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")




def runs(rt, job):
    with session_scope(rt.sessions) as s:
        return s.scalars(select(TaskRun).where(TaskRun.job_name == job)
                         .order_by(TaskRun.id)).all()


def test_outcomes_are_recorded(runtime, extra_jobs):
    def boom(ctx):
        raise ValueError(f"broken with {ctx.settings.api_key.get_secret_value()}")

    def later(ctx):
        raise JobNotConfigured("not configured: set QB_HOST")

    extra_jobs("ok_job", lambda ctx: "did 3 things")
    extra_jobs("boom_job", boom)
    extra_jobs("later_job", later)
    ctx = runtime.scheduler.ctx
    assert run_job(ctx, "ok_job").outcome == "success"
    failed = run_job(ctx, "boom_job", trigger="manual")
    assert failed.outcome == "failed"
    assert run_job(ctx, "later_job").outcome == "not_configured"

    [ok] = runs(runtime, "ok_job")
    assert (ok.outcome, ok.summary, ok.trigger) == ("success", "did 3 things", "schedule")
    assert ok.finished_at >= ok.started_at
    [bad] = runs(runtime, "boom_job")
    assert bad.outcome == "failed" and bad.error.startswith("ValueError: broken with")
    assert runtime.api_key not in bad.error  # secrets never stored in run records
    assert runs(runtime, "later_job")[0].summary == "not configured: set QB_HOST"


def test_jobs_without_their_connections_never_pretend_to_work(runtime):
    # no tracker session, no qBittorrent: each says what is missing instead of "success"
    ctx = runtime.scheduler.ctx
    for name in ("acquisition", "completion", "category_sync"):
        result = run_job(ctx, name)
        assert result.outcome == "not_configured", name


def test_a_failing_job_does_not_stop_the_scheduler(make_settings, db_url, extra_jobs):
    from mamcrawler.runtime import Runtime

    extra_jobs("flaky_job", lambda ctx: 1 / 0)
    extra_jobs("steady_job", lambda ctx: "fine")
    settings = make_settings(database_url=db_url)
    rt = Runtime.build(settings, upgrade_db=False)
    sched = rt.scheduler
    for name in ("flaky_job", "steady_job"):
        sched._sched.reschedule_job(name, trigger="interval", seconds=0.2)
    sched.start()
    try:
        wait_for(lambda: len(runs(rt, "flaky_job")) >= 3 and len(runs(rt, "steady_job")) >= 3,
                 what="three runs of each job")
    finally:
        rt.close()
    # A run that is still going when the runtime closes is recorded interrupted (it runs
    # every 0.2 s); every other run ends as its job does.
    for name, outcome in (("flaky_job", "failed"), ("steady_job", "success")):
        outcomes = [r.outcome for r in runs(rt, name) if r.finished_at]
        assert set(outcomes) <= {outcome, "interrupted"}, (name, outcomes)
        assert outcomes.count(outcome) >= 2 and outcomes.count("interrupted") <= 1, outcomes


def test_pause_survives_a_restart(runtime, make_settings, db_url):
    runtime.scheduler.set_paused("acquisition", True)
    reborn = JobScheduler(JobContext(settings=runtime.settings, sessions=runtime.sessions))
    status = {s.name: s for s in reborn.statuses()}
    assert status["acquisition"].paused and status["acquisition"].next_run is None
    assert not status["torrent_watch"].paused and status["torrent_watch"].next_run
    reborn.set_all_paused(False)
    assert not any(s.paused for s in reborn.statuses())


def test_retention_keeps_failed_attempts_forever(runtime):
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=45), now - timedelta(days=2)
    with session_scope(runtime.sessions) as s:
        book = Book(title="Kept")
        s.add(book)
        s.flush()
        for at in (old, recent):
            s.add(TaskRun(job_name="x", started_at=at, finished_at=at, outcome="success"))
            s.add(MetadataCorrection(book_id=book.id, field="title", old_value="a",
                                     new_value="b", source="test", at=at))
            s.add(RequestLog(at=at, system="mam", method="GET", path="/x", status=200))
            s.add(FailedAttempt(title="Lost", stage="grab", reason="503", at=at))
            s.add(TorrentRecoveryAttempt(at=at, info_hash="ab" * 20, name="t", attempt=1,
                                         action="reannounce", torrent_state="stalled",
                                         reason="stalled", outcome="done"))
        s.add(TaskRun(job_name="stuck", started_at=old, outcome="running"))
    result = run_job(runtime.scheduler.ctx, "retention_cleanup", trigger="manual")
    assert result.outcome == "success"
    assert ("1 task_runs, 1 metadata_corrections, 1 request_logs, "
            "1 torrent_recovery_attempts") in result.summary
    with session_scope(runtime.sessions) as s:
        def count(model):
            return s.scalar(select(func.count()).select_from(model))

        assert count(FailedAttempt) == 2
        assert count(MetadataCorrection) == 1 and count(RequestLog) == 1
        # the recent run, the still-running one, and this cleanup's own run
        assert count(TaskRun) == 3


def test_trigger_through_the_api(api):
    response = api.post("/api/scheduler/jobs/retention_cleanup/run")
    assert response.status_code == 202

    def finished():
        page = api.get("/api/scheduler/runs", params={"job": "retention_cleanup"}).json()
        items = page["data"]["items"]
        return items and items[0]["outcome"] == "success" and items[0]["trigger"] == "api"

    wait_for(finished, what="the triggered run")
    job = api.get("/api/scheduler/jobs/retention_cleanup").json()["data"]
    assert job["last_run"]["outcome"] == "success"
    unknown = api.post("/api/scheduler/jobs/no_such_job/run")
    assert unknown.status_code == 404 and "known jobs" in unknown.json()["error"]


def test_pause_resume_and_autonomous_switch_through_the_api(api):
    paused = api.post("/api/scheduler/jobs/acquisition/pause").json()["data"]
    assert paused["paused"] and paused["next_run"] is None
    assert api.post("/api/scheduler/jobs/acquisition/resume").json()["data"]["paused"] is False
    stopped = api.post("/api/system/autonomous/stop").json()["data"]
    assert stopped["autonomous"] is False and all(j["paused"] for j in stopped["jobs"])
    started = api.post("/api/system/autonomous/start").json()["data"]
    assert started["autonomous"] is True and not any(j["paused"] for j in started["jobs"])


LOCK_SCRIPT = r"""
import sys, time, pathlib
from mamcrawler.config import load_settings
from mamcrawler.jobs import registry
from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime

db_url, workdir, role = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]

def hold(ctx):
    (workdir / f"{role}.started").touch()
    deadline = time.monotonic() + 60
    while not (workdir / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.05)
    return f"{role} held the lock"

registry.register(registry.JobSpec("held_job", "test", hold))
settings = load_settings(None, database_url=db_url, data_dir=workdir, api_key="k" * 20, demo=False)
rt = Runtime.build(settings, upgrade_db=False)
result = run_job(rt.scheduler.ctx, "held_job", trigger="manual")
print(result.outcome, result.summary)
rt.close()
"""


def test_two_processes_never_run_the_same_job_at_once(db_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def start(role):
        return subprocess.Popen([sys.executable, "-c", LOCK_SCRIPT, db_url, str(tmp_path), role],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    first = start("first")
    try:
        wait_for(lambda: (tmp_path / "first.started").exists() or first.poll() is not None,
                 what="the first process to take the lock")
        assert first.poll() is None, first.communicate()
        second = start("second")
        out2, err2 = second.communicate(timeout=60)
        (tmp_path / "release").touch()
        out1, err1 = first.communicate(timeout=60)
    finally:
        (tmp_path / "release").touch()
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    assert out1.startswith("success first held the lock"), err1
    assert out2.startswith("skipped skipped: held_job is already running"), err2
    assert not (tmp_path / "second.started").exists()


def test_a_lock_held_past_the_max_runtime_expires(runtime, extra_jobs):
    from mamcrawler.store import locks
    from mamcrawler.store.liveness import Owner

    extra_jobs("crashy_job", lambda ctx: "recovered", max_runtime_s=60)
    past = datetime.now(UTC) - timedelta(hours=2)
    # Even a holder that still reports (here: this process) loses a lock held too long.
    assert locks.acquire(runtime.sessions, "crashy_job", "hung:1:x", Owner.current(), past, 60)
    assert run_job(runtime.scheduler.ctx, "crashy_job").outcome == "success"


def test_concurrent_threads_in_one_process_share_the_lock(runtime, extra_jobs):
    gate = threading.Event()
    extra_jobs("gated_job", lambda ctx: gate.wait(30) and "done")
    ctx = runtime.scheduler.ctx
    results = []
    worker = threading.Thread(target=lambda: results.append(run_job(ctx, "gated_job")))
    worker.start()
    wait_for(lambda: any(r.outcome == "running" for r in runs(runtime, "gated_job")),
             what="the first run to start")
    wait_for(lambda: __import__("mamcrawler.store.locks", fromlist=["x"]).holder_of(
        runtime.sessions, "gated_job") is not None, what="the lock")
    assert run_job(ctx, "gated_job").outcome == "skipped"
    gate.set()
    worker.join(30)
    assert results[0].outcome == "success"
