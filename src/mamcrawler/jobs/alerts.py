"""What the runner tells the person after a run (R23)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from mamcrawler import metrics
from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.services import notify
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import TaskRun

from .context import JobContext

log = logging.getLogger("mamcrawler.jobs")


def after_run(ctx: JobContext, result) -> None:
    """Count the run for /metrics. A failed run right after a failed run of the same job
    (skips in between don't count) is worth a notice; one failure may be a hiccup."""
    metrics.job_finished(result.job_name, str(result.outcome),
                         (result.finished_at - result.started_at).total_seconds())
    if result.outcome != RunOutcome.FAILED:
        return
    try:
        with session_scope(ctx.sessions) as session:
            before = session.scalar(
                select(TaskRun.outcome).where(
                    TaskRun.job_name == result.job_name, TaskRun.id < result.run_id,
                    TaskRun.outcome.not_in((RunOutcome.SKIPPED, RunOutcome.RUNNING)))
                .order_by(TaskRun.id.desc()).limit(1))
    except Exception:  # the run is recorded; a notice is not worth failing over
        log.warning("could not check %s's previous run for a notice", result.job_name)
        return
    if before == RunOutcome.FAILED:
        notify.job_failed_twice(result.job_name, result.error, ctx.notifier)
