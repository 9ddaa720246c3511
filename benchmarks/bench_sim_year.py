"""How long `mamcrawler sim year --days 365 --seed 1` takes (issue 13: under 5 minutes on
a 2-core machine), each policy timed on its own."""

from __future__ import annotations

import time

from mamcrawler.sim.year.report import table
from mamcrawler.sim.year.run import POLICIES, run_year

DAYS, SEED, LIMIT_S = 365, 1, 300


def main() -> None:
    outcomes, total = [], 0.0
    for policy in POLICIES:
        began = time.perf_counter()
        outcomes += run_year(seed=SEED, days=DAYS, policies=(policy,))
        took = time.perf_counter() - began
        total += took
        print(f"{policy:<16} {took:6.1f} s")
    print(table(outcomes, SEED, DAYS))
    print(f"total {total:.1f} s (limit {LIMIT_S} s): {'ok' if total < LIMIT_S else 'TOO SLOW'}")
