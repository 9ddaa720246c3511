"""The tracker simulator: a stand-in for the tracker's JSON endpoints, for tests and the
demo. It says everywhere that it is a simulator; see :mod:`mamcrawler.sim.tracker`."""

from mamcrawler.sim.simulator import BANNER, SimConfig, TrackerSimulator
from mamcrawler.sim.tracker import EVENTS_PATH, create_tracker_app, run_tracker

__all__ = [
    "BANNER",
    "EVENTS_PATH",
    "SimConfig",
    "TrackerSimulator",
    "create_tracker_app",
    "run_tracker",
]
