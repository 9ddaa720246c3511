"""Builds the running service from settings: database, job context, scheduler, API key."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler import service_state
from mamcrawler.config import Settings, prepare_data_dir
from mamcrawler.database import DatabaseNotReady, database_setting, open_database
from mamcrawler.demo import start_demo_tracker
from mamcrawler.demo.world import DemoStopped, DemoWorld
from mamcrawler.jobs.context import JobContext
from mamcrawler.jobs.runner import recover_interrupted
from mamcrawler.jobs.scheduler import JobScheduler
from mamcrawler.policies import Policies
from mamcrawler.service_state import RunningService
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import make_session_factory
from mamcrawler.store.secret_file import read_or_create

log = logging.getLogger("mamcrawler")


# In the tracker-only demo nothing but the simulator is connected.
DEMO_DETACHED = {"qb_host": None, "abs_url": None, "prowlarr_url": None, "library_dir": None,
                 "download_dir": None}


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    scheduler: JobScheduler
    api_key: str
    api_key_file: Path | None  # set when the key was generated, not configured
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    # Serving in demo mode: starting, ready or simulator only (service_state); else None.
    demo_world: str | None = None
    serving: bool = False
    _world_thread: threading.Thread | None = field(default=None, repr=False)
    _scheduler_wanted: bool = field(default=False, repr=False)
    _closed: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(cls, settings: Settings, *, upgrade_db: bool = True, serving: bool = False,
              attach: RunningService | None = None) -> Runtime:
        """The runtime for `settings`. Raises ConfigError or DatabaseProblem when DATA_DIR
        or the database can't be used.

        In demo mode the jobs use the tracker simulator. `serving` (what `serve` asks for)
        launches the full demo, a local swarm with generated books, and builds it in the
        background: the runtime is returned at once with `demo_world` "starting", and the
        scheduler starts when the world is ready (falling back to the simulator alone when
        tools are missing). `attach`, a running serve, lends its simulator and demo world.
        Otherwise this process starts a simulator of its own.
        """
        prepare_data_dir(settings)
        if not settings.is_demo:
            rt = cls._build(settings, upgrade_db, live_tracker(settings), serving=serving)
            if serving:
                service_state.publish(settings, None)
            return rt
        # The simulator's torrents must never reach the person's real systems.
        detached = settings.model_copy(update=DEMO_DETACHED)
        if attach is not None and attach.tracker is not None:
            return cls._build(attach.settings_for(detached), upgrade_db, attach.tracker)
        if not serving:
            tracker, stop = start_demo_tracker()
            try:
                return cls._build(detached, upgrade_db, tracker, stoppers=[stop])
            except BaseException:
                stop()
                raise
        world = DemoWorld.launch(settings)  # first: spawns while no other thread runs
        try:
            rt = cls._build(detached, upgrade_db, None, stoppers=[world.stop], serving=True)
        except BaseException:
            world.stop()
            raise
        rt._finish_world_in_background(world)
        return rt

    @classmethod
    def _build(cls, settings: Settings, upgrade_db: bool, tracker: TrackerEndpoint | None,
               stoppers: list[Callable[[], None]] | None = None,
               serving: bool = False) -> Runtime:
        engine = open_database(settings, upgrade=upgrade_db)
        sessions = make_session_factory(engine)
        # Runs left `running` by a killed process; the scheduler runs those jobs again.
        recover_interrupted(sessions, datetime.now(UTC))
        ctx = JobContext(settings=settings, sessions=sessions, tracker=tracker,
                         policies=Policies.from_settings(settings))
        scheduler = JobScheduler(ctx)
        key, key_file = api_key_for(settings)
        return cls(settings, engine, sessions, scheduler, key, key_file, list(stoppers or []),
                   serving=serving)

    def _finish_world_in_background(self, world: DemoWorld) -> None:
        self.demo_world = service_state.STARTING
        self.scheduler.hold()  # "run now" waits for the world instead of finding no tracker
        service_state.publish(self.settings, service_state.STARTING)
        self._world_thread = threading.Thread(target=self._finish_world, args=(world,),
                                              name="demo-world", daemon=True)
        self._world_thread.start()

    def _finish_world(self, world: DemoWorld) -> None:
        try:
            world.finish()
        except DemoStopped:
            return
        except Exception:  # never seen; the service keeps answering and says so
            log.exception("DEMO: the demo world did not start")
            with self._lock:
                self.demo_world = "failed"
                if self._scheduler_wanted and not self._closed:
                    self.scheduler.start()
            return
        status = service_state.READY if world.full else service_state.SIMULATOR_ONLY
        update = DEMO_DETACHED | world.settings_update
        settings = self.settings.model_copy(update=world.settings_update)
        with self._lock:
            if self._closed:
                return
            self.scheduler.retarget(settings, world.tracker)
            self.settings, self.demo_world = settings, status
            service_state.publish(settings, status, world.tracker, update)
            if self._scheduler_wanted:
                self.scheduler.start()
        log.info("DEMO: the demo world is %s", status)
        world.welcome(self.sessions, self.scheduler)

    @property
    def policies(self) -> Policies:
        """The policies every job and report uses, built once from the settings."""
        return self.scheduler.ctx.policies

    def start_scheduler(self) -> None:
        """Start the scheduler now, or once the demo world is ready."""
        with self._lock:
            self._scheduler_wanted = True
            if self.demo_world != service_state.STARTING and not self._closed:
                self.scheduler.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.scheduler.shutdown()
        self.scheduler.ctx.clients.close()
        for stop in self.stoppers:
            stop()
        if self._world_thread is not None:
            self._world_thread.join(timeout=30)
        if self.serving:
            service_state.withdraw(self.settings)
        self.engine.dispose()


def live_tracker(settings: Settings) -> TrackerEndpoint | None:
    """The real tracker when a session is configured and not in demo mode."""
    if settings.is_demo or settings.mam_id is None:
        return None
    return TrackerEndpoint(settings.mam_url, settings.mam_id.get_secret_value(),
                           settings.mam_min_interval_s, shared_dir=settings.data_dir)


def api_key_for(settings: Settings) -> tuple[str, Path | None]:
    """The configured API key, else one generated once into DATA_DIR/api_key (never .env)."""
    if settings.api_key and settings.api_key.get_secret_value():
        return settings.api_key.get_secret_value(), None
    path = settings.data_dir / "api_key"
    key, created = read_or_create(path, lambda: secrets.token_urlsafe(32))
    if created:
        log.info("generated an API key into %s", path)
    return key, path


__all__ = ["DatabaseNotReady", "Runtime", "api_key_for", "database_setting", "live_tracker",
           "open_database"]
