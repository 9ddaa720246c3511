"""The scheduler lease: one row naming the one process that runs the schedule.

Every `serve` process claims it every few seconds. The holder renews its heartbeat; the
others leave it alone while its owner is alive (see `liveness`: same host, the process
exists; another host, it has renewed within LEASE_S) and take it over once it is not. A
holder that has not renewed for LEASE_S is taken over even on the same host (a hung or
suspended process); it finds out at its next renewal and stops scheduling. Taking over
is a compare-and-set on the old holder, so two followers never both win.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.store.db import session_scope
from mamcrawler.store.models import SchedulerLease

from .liveness import LEASE_S, Owner, why_dead

log = logging.getLogger("mamcrawler.scheduler")
NAME = "scheduler"


@dataclass(frozen=True)
class LeaseState:
    leading: bool
    leader: str | None  # "process 12 on host", None when nobody holds the lease
    heartbeat_at: datetime | None = None


def claim(sessions: sessionmaker[Session], holder: str, owner: Owner,
          now: datetime) -> LeaseState:
    """Renew the lease when `holder` has it, take it when it is free or its holder is
    gone; else say who leads. Losing the race to create the lease counts as not leading;
    any other database error is raised: the caller decides whether a leader steps down
    (only after half a lease without a renewal, not on one failed attempt)."""
    try:
        return _claim(sessions, holder, owner, now)
    except IntegrityError as exc:  # another process created the lease first
        log.debug("scheduler lease not claimed this time: %s", exc)
        return current(sessions)


def _claim(sessions: sessionmaker[Session], holder: str, owner: Owner,
           now: datetime) -> LeaseState:
    mine = LeaseState(True, str(owner), now)
    with session_scope(sessions) as session:
        row = session.get(SchedulerLease, NAME)
        if row is None:
            session.add(SchedulerLease(name=NAME, holder=holder, acquired_at=now,
                                       heartbeat_at=now, **owner.columns()))
            return mine
        if row.holder == holder:
            return mine if _swap(session, holder, holder, owner, now, row.acquired_at) \
                else _state(row)
        reason = why_dead(row, now, owner) or _silent(row, now)
        if reason is None:
            return _state(row)
        old = _state(row)
        if not _swap(session, row.holder, holder, owner, now, now):
            return old
    log.warning("scheduler: taking over from %s: %s", old.leader, reason)
    return mine


def _swap(session: Session, old: str, new: str, owner: Owner, now: datetime,
          acquired: datetime) -> bool:
    """Set the lease to `new` if `old` still holds it."""
    result = session.execute(
        update(SchedulerLease).where(SchedulerLease.name == NAME, SchedulerLease.holder == old)
        .values(holder=new, heartbeat_at=now, acquired_at=acquired, **owner.columns()))
    return result.rowcount == 1


def _silent(row: SchedulerLease, now: datetime) -> str | None:
    if row.heartbeat_at is None or (now - row.heartbeat_at).total_seconds() > LEASE_S:
        return f"it has not renewed the lease for more than {LEASE_S:g} s"
    return None


def _state(row: SchedulerLease) -> LeaseState:
    return LeaseState(False, f"process {row.owner_pid} on {row.owner_host}", row.heartbeat_at)


def current(sessions: sessionmaker[Session]) -> LeaseState:
    """Who holds the lease, as read now (not leading: this asks for nobody)."""
    with session_scope(sessions) as session:
        row = session.get(SchedulerLease, NAME)
        return LeaseState(False, None) if row is None else _state(row)


def release(sessions: sessionmaker[Session], holder: str) -> None:
    """Give the lease up (a stopping leader), so a follower takes over at once."""
    with session_scope(sessions) as session:
        session.execute(delete(SchedulerLease).where(SchedulerLease.name == NAME,
                                                     SchedulerLease.holder == holder))
