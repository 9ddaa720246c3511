"""Demo mode: with no tracker session configured, the service runs against the built-in
tracker simulator, in this process, on a loopback port. It never pretends to be the site.

`mamcrawler serve` goes further when the tools are installed: :mod:`mamcrawler.demo.world`
adds a real local swarm (opentracker, a seeding and a user-facing qbittorrent-nox) and a
small catalogue of generated audiobooks, so books really arrive in a demo library.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.sim import SimConfig, TrackerSimulator, create_tracker_app
from mamcrawler.sim.background import BackgroundServer

log = logging.getLogger("mamcrawler.demo")

DEMO_MIN_INTERVAL_S = 0.5  # the simulator is local; keep the client's pacing visible but short
DEMO_POINTS_PER_HOUR = 100.0


def serve_simulator(
    announce_url: str | None = None,
) -> tuple[TrackerEndpoint, TrackerSimulator, Callable[[], None]]:
    """Start the simulator on 127.0.0.1; returns its endpoint, its state and its stopper."""
    cookie = f"demo-{secrets.token_hex(12)}"
    config = SimConfig(mam_id=cookie, points_per_hour=DEMO_POINTS_PER_HOUR)
    if announce_url is not None:
        config = SimConfig(mam_id=cookie, points_per_hour=DEMO_POINTS_PER_HOUR,
                           announce_url=announce_url)
    app = create_tracker_app(config)
    server = BackgroundServer(app)
    server.start()
    log.info("DEMO MODE: tracker SIMULATOR serving at %s (not MyAnonamouse)", server.base_url)
    endpoint = TrackerEndpoint(server.base_url, cookie, DEMO_MIN_INTERVAL_S, demo=True,
                               simulator=True)
    return endpoint, app.state.simulator, server.stop


def start_demo_tracker() -> tuple[TrackerEndpoint, Callable[[], None]]:
    """Start the simulator; returns its endpoint and the function that stops it."""
    endpoint, _, stop = serve_simulator()
    return endpoint, stop
