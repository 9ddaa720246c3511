"""Run one job: take its lock, record the run, never let an exception escape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.logs import redact
from mamcrawler.services import notify
from mamcrawler.store import locks
from mamcrawler.store.db import session_scope
from mamcrawler.store.liveness import Heartbeat, Owner, why_dead
from mamcrawler.store.models import TaskRun

from . import alerts, registry
from .context import JobContext, JobNotConfigured

log = logging.getLogger("mamcrawler.jobs")
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
    summary = error = None
    if not locks.acquire(ctx.sessions, name, holder, owner, started, spec.max_runtime_s):
        outcome = RunOutcome.SKIPPED
        summary = f"skipped: {name} is already running ({locks.holder_of(ctx.sessions, name)})"
    else:
        try:
            with Heartbeat(ctx.sessions, name, holder, run_id, ctx.clock), \
                    notify.using(ctx.notifier):
                summary = spec.func(ctx)
            outcome = RunOutcome.SUCCESS
        except JobNotConfigured as exc:
            outcome, summary = RunOutcome.NOT_CONFIGURED, str(exc)
        except Exception as exc:  # one failing job never stops the others (R2)
            outcome = RunOutcome.FAILED
            error = redact(f"{type(exc).__name__}: {exc}", ctx.settings.secret_values())
            log.debug("job %s raised", name, exc_info=True)
        except BaseException as exc:  # Ctrl-C or SIGTERM: record why, then keep stopping
            _record_stop(ctx, run_id, exc, started)
            raise
        finally:
            locks.release(ctx.sessions, name, holder)
    result = _finish(ctx, run_id, outcome, summary, error, started)
    alerts.after_run(ctx, result)  # R23: a job failed twice in a row
    return result


def _finish(ctx: JobContext, run_id: int, outcome: RunOutcome, summary: str | None,
            error: str | None, started: datetime) -> RunResult:
    finished = ctx.clock()
    with session_scope(ctx.sessions) as session:
        record = session.get(TaskRun, run_id)
        record.finished_at, record.outcome = finished, outcome
        record.summary, record.error = summary, error
        name = record.job_name
    level = logging.INFO if outcome in (RunOutcome.SUCCESS, RunOutcome.SKIPPED,
                                        RunOutcome.NOT_CONFIGURED) else logging.WARNING
    log.log(level, "job %s %s in %.1fs: %s", name, outcome,
            (finished - started).total_seconds(), error or summary or "")
    return RunResult(run_id, name, outcome, summary, error, started, finished)


def _record_stop(ctx: JobContext, run_id: int, exc: BaseException, started: datetime) -> None:
    try:
        _finish(ctx, run_id, RunOutcome.INTERRUPTED, None,
                f"interrupted: the process was stopped ({type(exc).__name__}) before the job "
                "finished", started)
    except Exception as failure:  # the next start-up records it instead
        log.warning("could not record run %d as interrupted: %s", run_id, failure)


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
