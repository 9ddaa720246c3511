"""The tracker client as the services use it: session kept in the database, one endpoint."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler import metrics
from mamcrawler.adapters.mam import MamClient, SharedRateLimiter, TrackerAuthError
from mamcrawler.adapters.mam.client import SIM_EVENTS_PATH
from mamcrawler.adapters.mam.session import SessionStore
from mamcrawler.services import notify
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AppState, utcnow

SESSION_KEY = "tracker.session_cookie"
CARRIED_SESSION_FILE = "tracker-session"


class TrackerNotConfigured(Exception):
    """No tracker session is configured (and the demo simulator is not running)."""


@dataclass(frozen=True)
class TrackerEndpoint:
    """Where the tracker is and the first session cookie to use there.

    Live: MAM_URL and MAM_ID from the settings. Demo: the built-in simulator.
    `shared_dir` (DATA_DIR when live) is where every process of the install keeps one
    request rate for the tracker; None = this process only (the demo's own simulator).
    `simulator` says it is the built-in simulator (always so in demo mode): only it
    publishes the site's events at an endpoint, so only it is asked for them.
    """

    base_url: str
    first_cookie: str
    min_interval_s: float
    demo: bool = False
    shared_dir: Path | None = None
    simulator: bool = False

    def __repr__(self) -> str:  # never show the cookie
        return f"TrackerEndpoint({self.base_url!r}, demo={self.demo})"


class CarriedSessionFile:
    """The newest session cookie in DATA_DIR/tracker-session (owner-only), for when the
    database cannot hold it yet: `config check` before the first `db upgrade`. The tracker
    accepts only the newest cookie, so a rotated one must never be dropped; the database
    takes this one over at its first save."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, value: str) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        os.replace(temporary, self.path)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"CarriedSessionFile({str(self.path)!r})"


class DbSessionStore:
    """Keeps the newest rotated session cookie in the database (never in .env).

    A restart continues with the newest value; several processes share it. A cookie
    carried in a file (see CarriedSessionFile) is newer than the database's while it
    exists: it is used first and removed once the database holds a newer one.
    """

    def __init__(self, sessions: sessionmaker[Session], key: str = SESSION_KEY,
                 carried: CarriedSessionFile | None = None) -> None:
        self._sessions = sessions
        self._key = key
        self._carried = carried

    def load(self) -> str | None:
        carried = self._carried.load() if self._carried is not None else None
        if carried:
            return carried
        with session_scope(self._sessions) as session:
            row = session.get(AppState, self._key)
            return row.value if row else None

    def save(self, value: str) -> None:
        with session_scope(self._sessions) as session:
            row = session.get(AppState, self._key)
            if row is None:
                session.add(AppState(key=self._key, value=value))
            else:
                row.value, row.updated_at = value, utcnow()
        if self._carried is not None:
            self._carried.forget()

    def __repr__(self) -> str:
        return f"DbSessionStore(key={self._key!r})"


def make_client(endpoint: TrackerEndpoint | None, sessions: sessionmaker[Session] | None,
                **options) -> MamClient:
    """A tracker client for `endpoint` whose session survives restarts: in the database,
    or, with `sessions` None (a database without the schema yet), in DATA_DIR/tracker-session
    until the database takes it over.

    `options` go to MamClient (e.g. max_attempts=1 for an interactive check)."""
    if endpoint is None:
        raise TrackerNotConfigured(
            "not configured: no tracker session. Create one on the tracker's Security page "
            "and set MAM_ID (or run without it for the demo simulator)")
    key = SESSION_KEY + (".demo" if endpoint.demo else "")
    carried = None
    if endpoint.shared_dir is not None:
        options.setdefault("limiter", install_limiter(endpoint.shared_dir))
        carried = CarriedSessionFile(Path(endpoint.shared_dir) / CARRIED_SESSION_FILE)
    if endpoint.simulator or endpoint.demo:
        options.setdefault("events_path", SIM_EVENTS_PATH)
    options.setdefault("observe", observe_request)
    if sessions is not None:
        store: SessionStore = DbSessionStore(sessions, key, carried)
    elif carried is not None:
        store = carried
    else:
        raise ValueError("a tracker client needs the database or a DATA_DIR for its session")
    return MamClient(endpoint.base_url, endpoint.first_cookie, store,
                     min_interval_s=endpoint.min_interval_s, **options)


def observe_request(path: str, status: str, error: BaseException | None) -> None:
    """Every tracker request: counted for /metrics; a rejected session is told (R23)."""
    metrics.tracker_request(path, status)
    if isinstance(error, TrackerAuthError):
        notify.tracker_session_rejected(str(error))


_limiters: dict[Path, SharedRateLimiter] = {}
_limiters_lock = threading.Lock()


def install_limiter(shared_dir: Path) -> SharedRateLimiter:
    """The tracker limiter kept in `shared_dir`, one object per folder in this process."""
    key = Path(shared_dir).resolve()
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = SharedRateLimiter(key, "tracker")
        return _limiters[key]


def shared_client(cache, endpoint: TrackerEndpoint | None,
                  sessions: sessionmaker[Session]) -> MamClient:
    """The process's one tracker client (kept in `cache`, a jobs ClientCache)."""
    if endpoint is None:
        return make_client(endpoint, sessions)  # raises TrackerNotConfigured
    return cache.get("tracker", lambda: make_client(endpoint, sessions))
