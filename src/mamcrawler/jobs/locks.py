"""A database lock per job, so two processes never run the same job at once (R2).

Works on SQLite and PostgreSQL alike: the lock is a row whose primary key is the job name,
so only one INSERT can win. A lock past its expiry (a crashed holder) may be taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.store.db import session_scope
from mamcrawler.store.models import JobLock


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(
    sessions: sessionmaker[Session], job: str, holder: str, now: datetime, ttl_s: int
) -> bool:
    """Take the lock for `job`; False when another live holder has it."""
    with session_scope(sessions) as session:
        session.execute(delete(JobLock).where(JobLock.job_name == job, JobLock.expires_at < now))
    try:
        with session_scope(sessions) as session:
            session.add(
                JobLock(job_name=job, holder=holder, acquired_at=now,
                        expires_at=now + timedelta(seconds=ttl_s))
            )
        return True
    except IntegrityError:
        return False


def holder_of(sessions: sessionmaker[Session], job: str) -> str | None:
    with session_scope(sessions) as session:
        lock = session.get(JobLock, job)
        return lock.holder if lock else None


def release(sessions: sessionmaker[Session], job: str, holder: str) -> None:
    with session_scope(sessions) as session:
        session.execute(delete(JobLock).where(JobLock.job_name == job, JobLock.holder == holder))
