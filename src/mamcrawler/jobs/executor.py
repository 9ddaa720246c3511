"""The scheduler's executor: one daemon thread per run."""

from __future__ import annotations

import threading

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.base import run_job as run_scheduled


class DaemonThreadExecutor(BaseExecutor):
    """Runs each scheduled job in a daemon thread of its own: a job still busy when the
    stop's grace period is over must not keep the process alive, as the threads of
    APScheduler's default pool would (the interpreter waits for those at exit)."""

    def _do_submit_job(self, job, run_times) -> None:
        def work() -> None:
            try:
                events = run_scheduled(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)

        threading.Thread(target=work, name=f"job-{job.id}", daemon=True).start()
