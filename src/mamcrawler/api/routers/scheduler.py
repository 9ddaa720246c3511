"""The schedule: list jobs, run one now, pause and resume one or all (R2, R20)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.jobs.scheduler import JobStatus
from mamcrawler.store.models import TaskRun

from ..deps import DbSession, PageParams, runtime
from ..envelope import Envelope, Page, ok

JobName = Annotated[str, Path(max_length=50, pattern=r"^[a-z_]+$")]


class RunOut(BaseModel):
    id: int
    job_name: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    summary: str | None
    error: str | None
    items_done: int | None = None  # for jobs that count their items: a partial run's counts
    items_failed: int | None = None

    model_config = {"from_attributes": True}


class JobOut(BaseModel):
    name: str
    description: str
    schedule: str
    paused: bool
    next_run: datetime | None
    last_run: RunOut | None


class SchedulerOut(BaseModel):
    running: bool
    leading: bool  # this process runs the schedule; False: another one does (see leader)
    leader: str  # which process runs the schedule
    autonomous: bool  # False when every job is paused
    jobs: list[JobOut]


def _job_out(status: JobStatus) -> JobOut:
    last = RunOut.model_validate(status.last_run) if status.last_run else None
    return JobOut(name=status.name, description=status.description, schedule=status.schedule,
                  paused=status.paused, next_run=status.next_run, last_run=last)


def scheduler_view(request: Request) -> SchedulerOut:
    sched = runtime(request).scheduler
    jobs = [_job_out(s) for s in sched.statuses()]
    return SchedulerOut(running=sched.running, leading=sched.leading, leader=sched.leader(),
                        autonomous=not all(j.paused for j in jobs), jobs=jobs)


router = APIRouter(prefix="/api/scheduler", tags=["scheduler"])


@router.get("/jobs", response_model=Envelope[SchedulerOut],
            summary="Every job with its schedule, next run and last outcome")
def list_jobs(request: Request):
    return ok(scheduler_view(request))


@router.get("/jobs/{name}", response_model=Envelope[JobOut], summary="One job")
def get_job(name: JobName, request: Request):
    from mamcrawler.jobs.registry import get

    get(name)
    return ok(next(j for j in scheduler_view(request).jobs if j.name == name))


@router.post("/jobs/{name}/run", response_model=Envelope[dict], status_code=202,
             summary="Run a job now, in the background; its run record shows the outcome")
def run_now(name: JobName, request: Request):
    runtime(request).scheduler.trigger(name, trigger="api")
    return ok({"job": name, "started": True})


@router.post("/jobs/{name}/pause", response_model=Envelope[JobOut], summary="Pause a job")
def pause(name: JobName, request: Request):
    runtime(request).scheduler.set_paused(name, True)
    return get_job(name, request)


@router.post("/jobs/{name}/resume", response_model=Envelope[JobOut], summary="Resume a job")
def resume(name: JobName, request: Request):
    runtime(request).scheduler.set_paused(name, False)
    return get_job(name, request)


@router.get("/runs", response_model=Envelope[Page[RunOut]], summary="Job run history")
def runs(session: DbSession, page: PageParams,
         job: Annotated[str | None, Query(max_length=50, pattern=r"^[a-z_]+$")] = None,
         outcome: RunOutcome | None = None):
    where = []
    if job:
        where.append(TaskRun.job_name == job)
    if outcome:
        where.append(TaskRun.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(TaskRun).where(*where))
    rows = session.scalars(select(TaskRun).where(*where).order_by(TaskRun.id.desc())
                           .limit(page.limit).offset(page.offset))
    return ok(Page(items=[RunOut.model_validate(r) for r in rows], total=total or 0,
                   limit=page.limit, offset=page.offset))
