"""Run a simulated year for each policy on identical worlds and summarise it."""

from __future__ import annotations

import logging
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mamcrawler.config import Settings, load_settings

from .baselines import Baseline
from .ours import Ours
from .world import World

POLICIES = ("ours", "grab everything", "free only")
REQUEST_BUDGET_PER_DAY = 1_000  # the sim's stand-in for a polite daily request budget


@dataclass(frozen=True)
class Outcome:
    policy: str
    floor_days: int
    lowest_ratio: float
    vip_lapse_days: int
    hit_and_runs: int
    points_lost: float
    wanted: int
    acquired: int
    acquired_free: int
    ever_free: int
    ever_free_acquired_free: int
    free_while_wanted: int
    free_while_wanted_got_free: int
    median_days_to_library: float | None
    requests_max: int
    requests_median: float
    daily: tuple[tuple[float, float], ...]
    notes: str = ""

    def pct(self, part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 100.0


def sim_settings(workdir: Path, **overrides) -> Settings:
    values = {"data_dir": workdir / "data", "database_url": f"sqlite:///{workdir / 'x.db'}",
              "api_key": "simulated-year-api-key-0000", "demo": False,
              "metadata_on_import": False}
    values.update(overrides)
    return load_settings(None, **values)


def run_policy(policy: str, seed: int, days: int, settings: Settings, workdir: Path,
               start_ratio: float = 1.2, progress: Callable[[str, int], None] | None = None
               ) -> Outcome:
    world = World(seed, days, start_ratio=start_ratio, floor=settings.ratio_floor)
    actor = (Ours(world, settings, workdir) if policy == "ours"
             else Baseline(world, policy, free_only=policy == "free only"))
    try:
        for h in range(days * 24):
            actor.hour(h)
            world.advance()
            if progress and h % 24 == 23:
                progress(policy, h // 24 + 1)
    finally:
        actor.close()
    return summarise(policy, world, notes=_notes(actor))


def _notes(actor) -> str:
    if isinstance(actor, Ours) and actor.price_confirmations:
        return f"prices confirmed {actor.price_confirmations}x after a mismatch"
    return ""


def summarise(policy: str, world: World, notes: str = "") -> Outcome:
    wanted = [b for b in world.catalogue.books if b.wanted_at < world.now]
    got = {b: world.acquired[b.index] for b in wanted if b.index in world.acquired}
    ever_free = [b for b in wanted if world.ever_free(b)]
    while_wanted = [b for b in wanted if world.free_while_wanted(b)]
    waits = [(at - b.wanted_at).total_seconds() / 86400 for b, (at, _) in got.items()]
    per_day = [world.tally.requests.get(d, 0) for d in range(world.days)]
    return Outcome(
        policy=policy, floor_days=len(world.tally.floor_days),
        lowest_ratio=world.tally.lowest_ratio, vip_lapse_days=len(world.tally.vip_lapse_days),
        hit_and_runs=world.tally.hit_and_runs, points_lost=world.tally.points_lost,
        wanted=len(wanted), acquired=len(got),
        acquired_free=sum(1 for _, free in got.values() if free), ever_free=len(ever_free),
        ever_free_acquired_free=sum(1 for b in ever_free if got.get(b, (None, False))[1]),
        free_while_wanted=len(while_wanted),
        free_while_wanted_got_free=sum(1 for b in while_wanted if got.get(b, (None, False))[1]),
        median_days_to_library=statistics.median(waits) if waits else None,
        requests_max=max(per_day, default=0), requests_median=statistics.median(per_day or [0]),
        daily=tuple(world.daily), notes=notes)


def run_year(seed: int = 1, days: int = 365, start_ratio: float = 1.2,
             policies: tuple[str, ...] = POLICIES, settings_overrides: dict | None = None,
             progress: Callable[[str, int], None] | None = None) -> list[Outcome]:
    """Each policy on its own copy of the same seeded world; ours on a fresh SQLite store
    in a temporary folder."""
    quiet = logging.getLogger("mamcrawler")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with tempfile.TemporaryDirectory(prefix="mamcrawler-sim-year-") as tmp:
            settings = sim_settings(Path(tmp), **(settings_overrides or {}))
            return [run_policy(p, seed, days, settings, Path(tmp), start_ratio, progress)
                    for p in policies]
    finally:
        quiet.setLevel(level)
