"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(func: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def alternating_medians(funcs: list[Callable[[], object]], repeat: int = 7,
                        warmup: int = 1) -> list[float]:
    """Median seconds of each of `funcs`, run in turns (a, b, a, b, ...) so that a change
    of load on a shared machine weighs on all of them alike: for ratios between them."""
    for _ in range(warmup):
        for func in funcs:
            func()
    samples: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeat):
        for func, taken in zip(funcs, samples, strict=True):
            start = time.perf_counter()
            func()
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in samples]


def report(rows: list[tuple[str, float]], baseline: str) -> None:
    """Print each measurement and its ratio to the baseline row."""
    base = dict(rows)[baseline]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"  {name:<{width}}  {seconds * 1000:9.2f} ms  {seconds / base:7.2f}x {baseline}")
