"""Builds the running service from settings: database, job context, scheduler, API key."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.config import Settings, prepare_data_dir
from mamcrawler.demo import start_demo_tracker
from mamcrawler.demo.world import DemoWorld
from mamcrawler.jobs.context import JobContext
from mamcrawler.jobs.runner import recover_interrupted
from mamcrawler.jobs.scheduler import JobScheduler
from mamcrawler.policies import Policies
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store import migrate, problems
from mamcrawler.store.db import make_session_factory
from mamcrawler.store.problems import DatabaseProblem

log = logging.getLogger("mamcrawler")


# In the tracker-only demo nothing but the simulator is connected.
DEMO_DETACHED = {"qb_host": None, "abs_url": None, "prowlarr_url": None, "library_dir": None,
                 "download_dir": None}


class DatabaseNotReady(DatabaseProblem):
    """The database schema is older than this program."""


def database_setting(settings: Settings) -> str:
    """The variable that chose the database, for messages."""
    return "DATABASE_URL" if settings.database_url and not settings.is_demo else "DATA_DIR"


def open_database(settings: Settings, *, upgrade: bool = True) -> Engine:
    """The configured database with its schema brought up to date (or, with `upgrade`
    False, checked to be). Raises ConfigError or DatabaseProblem, whose message names the
    variable or file at fault and the fix."""
    prepare_data_dir(settings)
    setting = database_setting(settings)
    engine = problems.open_database(settings.effective_database_url, setting)
    try:
        if upgrade:
            migrate.upgrade(engine, setting=setting)
        elif not migrate.is_current(engine):
            raise DatabaseNotReady(
                "the database schema is not up to date.\n  Fix: run `mamcrawler db upgrade`.")
    except BaseException:
        engine.dispose()
        raise
    return engine


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    scheduler: JobScheduler
    api_key: str
    api_key_file: Path | None  # set when the key was generated, not configured
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, *, upgrade_db: bool = True,
              demo_world: bool = False) -> Runtime:
        """The runtime for `settings`. In demo mode `demo_world` (what `serve` asks for)
        starts the full demo, a local swarm with generated books, instead of only the
        tracker simulator; it falls back to the simulator alone when tools are missing.
        Raises ConfigError or DatabaseProblem when DATA_DIR or the database can't be used."""
        prepare_data_dir(settings)
        if not (demo_world and settings.is_demo):
            return cls._build(settings, upgrade_db, None)
        world = DemoWorld.start(settings)
        try:
            rt = cls._build(settings.model_copy(update=world.settings_update), upgrade_db, world)
            world.welcome(rt.sessions, rt.scheduler)
            return rt
        except BaseException:
            world.stop()
            raise

    @classmethod
    def _build(cls, settings: Settings, upgrade_db: bool, world: DemoWorld | None) -> Runtime:
        engine = open_database(settings, upgrade=upgrade_db)
        sessions = make_session_factory(engine)
        # Runs left `running` by a killed process; the scheduler runs those jobs again.
        recover_interrupted(sessions, datetime.now(UTC))
        tracker, stoppers = live_tracker(settings), []
        if world is not None:
            tracker = world.tracker
            stoppers.append(world.stop)
        elif settings.is_demo:
            tracker, stop = start_demo_tracker()
            stoppers.append(stop)
            # The simulator's torrents must never reach the person's real systems.
            settings = settings.model_copy(update=DEMO_DETACHED)
        ctx = JobContext(settings=settings, sessions=sessions, tracker=tracker,
                         policies=Policies.from_settings(settings))
        scheduler = JobScheduler(ctx)
        key, key_file = api_key_for(settings)
        return cls(settings, engine, sessions, scheduler, key, key_file, stoppers)

    @property
    def policies(self) -> Policies:
        """The policies every job and report uses, built once from the settings."""
        return self.scheduler.ctx.policies

    def close(self) -> None:
        self.scheduler.shutdown()
        self.scheduler.ctx.clients.close()
        for stop in self.stoppers:
            stop()
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
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip(), path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.info("generated an API key into %s", path)
    return key, path
