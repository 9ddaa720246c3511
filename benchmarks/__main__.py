"""`python -m benchmarks [NAME ...]` runs every benchmarks/bench_*.py (or the named ones)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = [n for n in names if not argv or any(a in n for a in argv)]
    if not chosen:
        print(f"no benchmark matches {argv}; have: {', '.join(names)}")
        return 2
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
