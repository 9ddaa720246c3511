"""APScheduler wiring: every job in the registry on its configured schedule (R2).

Only one process runs the schedule at a time: the one holding the scheduler lease in the
database (store.lease). Every `serve` process starts its scheduler paused and claims the
lease every LEASE_TICK_S; the holder runs the schedule, the others serve the API and take
over when the holder stops or dies. Stopping sets the jobs' stop signal, waits up to
SHUTDOWN_GRACE_S for running jobs to finish their current item, records the rest
`interrupted`, and gives the lease up.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from mamcrawler.config import Settings, parse_schedule
from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.policies import Policies
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store import lease, locks
from mamcrawler.store.db import session_scope
from mamcrawler.store.liveness import LEASE_S, Owner, why_dead
from mamcrawler.store.models import JobSetting, SchedulerLease, TaskRun

from . import catch_up, registry
from .context import JobContext
from .executor import DaemonThreadExecutor
from .runner import abandon_active, recover_interrupted, run_job

log = logging.getLogger("mamcrawler.scheduler")
RESTART = "restart"  # the trigger of a run started because the last one was interrupted
LEASE_TICK_S = 5.0  # how often the leader renews the lease and the others look at it
SUCCEEDED = (RunOutcome.SUCCESS, RunOutcome.PARTIAL)  # runs that did their work


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
        self._owner = Owner.current()
        self._holder = locks.new_holder(self._owner)
        self._lock = threading.RLock()
        self._leading = self._stopped = False
        self._renewed: datetime | None = None
        self._leader: str | None = None
        self._ticker = threading.Thread(target=self._tick_until_stopped, name="scheduler-lease",
                                        daemon=True)
        self._stop_ticking = threading.Event()

    def _new_scheduler(self) -> BackgroundScheduler:
        sched = BackgroundScheduler(
            timezone=self.ctx.settings.timezone or None,
            executors={"default": DaemonThreadExecutor()},
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
        """Started and not stopped (leading or following)."""
        return self._sched.running and not self._stopped

    @property
    def leading(self) -> bool:
        """This process runs the schedule."""
        return self.running and self._leading

    def leader(self) -> str:
        """Which process runs the schedule, for status pages. While started, as the last
        look at the lease saw it (no database access: /health must answer without one)."""
        if self.leading:
            return f"this process ({self._owner})"
        if self.running:
            return self._leader or "none (not known yet)"
        return describe_leader(self.ctx.sessions, self.ctx.clock())

    def start(self) -> None:
        """Start following; lead at once when no live process holds the lease."""
        self._sched.start(paused=True)
        log.info("scheduler started with %d jobs", len(registry.JOBS))
        self._tick()
        if not self._leading:
            log.info("scheduler: %s runs the schedule; this process serves the API and "
                     "takes over if it stops", self._leader)
            self._run_held()  # asked of this process before it started: run them here
        self._ticker.start()

    def _tick_until_stopped(self) -> None:
        while not self._stop_ticking.wait(LEASE_TICK_S):
            self._tick()

    def _tick(self) -> None:
        with self._lock:
            if self._stopped:
                return
            now = self.ctx.clock()
            try:
                state = lease.claim(self.ctx.sessions, self._holder, self._owner, now)
            except Exception as exc:  # the database is unreachable: try again next tick
                log.warning("scheduler: could not renew the lease: %s", exc)
                if self._leading and (now - self._renewed).total_seconds() > LEASE_S / 2:
                    self._step_down("the lease could not be renewed; another process may "
                                    "take over")
                return
            self._leader = state.leader
            if state.leading:
                self._renewed = now
                if not self._leading:
                    self._lead()
                self._apply_pauses()
            elif self._leading:
                self._step_down(f"{state.leader} holds the lease now")

    def _lead(self) -> None:
        self._leading = True
        log.info("scheduler: this process (%s) runs the schedule", self._owner)
        self._apply_pauses()
        self._sched.resume()
        # Taking over from a leader that died mid-job: its run is interrupted, run it again.
        recover_interrupted(self.ctx.sessions, self.ctx.clock())
        restarted = self.interrupted_jobs()
        for name in restarted:
            log.info("job %s was interrupted last time; running it again now", name)
            self.trigger(name, trigger=RESTART)
        self._run_held()
        self._catch_up(skip=set(restarted))

    def _run_held(self) -> None:
        held, self._held = self._held or [], None
        for name, trigger in held:
            self.trigger(name, trigger)

    def _step_down(self, why: str) -> None:
        self._leading = False
        self._sched.pause()
        log.warning("scheduler: this process stops running the schedule: %s", why)

    def _catch_up(self, skip: set[str]) -> None:
        now = self.ctx.clock()
        paused, last = self._paused_names(), self._last_successes()
        due = [name for name in registry.JOBS if name not in paused and name not in skip
               and catch_up.missed(self.schedule_of(registry.JOBS[name]), last.get(name), now,
                                   self._sched.timezone)]
        regular = {name: getattr(self._sched.get_job(name), "next_run_time", None)
                   for name in due}
        for name, at in catch_up.plan(due, now, regular):
            when = f"{last[name]:%Y-%m-%d %H:%M} UTC" if name in last else "never"
            log.info("job %s missed a scheduled run (last success: %s); running it at %s",
                     name, when, f"{at:%H:%M:%S}")
            self._sched.add_job(run_job, "date", run_date=at,
                                args=(self.ctx, name, catch_up.CATCH_UP),
                                id=f"{name}-catch-up", name=name, replace_existing=True)

    def _apply_pauses(self) -> None:
        """Pauses set through another process's API reach the leader here."""
        paused = self._paused_names()
        for name in registry.JOBS:
            job = self._sched.get_job(name)
            if job is None:
                continue
            if name in paused and job.next_run_time is not None:
                self._sched.pause_job(name)
            elif name not in paused and job.next_run_time is None:
                self._sched.resume_job(name)

    def interrupted_jobs(self) -> list[str]:
        """Jobs, not paused, whose last run was interrupted (not itself a re-run, so a job
        that kills the process is not started again at every restart)."""
        paused = self._paused_names()
        return [name for name, run in self._last_runs().items()
                if name in registry.JOBS and name not in paused
                and run.outcome == RunOutcome.INTERRUPTED and run.trigger != RESTART]

    def shutdown(self) -> None:
        """Stop scheduling; let running jobs finish their current item within
        SHUTDOWN_GRACE_S, record those that did not `interrupted`; give the lease up."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self.ctx.stopping.set()
            self._stop_ticking.set()
            if self._sched.running:
                self._sched.shutdown(wait=False)
        grace = self.ctx.settings.shutdown_grace_s
        if not self.ctx.active.wait_idle(grace):
            abandon_active(self.ctx, grace)
        if self._leading:
            try:
                lease.release(self.ctx.sessions, self._holder)
            except Exception as exc:  # the others take over once the lease is stale
                log.warning("scheduler: could not give the lease up: %s", exc)
            self._leading = False

    def trigger(self, name: str, trigger: str = "api") -> None:
        """Run `name` now in the background; its run record shows the outcome."""
        registry.get(name)
        if self.leading:
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
            next_run = None if spec.name in paused else _next_run(job, self.leading)
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

    def _last_successes(self) -> dict[str, datetime]:
        with session_scope(self.ctx.sessions) as session:
            rows = session.execute(select(TaskRun.job_name, func.max(TaskRun.started_at))
                                   .where(TaskRun.outcome.in_(SUCCEEDED))
                                   .group_by(TaskRun.job_name))
            return {name: _aware(at) for name, at in rows}


def describe_leader(sessions, now: datetime) -> str:
    """Which process holds the scheduler lease, as another process sees it."""
    with session_scope(sessions) as session:
        row = session.get(SchedulerLease, lease.NAME)
        if row is None:
            return "none (no `serve` process is running the schedule)"
        gone = why_dead(row, now)
        if gone:
            return f"none ({gone}; the next `serve` takes over)"
        age = (now - row.heartbeat_at).total_seconds() if row.heartbeat_at else None
        renewed = f", lease renewed {max(0.0, age):.0f} s ago" if age is not None else ""
        return f"process {row.owner_pid} on {row.owner_host}{renewed}"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _next_run(job, leading: bool) -> datetime | None:
    if job is None:
        return None
    if leading:
        return job.next_run_time
    # Before start, or while another process leads, APScheduler has not computed it (or
    # not lately); ask the trigger.
    return job.trigger.get_next_fire_time(None, datetime.now(job.trigger.timezone))


def job_statuses(settings: Settings, sessions) -> list[JobStatus]:
    """Every job's schedule, pause, next and last run, read from the database. Starts
    nothing: no scheduler, and in demo mode no simulator."""
    return JobScheduler(JobContext(settings=settings, sessions=sessions)).statuses()
