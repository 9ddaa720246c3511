"""Health (no key needed), service status and the autonomous on/off switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mamcrawler import __version__
from mamcrawler.services.write_probe import write_problem

from ..deps import runtime
from ..envelope import Envelope, ok
from .scheduler import SchedulerOut, scheduler_view

health_router = APIRouter(tags=["system"])
router = APIRouter(prefix="/api/system", tags=["system"])


class Health(BaseModel):
    status: str  # ok or degraded
    version: str
    demo: bool
    # Demo mode: "starting" while the demo world is built (the API answers meanwhile),
    # then "ready", or "simulator only" without the tools; null when not in demo mode.
    demo_world: str | None
    database: str
    scheduler: str  # running (this process runs the schedule), standby, waiting (for the
    # demo world) or stopped
    scheduler_leader: str  # which process runs the schedule
    storage: str  # ok, or what cannot be written (a full or read-only disk)


class SystemStatus(BaseModel):
    version: str
    demo: bool
    demo_world: str | None  # as in /health
    database_backend: str
    database: str  # location without credentials
    scheduler_running: bool
    scheduler_leading: bool
    scheduler_leader: str
    autonomous: bool
    warnings: list[str]


def _database_ok(request: Request) -> bool:
    try:
        with runtime(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@health_router.get("/health", response_model=Envelope[Health], summary="Liveness, no key")
def health(request: Request):
    rt = runtime(request)
    db_ok = _database_ok(request)
    unwritable = write_problem(rt.settings)  # a full or read-only disk: reads still work
    return ok(Health(status="ok" if db_ok and not unwritable else "degraded", version=__version__,
                     demo=rt.settings.is_demo, demo_world=_demo_world(rt),
                     database="ok" if db_ok else "unreachable",
                     scheduler=_scheduler_state(rt), scheduler_leader=rt.scheduler.leader(),
                     storage=unwritable or "ok"))


def _demo_world(rt) -> str | None:
    if not rt.settings.is_demo:
        return None
    return rt.demo_world or "simulator only"


def _scheduler_state(rt) -> str:
    if rt.scheduler.leading:
        return "running"
    if rt.scheduler.running:
        return "standby"
    return "waiting" if rt.demo_world == "starting" else "stopped"


@router.get("/status", response_model=Envelope[SystemStatus], summary="Service status")
def status(request: Request):
    rt = runtime(request)
    url = make_url(rt.settings.effective_database_url)
    return ok(SystemStatus(
        version=__version__, demo=rt.settings.is_demo, demo_world=_demo_world(rt),
        database_backend=url.get_backend_name(),
        database=url.render_as_string(hide_password=True), scheduler_running=rt.scheduler.running,
        scheduler_leading=rt.scheduler.leading, scheduler_leader=rt.scheduler.leader(),
        autonomous=scheduler_view(request).autonomous, warnings=rt.settings.startup_warnings(),
    ))


@router.post("/autonomous/start", response_model=Envelope[SchedulerOut],
             summary="Resume every job")
def autonomous_start(request: Request):
    runtime(request).scheduler.set_all_paused(False)
    return ok(scheduler_view(request))


@router.post("/autonomous/stop", response_model=Envelope[SchedulerOut],
             summary="Pause every job (running ones finish)")
def autonomous_stop(request: Request):
    runtime(request).scheduler.set_all_paused(True)
    return ok(scheduler_view(request))
