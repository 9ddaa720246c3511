"""Run one job: take its lock, record the run, never let an exception escape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from mamcrawler.logs import redact
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import TaskRun

from . import locks, registry
from .context import JobContext, JobNotConfigured

log = logging.getLogger("mamcrawler.jobs")


@dataclass(frozen=True)
class RunResult:
    run_id: int
    job_name: str
    outcome: str  # success, failed, skipped, not_configured
    summary: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime


def run_job(ctx: JobContext, name: str, trigger: str = "schedule") -> RunResult:
    """Run `name` now and record it. Raises only UnknownJob."""
    spec = registry.get(name)
    started = ctx.clock()
    with session_scope(ctx.sessions) as session:
        record = TaskRun(job_name=name, trigger=trigger, started_at=started, outcome="running")
        session.add(record)
        session.flush()
        run_id = record.id

    holder = locks.new_holder()
    summary = error = None
    if not locks.acquire(ctx.sessions, name, holder, started, spec.max_runtime_s):
        outcome = "skipped"
        summary = f"skipped: {name} is already running ({locks.holder_of(ctx.sessions, name)})"
    else:
        try:
            summary = spec.func(ctx)
            outcome = "success"
        except JobNotConfigured as exc:
            outcome, summary = "not_configured", str(exc)
        except Exception as exc:  # one failing job never stops the others (R2)
            outcome = "failed"
            error = redact(f"{type(exc).__name__}: {exc}", ctx.settings.secret_values())
            log.debug("job %s raised", name, exc_info=True)
        finally:
            locks.release(ctx.sessions, name, holder)

    finished = ctx.clock()
    with session_scope(ctx.sessions) as session:
        record = session.get(TaskRun, run_id)
        record.finished_at, record.outcome = finished, outcome
        record.summary, record.error = summary, error
    level = logging.WARNING if outcome == "failed" else logging.INFO
    log.log(level, "job %s %s in %.1fs: %s", name, outcome,
            (finished - started).total_seconds(), error or summary or "")
    return RunResult(run_id, name, outcome, summary, error, started, finished)
