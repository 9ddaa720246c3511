"""Demo mode: with no tracker session configured, the service runs against the built-in
tracker simulator, in this process, on a loopback port. It never pretends to be the site."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.sim import SimConfig, create_tracker_app
from mamcrawler.sim.background import BackgroundServer

log = logging.getLogger("mamcrawler.demo")

DEMO_MIN_INTERVAL_S = 0.5  # the simulator is local; keep the client's pacing visible but short
DEMO_POINTS_PER_HOUR = 100.0


def start_demo_tracker() -> tuple[TrackerEndpoint, Callable[[], None]]:
    """Start the simulator; returns its endpoint and the function that stops it."""
    cookie = f"demo-{secrets.token_hex(12)}"
    app = create_tracker_app(SimConfig(mam_id=cookie, points_per_hour=DEMO_POINTS_PER_HOUR))
    server = BackgroundServer(app)
    server.start()
    log.info("DEMO MODE: tracker simulator serving at %s (not MyAnonamouse)", server.base_url)
    return TrackerEndpoint(server.base_url, cookie, DEMO_MIN_INTERVAL_S, demo=True), server.stop
