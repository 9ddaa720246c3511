"""Is the process that owns a lock or a run still alive?

Every lock and run row names its owner: host, process id, and a token that changes when the
id is given to another process (the start time in /proc on Linux), so a container restarted
with the same pid is not mistaken for the old process. While a job runs, a heartbeat thread
renews `heartbeat_at` on both rows.

- Owner on this host: alive exactly while a process with that pid and token exists, so a
  `kill -9` is noticed at once, without waiting for any timeout.
- Owner on another host (a shared PostgreSQL): its pid means nothing here, so it counts as
  alive until it has missed heartbeats for LEASE_S. This assumes the hosts' clocks agree to
  well within LEASE_S.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.store.db import session_scope
from mamcrawler.store.models import JobLock, TaskRun
from mamcrawler.store.models.system import OwnedByProcess

log = logging.getLogger("mamcrawler.jobs")

HEARTBEAT_S = 15.0
LEASE_S = 90.0  # six missed heartbeats: long enough for a slow database, short for a restart
_PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    token: str  # "" where the platform cannot tell one process from a later one

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_token(pid) or "")

    def columns(self) -> dict[str, object]:
        return {"owner_host": self.host, "owner_pid": self.pid, "owner_token": self.token}

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}"


def process_token(pid: int) -> str | None:
    """What identifies the process now using `pid`; None when no live process has it."""
    if (_PROC / "self" / "stat").exists():
        try:
            stat = (_PROC / str(pid) / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return None
        except OSError:
            stat = ""  # /proc hides other users' processes: ask the kernel below
        if stat:
            # The command name in parentheses may hold spaces; the fields after it do not.
            fields = stat.rsplit(")", 1)[1].split()
            state, started = fields[0], fields[19]
            return None if state in ("Z", "X") else started  # a zombie has already died
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # exists, owned by another user
    return ""


def why_dead(row: OwnedByProcess, now: datetime, here: Owner | None = None) -> str | None:
    """Why the owner of `row` is known to be gone, or None when it may still be alive.

    Rows from before owners were recorded give None: callers judge those by age.
    """
    if row.owner_host is None or row.owner_pid is None:
        return None
    here = here or Owner.current()
    owner = f"process {row.owner_pid} on {row.owner_host}"
    if row.owner_host == here.host:
        token = process_token(row.owner_pid)
        if token is None:
            return f"{owner} is gone (killed or crashed)"
        if row.owner_token and token and token != row.owner_token:
            return f"{owner} is gone (killed or crashed; the id now belongs to another process)"
        return None
    if row.heartbeat_at is None or (now - row.heartbeat_at).total_seconds() > LEASE_S:
        seen = f"{row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if row.heartbeat_at else "never"
        return f"{owner} stopped reporting (last seen {seen}, more than {LEASE_S:g} s ago)"
    return None


class Heartbeat:
    """While entered, renews `heartbeat_at` of a held lock and its run every HEARTBEAT_S."""

    def __init__(self, sessions: sessionmaker[Session], job: str, holder: str, run_id: int,
                 clock: Callable[[], datetime]) -> None:
        self._sessions, self._job, self._holder, self._run_id = sessions, job, holder, run_id
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(HEARTBEAT_S)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self.beat()
            except Exception as exc:  # a busy database must not end the job; try again later
                log.warning("job %s: heartbeat not recorded: %s", self._job, exc)

    def beat(self) -> None:
        now = self._clock()
        with session_scope(self._sessions) as session:
            session.execute(update(JobLock).where(JobLock.job_name == self._job,
                                                  JobLock.holder == self._holder)
                            .values(heartbeat_at=now))
            session.execute(update(TaskRun).where(TaskRun.id == self._run_id)
                            .values(heartbeat_at=now))
