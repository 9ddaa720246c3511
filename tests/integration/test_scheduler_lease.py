"""One process runs the schedule (the scheduler lease); the others take over when it stops
or dies; the process that starts leading catches up missed runs."""

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from mamcrawler.jobs.context import JobContext
from mamcrawler.jobs.runner import run_job
from mamcrawler.jobs.scheduler import JobScheduler
from mamcrawler.store import lease, liveness
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.liveness import Owner
from mamcrawler.store.models import SchedulerLease, TaskRun
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

HOST = socket.gethostname()
NEVER = "0 0 1 1 *"  # once a year: in these tests jobs run only when caught up
JOBS = ("account_check", "torrent_watch", "acquisition", "download_watch", "category_sync",
        "completion", "metadata_maintenance", "metadata_drift", "retention_cleanup")


def plant_lease(rt, *, host, pid, beat_ago_s, token=""):
    now = datetime.now(UTC)
    with session_scope(rt.sessions) as s:
        s.add(SchedulerLease(name=lease.NAME, holder=f"{host}:{pid}:planted", acquired_at=now,
                             owner_host=host, owner_pid=pid, owner_token=token,
                             heartbeat_at=now - timedelta(seconds=beat_ago_s)))


def claim(rt):
    return lease.claim(rt.sessions, "here:1:mine", Owner.current(), datetime.now(UTC))


def test_a_live_leader_on_another_host_keeps_the_lease_until_it_stops_renewing(runtime):
    plant_lease(runtime, host="other-host", pid=1, beat_ago_s=5)
    state = claim(runtime)
    assert not state.leading and state.leader == "process 1 on other-host"
    with session_scope(runtime.sessions) as s:
        s.get(SchedulerLease, lease.NAME).heartbeat_at = \
            datetime.now(UTC) - timedelta(seconds=liveness.LEASE_S + 5)
    assert claim(runtime).leading
    with session_scope(runtime.sessions) as s:
        row = s.get(SchedulerLease, lease.NAME)
        assert (row.holder, row.owner_pid, row.owner_host) == ("here:1:mine", os.getpid(), HOST)


def test_the_lease_of_a_dead_process_on_this_host_is_taken_at_once(runtime):
    gone = subprocess.Popen(["true"])
    gone.wait()
    plant_lease(runtime, host=HOST, pid=gone.pid, beat_ago_s=0)
    assert claim(runtime).leading


def test_taking_over_from_a_leader_that_died_mid_job_runs_that_job_again(runtime):
    gone = subprocess.Popen(["true"])
    gone.wait()
    plant_lease(runtime, host=HOST, pid=gone.pid, beat_ago_s=0)
    now = datetime.now(UTC)
    with session_scope(runtime.sessions) as s:
        s.add(TaskRun(job_name="retention_cleanup", started_at=now, outcome="running",
                      heartbeat_at=now, owner_host=HOST, owner_pid=gone.pid, owner_token=""))
    runtime.scheduler.start()
    assert runtime.scheduler.leading

    def cleanup_runs():
        with session_scope(runtime.sessions) as s:
            rows = s.scalars(select(TaskRun).where(TaskRun.job_name == "retention_cleanup")
                             .order_by(TaskRun.id)).all()
            return [(r.outcome, r.trigger) for r in rows]

    wait_for(lambda: cleanup_runs() == [("interrupted", "schedule"), ("success", "restart")],
             what="the interrupted job to run again")


def test_one_scheduler_leads_the_other_follows_and_takes_over(runtime):
    first = runtime.scheduler
    second = JobScheduler(JobContext(settings=runtime.settings, sessions=runtime.sessions))
    try:
        first.start()
        second.start()
        assert first.leading and not second.leading and second.running
        assert second.leader() == f"process {os.getpid()} on {HOST}"
        assert first.leader().startswith("this process")
        first.shutdown()  # gives the lease up
        second._tick()
        assert second.leading
        # Someone else takes the lease over (say, after this process hung): it steps down.
        with session_scope(runtime.sessions) as s:
            row = s.get(SchedulerLease, lease.NAME)
            row.holder, row.owner_host, row.owner_pid = "other:1:x", "other-host", 1
            row.heartbeat_at = datetime.now(UTC)
        second._tick()
        assert not second.leading and second._sched.state == 2  # STATE_PAUSED
    finally:
        second.shutdown()


def test_one_failed_renewal_does_not_make_the_leader_step_down(runtime, monkeypatch):
    from sqlalchemy.exc import OperationalError

    scheduler = runtime.scheduler
    scheduler.start()
    assert scheduler.leading

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE scheduler_lease", {}, Exception("database is locked"))

    monkeypatch.setattr(lease, "_claim", locked)
    scheduler._tick()  # renewed a moment ago: one failure is not half a lease
    assert scheduler.leading
    monkeypatch.undo()
    scheduler._tick()
    assert scheduler.leading


def test_leading_catches_up_missed_runs_account_check_first(runtime):
    sched = runtime.scheduler
    ctx = sched.ctx
    sched.set_paused("completion", True)
    assert run_job(ctx, "retention_cleanup").outcome == "success"  # ran: nothing to catch up
    sched.start()
    start = datetime.now(UTC)
    caught = {j.name: j.next_run_time for j in sched._sched.get_jobs()
              if j.id.endswith("-catch-up")}
    assert "retention_cleanup" not in caught and "completion" not in caught
    assert min(caught, key=caught.get) == "account_check"
    assert caught["account_check"] - start < timedelta(seconds=5)


def serve(processes, db_url, tmp_path, tracker_sim, name):
    port = free_port()
    env = cli_env(data_dir=tmp_path / f"data-{name}", api_key=API_KEY, demo="false",
                  database_url=db_url, mam_id=tracker_sim.mam_id, mam_url=tracker_sim.base_url,
                  mam_min_interval_s=0.5, shutdown_grace_s=5,
                  **{f"schedule_{job}": NEVER for job in JOBS})
    started = processes.start("serve", "--port", str(port), env=env)
    started.url, started.env = f"http://127.0.0.1:{port}", env
    return started


def health(started):
    if started.proc.poll() is not None:
        raise AssertionError(started.output())
    try:
        return httpx.get(f"{started.url}/health", timeout=2).json()["data"]
    except httpx.HTTPError:
        return None


def runs(db_url):
    engine = make_engine(db_url)
    try:
        with session_scope(make_session_factory(engine)) as s:
            return s.scalars(select(TaskRun).order_by(TaskRun.id)).all()
    finally:
        engine.dispose()


def test_two_serve_processes_schedule_once_and_the_follower_takes_over(
        db_url, tmp_path, processes, tracker_sim):
    began = datetime.now(UTC)
    first = serve(processes, db_url, tmp_path, tracker_sim, "first")
    wait_for(lambda: (health(first) or {}).get("scheduler") == "running",
             what="the first process to lead")
    second = serve(processes, db_url, tmp_path, tracker_sim, "second")
    standby = wait_for(lambda: health(second), what="the second process to answer")
    assert standby["scheduler"] == "standby"
    assert standby["scheduler_leader"].startswith(f"process {first.pid} on {HOST}")
    assert health(first)["scheduler_leader"].startswith("this process")
    status = processes.run("status", env=second.env)
    said = " ".join(status.stdout.split())  # as one line, whatever the terminal width
    assert f"scheduler: process {first.pid} on {HOST}, lease renewed" in said, status.stderr

    # A fresh install: account_check runs soon after start, once, in the leader.
    checked = wait_for(lambda: [r for r in runs(db_url) if r.job_name == "account_check"
                                and r.outcome == "success"], what="the caught-up account_check")
    [check] = checked
    assert (check.owner_pid, check.trigger) == (first.pid, "catch_up")
    assert check.started_at - began < timedelta(seconds=30)

    os.kill(first.pid, signal.SIGKILL)
    first.proc.wait(10)
    killed_at = datetime.now(UTC)
    wait_for(lambda: health(second)["scheduler"] == "running", timeout=20,
             what="the follower to take over")
    took_over = wait_for(lambda: [r for r in runs(db_url) if r.owner_pid == second.pid],
                         what="the new leader's first caught-up run")
    assert f"taking over from process {first.pid} on {HOST}" in second.output()
    assert took_over[0].trigger == "catch_up" and took_over[0].job_name != "account_check"
    assert took_over[0].started_at > killed_at
    every = runs(db_url)
    assert [r.job_name for r in every].count("account_check") == 1
    assert {r.owner_pid for r in every if r.started_at < killed_at} == {first.pid}

    stopped_at = time.monotonic()
    assert second.stop() in (0, 128 + signal.SIGTERM), second.output()
    assert time.monotonic() - stopped_at < 15
    assert "Traceback" not in second.output(), second.output()
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        assert s.get(SchedulerLease, lease.NAME) is None  # given up on the way out
    engine.dispose()
