"""Fixtures that run the tracker simulator over real HTTP on 127.0.0.1.

- ``tracker_sim``: the session-wide simulator, reset to its seeded state before each test.
- ``tracker_sim_factory``: start extra simulators with their own config (e.g. another
  announce URL); all are stopped after the test.

Both give a :class:`TrackerSimHandle`: ``base_url``, ``mam_id`` (the first valid
cookie), ``announce_url``, ``simulator`` (the in-process TrackerSimulator, for
``content_for``, ``write_content``, ``add_torrent_from_directory``, ``info_hash``) and
``control`` (helpers for /sim/control/*).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from mamcrawler.sim import SimConfig, TrackerSimulator, create_tracker_app
from mamcrawler.sim.background import BackgroundServer

SIM_MAM_ID = "sim-first-session-cookie-0001"
SIM_ANNOUNCE_URL = "http://127.0.0.1:6969/announce"
START_DEADLINE_S = 15.0


class SimControl:
    """Calls the simulator's control API; every call raises on a non-2xx answer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # One client for all calls: building one per call costs tens of milliseconds.
        self._http = httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self._http.close()

    def post(self, name: str, **body: object) -> dict:
        response = self._http.post(f"/sim/control/{name}", json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        response = self._http.get("/sim/control/state")
        response.raise_for_status()
        return response.json()

    def reset(self) -> dict:
        return self.post("reset")

    def account(self, **fields: object) -> dict:
        return self.post("account", **fields)

    def fail(self, status: int | str, count: int = 1, *, retry_after: float | None = None,
             path: str = "") -> dict:
        return self.post("fail", status=status, count=count, retry_after=retry_after, path=path)

    def events(self, **events: object) -> dict:
        return self.post("events", **events)

    def new_session(self, mam_id: str | None = None) -> str:
        return self.post("session", mam_id=mam_id)["mam_id"]


@dataclass
class TrackerSimHandle:
    base_url: str
    mam_id: str
    announce_url: str
    simulator: TrackerSimulator
    control: SimControl


def start_tracker_sim(mam_id: str = SIM_MAM_ID, announce_url: str = SIM_ANNOUNCE_URL,
                      seed: int = 1) -> tuple[TrackerSimHandle, Callable[[], None]]:
    """Start a simulator; returns its handle and the function that stops it."""
    app = create_tracker_app(SimConfig(mam_id=mam_id, announce_url=announce_url, seed=seed))
    server = BackgroundServer(app)
    server.start()
    base_url = f"http://127.0.0.1:{server.port}"
    control = SimControl(base_url)
    handle = TrackerSimHandle(base_url, mam_id, announce_url, app.state.simulator, control)

    def stop() -> None:
        control.close()
        server.stop()

    return handle, stop


@pytest.fixture(scope="session")
def tracker_sim_server() -> Iterator[TrackerSimHandle]:
    """One simulator for the whole session (use ``tracker_sim`` for a clean state)."""
    handle, stop = start_tracker_sim()
    try:
        yield handle
    finally:
        stop()


@pytest.fixture
def tracker_sim(tracker_sim_server: TrackerSimHandle) -> TrackerSimHandle:
    """The shared simulator, reset to its seeded state for this test."""
    tracker_sim_server.control.reset()
    return tracker_sim_server


@pytest.fixture
def tracker_sim_factory() -> Iterator[Callable[..., TrackerSimHandle]]:
    """Start simulators with their own config: ``factory(mam_id=..., announce_url=...)``."""
    stops: list[Callable[[], None]] = []

    def start(**config: object) -> TrackerSimHandle:
        handle, stop = start_tracker_sim(**config)  # type: ignore[arg-type]
        stops.append(stop)
        return handle

    try:
        yield start
    finally:
        for stop in reversed(stops):
            stop()


@pytest.fixture
def mam(tracker_sim):
    """A tracker client on the simulator: no spacing, no retries, session kept in memory."""
    from mamcrawler.adapters.mam import MamClient, MemorySessionStore

    client = MamClient(tracker_sim.base_url, tracker_sim.mam_id, MemorySessionStore(),
                       min_interval_s=0.0, max_attempts=1)
    yield client
    client.close()
