"""The service's own records: job runs, locks, job settings, key/value state, requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class OwnedByProcess:
    """The process doing the work, so another process can tell a live owner from a dead one:
    its host, process id, a token that changes when the id is given to a new process, and
    when it last said it was alive. Rows written before 0006 have none of these."""

    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    owner_token: Mapped[str | None] = mapped_column(String(40))
    heartbeat_at: Mapped[datetime | None] = mapped_column()


class TaskRun(OwnedByProcess, Base):
    """One run of a scheduled or manual job (R1, R2); kept for the retention period."""

    __tablename__ = "task_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(50))
    # schedule, manual, api, restart (run again after an interrupted run)
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()
    # a RunOutcome: running, success, partial, failed, skipped, not_configured, interrupted
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # Items done and failed, for jobs that count them (a partial run's counts).
    items_done: Mapped[int | None] = mapped_column(Integer)
    items_failed: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("ix_task_runs_job_started", "job_name", "started_at"),)


class JobLock(OwnedByProcess, Base):
    """Held while a job runs, so two processes never run the same job at once."""

    __tablename__ = "job_locks"
    job_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()  # acquired_at + the job's max runtime


class SchedulerLease(OwnedByProcess, Base):
    """The one process that runs the schedule; the others serve the API and wait to
    take over when it stops renewing or dies (one row, name "scheduler")."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobSetting(Base):
    """Per-job switches a person sets through the API or CLI; they survive restarts."""

    __tablename__ = "job_settings"
    job_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    paused: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppState(Base):
    """Small named values the service keeps, such as the newest tracker session cookie."""

    __tablename__ = "app_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RequestLog(Base):
    """One request to a remote system (never with secrets); kept for the retention period."""

    __tablename__ = "request_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    system: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
