"""A database lock per job, so two processes never run the same job at once (R2).

Works on SQLite and PostgreSQL alike: the lock is a row whose primary key is the job name,
so only one INSERT can win. The row names the process holding it (see `liveness`), so a
lock whose holder was killed is taken over at once instead of blocking the job until it
expires. A lock held past the job's max runtime is taken over too (a hung job), as is one
written before holders were recorded once it expires.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.store.db import session_scope
from mamcrawler.store.models import JobLock

from .liveness import Owner, why_dead

log = logging.getLogger("mamcrawler.jobs")


def new_holder(owner: Owner) -> str:
    """A name for one holding of a lock; threads of one process get different ones."""
    return f"{owner.host}:{owner.pid}:{uuid.uuid4().hex[:8]}"


def acquire(sessions: sessionmaker[Session], job: str, holder: str, owner: Owner,
            now: datetime, max_runtime_s: int) -> bool:
    """Take the lock for `job`; False when a live holder has it."""
    with session_scope(sessions) as session:
        lock = session.get(JobLock, job)
        reason = abandoned(lock, now, owner) if lock else None
        if lock is not None and reason:
            session.execute(delete(JobLock).where(JobLock.job_name == job,
                                                  JobLock.holder == lock.holder))
            log.warning("job %s: taking over the lock of %s: %s", job, lock.holder, reason)
    try:
        with session_scope(sessions) as session:
            session.add(JobLock(job_name=job, holder=holder, acquired_at=now, heartbeat_at=now,
                                expires_at=now + timedelta(seconds=max_runtime_s),
                                **owner.columns()))
        return True
    except IntegrityError:
        return False


def abandoned(lock: JobLock, now: datetime, here: Owner | None = None) -> str | None:
    """Why `lock` may be taken over, or None while its holder may still be working."""
    if lock.expires_at < now:
        return f"held since {lock.acquired_at:%Y-%m-%d %H:%M:%S} UTC, past the job's max runtime"
    return why_dead(lock, now, here)


def holder_of(sessions: sessionmaker[Session], job: str) -> str | None:
    with session_scope(sessions) as session:
        lock = session.get(JobLock, job)
        return lock.holder if lock else None


def release(sessions: sessionmaker[Session], job: str, holder: str) -> None:
    with session_scope(sessions) as session:
        session.execute(delete(JobLock).where(JobLock.job_name == job, JobLock.holder == holder))
