"""APScheduler wiring: every job in the registry on its configured schedule (R2)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from mamcrawler.config import Settings, parse_schedule
from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.policies import Policies
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import JobSetting, TaskRun

from . import registry
from .context import JobContext
from .runner import run_job

log = logging.getLogger("mamcrawler.scheduler")
RESTART = "restart"  # the trigger of a run started because the last one was interrupted


@dataclass(frozen=True)
class JobStatus:
    name: str
    description: str
    schedule: str
    paused: bool
    next_run: datetime | None
    last_run: TaskRun | None


def make_trigger(schedule: str, timezone):
    kind, value = parse_schedule(schedule)
    if kind == "every":
        return IntervalTrigger(seconds=value, timezone=timezone)
    return CronTrigger.from_crontab(schedule, timezone=timezone)


class JobScheduler:
    """Owns the APScheduler instance; pause state lives in the database."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._sched = self._new_scheduler()
        self._held: list[tuple[str, str]] | None = None  # triggers waiting for start()

    def _new_scheduler(self) -> BackgroundScheduler:
        sched = BackgroundScheduler(
            timezone=self.ctx.settings.timezone or None,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        )
        for spec in registry.JOBS.values():
            sched.add_job(
                run_job, make_trigger(self.schedule_of(spec), sched.timezone),
                args=(self.ctx, spec.name, "schedule"), id=spec.name, name=spec.name,
            )
        for name in self._paused_names():
            sched.pause_job(name)
        return sched

    def hold(self) -> None:
        """Until start(), jobs triggered now wait for it instead of running at once."""
        if self._held is None:
            self._held = []

    def retarget(self, settings: Settings, tracker: TrackerEndpoint | None) -> None:
        """Run the jobs with new settings and tracker (the demo world's, once it is ready).
        Only before start()."""
        if self.running:
            raise RuntimeError("retarget() is for a scheduler that has not started")
        self.ctx.clients.close()  # built for the old settings
        self.ctx.settings, self.ctx.tracker = settings, tracker
        self.ctx.policies = Policies.from_settings(settings)
        self._sched = self._new_scheduler()

    def schedule_of(self, spec: registry.JobSpec) -> str:
        return self.ctx.settings.schedule_for(spec.name) or spec.default_schedule

    @property
    def running(self) -> bool:
        return self._sched.running

    def start(self) -> None:
        self._sched.start()
        log.info("scheduler started with %d jobs", len(registry.JOBS))
        for name in self.interrupted_jobs():
            log.info("job %s was interrupted last time; running it again now", name)
            self.trigger(name, trigger=RESTART)
        held, self._held = self._held or [], None
        for name, trigger in held:
            self.trigger(name, trigger)

    def interrupted_jobs(self) -> list[str]:
        """Jobs, not paused, whose last run was interrupted (not itself a re-run, so a job
        that kills the process is not started again at every restart)."""
        paused = self._paused_names()
        return [name for name, run in self._last_runs().items()
                if name in registry.JOBS and name not in paused
                and run.outcome == RunOutcome.INTERRUPTED and run.trigger != RESTART]

    def shutdown(self) -> None:
        if self._sched.running:
            self._sched.shutdown(wait=False)

    def trigger(self, name: str, trigger: str = "api") -> None:
        """Run `name` now in the background; its run record shows the outcome."""
        registry.get(name)
        if self._sched.running:
            self._sched.add_job(run_job, args=(self.ctx, name, trigger),
                                id=f"{name}-now-{uuid.uuid4().hex[:6]}", name=name)
        elif self._held is not None:
            self._held.append((name, trigger))
            log.info("job %s runs when the scheduler starts", name)
        else:
            threading.Thread(target=run_job, args=(self.ctx, name, trigger), daemon=True).start()

    def set_paused(self, name: str, paused: bool) -> None:
        registry.get(name)
        with session_scope(self.ctx.sessions) as session:
            setting = session.get(JobSetting, name) or JobSetting(job_name=name)
            setting.paused = paused
            session.add(setting)
        (self._sched.pause_job if paused else self._sched.resume_job)(name)
        log.info("job %s %s", name, "paused" if paused else "resumed")

    def set_all_paused(self, paused: bool) -> None:
        for name in registry.JOBS:
            self.set_paused(name, paused)

    def statuses(self) -> list[JobStatus]:
        paused = self._paused_names()
        last = self._last_runs()
        out = []
        for spec in registry.JOBS.values():
            job = self._sched.get_job(spec.name)
            next_run = None if spec.name in paused else _next_run(job, self._sched.running)
            out.append(JobStatus(spec.name, spec.description,
                                 self.schedule_of(spec), spec.name in paused,
                                 next_run, last.get(spec.name)))
        return out

    def _paused_names(self) -> set[str]:
        with session_scope(self.ctx.sessions) as session:
            rows = session.scalars(select(JobSetting.job_name).where(JobSetting.paused))
            return set(rows)

    def _last_runs(self) -> dict[str, TaskRun]:
        with session_scope(self.ctx.sessions) as session:
            latest = select(func.max(TaskRun.id)).group_by(TaskRun.job_name)
            runs = session.scalars(select(TaskRun).where(TaskRun.id.in_(latest)))
            return {r.job_name: r for r in runs}


def _next_run(job, running: bool) -> datetime | None:
    if job is None:
        return None
    if running:
        return job.next_run_time
    # Before start APScheduler has not computed it; ask the trigger.
    return job.trigger.get_next_fire_time(None, datetime.now(job.trigger.timezone))


def job_statuses(settings: Settings, sessions) -> list[JobStatus]:
    """Every job's schedule, pause, next and last run, read from the database. Starts
    nothing: no scheduler, and in demo mode no simulator."""
    return JobScheduler(JobContext(settings=settings, sessions=sessions)).statuses()
