"""Run one job: take its lock, record the run, never let an exception escape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.domain.run_outcome import JobReport, RunOutcome
from mamcrawler.logs import redact
from mamcrawler.services import notify
from mamcrawler.services.reports import JobStopped
from mamcrawler.store import locks
from mamcrawler.store.db import session_scope
from mamcrawler.store.liveness import Heartbeat, Owner, why_dead
from mamcrawler.store.models import TaskRun

from . import alerts, registry
from .context import ActiveRun, JobContext, JobNotConfigured

log = logging.getLogger("mamcrawler.jobs")
STOPPED = "interrupted: the service was stopping; the job ended after the item it was on"
UNKNOWN_JOB_MAX_RUNTIME_S = 3600  # for runs of a job no longer in the registry


@dataclass(frozen=True)
class RunResult:
    run_id: int
    job_name: str
    outcome: RunOutcome
    summary: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime
    items_done: int | None = None
    items_failed: int | None = None


@dataclass(frozen=True)
class Ended:
    """How a run ended, before it is recorded."""

    outcome: RunOutcome
    summary: str | None = None
    error: str | None = None
    done: int | None = None
    failed: int | None = None


def run_job(ctx: JobContext, name: str, trigger: str = "schedule") -> RunResult:
    """Run `name` now and record it. Raises only UnknownJob, and KeyboardInterrupt or
    SystemExit when the process is being stopped (after recording the run `interrupted`)."""
    spec = registry.get(name)
    owner = Owner.current()
    started = ctx.clock()
    recover_interrupted(ctx.sessions, started, job=name)
    with session_scope(ctx.sessions) as session:
        record = TaskRun(job_name=name, trigger=trigger, started_at=started,
                         outcome=RunOutcome.RUNNING, heartbeat_at=started, **owner.columns())
        session.add(record)
        session.flush()
        run_id = record.id

    holder = locks.new_holder(owner)
    # Active until recorded: a stopping service waits for the record, not just the work.
    with ctx.active.running(ActiveRun(run_id, name, holder)):
        ended = _run_locked(ctx, spec, run_id, holder, owner, started)
        result = _finish(ctx, run_id, ended, started)
    alerts.after_run(ctx, result)  # R23: a job failed twice in a row
    return result


def _run_locked(ctx: JobContext, spec: registry.JobSpec, run_id: int, holder: str,
                owner: Owner, started: datetime) -> Ended:
    name = spec.name
    if not locks.acquire(ctx.sessions, name, holder, owner, started, spec.max_runtime_s):
        return Ended(RunOutcome.SKIPPED, f"skipped: {name} is already running "
                     f"({locks.holder_of(ctx.sessions, name)})")
    try:
        with Heartbeat(ctx.sessions, name, holder, run_id, ctx.clock), \
                notify.using(ctx.notifier):
            return _judged(ctx, spec.func(ctx))
    except JobStopped as exc:
        return Ended(RunOutcome.INTERRUPTED, exc.summary, STOPPED)
    except JobNotConfigured as exc:
        return Ended(RunOutcome.NOT_CONFIGURED, str(exc))
    except Exception as exc:  # one failing job never stops the others (R2)
        error = redact(f"{type(exc).__name__}: {exc}", ctx.settings.secret_values())
        log.debug("job %s raised", name, exc_info=True)
        # While the process stops, a failure is most likely the stop's doing.
        if ctx.stopping.is_set():
            return Ended(RunOutcome.INTERRUPTED, None, f"{STOPPED} ({error})")
        return Ended(RunOutcome.FAILED, None, error)
    except BaseException as exc:  # Ctrl-C or SIGTERM: record why, then keep stopping
        _record_stop(ctx, run_id, exc, started)
        raise
    finally:
        locks.release(ctx.sessions, name, holder)


def _judged(ctx: JobContext, result: JobReport | str) -> Ended:
    if isinstance(result, str):
        return Ended(RunOutcome.SUCCESS, result)
    error = result.error_text()
    if error is not None:
        error = redact(error, ctx.settings.secret_values())
    return Ended(result.outcome, result.summary, error, result.done, result.failed)


def _finish(ctx: JobContext, run_id: int, ended: Ended, started: datetime) -> RunResult:
    """Record how the run ended, unless the stopping service already recorded it
    `interrupted` (it gave up waiting for it): that record stands."""
    finished = ctx.clock()
    with session_scope(ctx.sessions) as session:
        session.execute(update(TaskRun).where(TaskRun.id == run_id,
                                              TaskRun.outcome == RunOutcome.RUNNING)
                        .values(finished_at=finished, outcome=ended.outcome,
                                summary=ended.summary, error=ended.error,
                                items_done=ended.done, items_failed=ended.failed))
    with session_scope(ctx.sessions) as session:
        record = session.get(TaskRun, run_id)
        result = RunResult(run_id, record.job_name, RunOutcome(record.outcome), record.summary,
                           record.error, started, record.finished_at or finished,
                           record.items_done, record.items_failed)
    level = logging.INFO if result.outcome in (RunOutcome.SUCCESS, RunOutcome.SKIPPED,
                                               RunOutcome.NOT_CONFIGURED) else logging.WARNING
    log.log(level, "job %s %s in %.1fs: %s", result.job_name, result.outcome,
            (finished - started).total_seconds(), result.error or result.summary or "")
    return result


def _record_stop(ctx: JobContext, run_id: int, exc: BaseException, started: datetime) -> None:
    try:
        _finish(ctx, run_id, Ended(
            RunOutcome.INTERRUPTED, None, f"interrupted: the process was stopped "
            f"({type(exc).__name__}) before the job finished"), started)
    except Exception as failure:  # the next start-up records it instead
        log.warning("could not record run %d as interrupted: %s", run_id, failure)


def abandon_active(ctx: JobContext, grace_s: float) -> list[str]:
    """Record as `interrupted` the runs still active after the stop's grace period and
    free their locks; their threads die with the process. Returns their jobs' names."""
    now = ctx.clock()
    names = []
    for run in ctx.active.now():
        with session_scope(ctx.sessions) as session:
            session.execute(update(TaskRun).where(TaskRun.id == run.run_id,
                                                  TaskRun.outcome == RunOutcome.RUNNING)
                            .values(outcome=RunOutcome.INTERRUPTED, finished_at=now,
                                    error=f"interrupted: the service stopped and the job did "
                                    f"not finish its current item within the {grace_s:g} s "
                                    "grace (SHUTDOWN_GRACE_S)"))
        locks.release(ctx.sessions, run.job_name, run.holder)
        log.warning("job %s (run %d) did not stop within %g s: recorded interrupted",
                    run.job_name, run.run_id, grace_s)
        names.append(run.job_name)
    return names


def recover_interrupted(sessions: sessionmaker[Session], now: datetime,
                        job: str | None = None) -> list[str]:
    """Record as `interrupted` every run left `running` by a process that is gone.

    Returns the names of their jobs. Only `job`'s runs when given.
    """
    here = Owner.current()
    found = []
    with session_scope(sessions) as session:
        query = select(TaskRun).where(TaskRun.outcome == RunOutcome.RUNNING)
        if job is not None:
            query = query.where(TaskRun.job_name == job)
        for run in session.scalars(query):
            reason = why_dead(run, now, here) or _older_than_max_runtime(run, now)
            if reason is None:
                continue
            run.outcome = RunOutcome.INTERRUPTED
            run.finished_at = run.heartbeat_at or run.started_at  # its last sign of life
            run.error = (f"interrupted: {reason}; the run never finished (found "
                         f"{now:%Y-%m-%d %H:%M:%S} UTC)")
            found.append(run.job_name)
            log.warning("job %s run %d was interrupted: %s", run.job_name, run.id, reason)
    return found


def _older_than_max_runtime(run: TaskRun, now: datetime) -> str | None:
    """For runs recorded before owners were: gone once older than the job may run."""
    if run.owner_host is not None:
        return None
    spec = registry.JOBS.get(run.job_name)
    limit = spec.max_runtime_s if spec else UNKNOWN_JOB_MAX_RUNTIME_S
    if now - run.started_at <= timedelta(seconds=limit):
        return None
    return (f"its process was not recorded and the run is older than the job's max runtime "
            f"({limit} s)")
