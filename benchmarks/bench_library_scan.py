"""Library scan (R13): a full scan and an incremental rescan of a generated library, each
next to the cost of simply listing and stat-ing the same files in the same run.

The library is tests/support/library_gen.py's: every folder convention and tag variant, in
mp3/m4b/flac/opus, real ~1 s files. The full scan starts from an empty database each
time; the rescan finds nothing changed, so it must not open a single file. Also shown:
reading one file's facts with mutagen (what the scan does) against one ffprobe process
(what it avoids). The database is a fresh SQLite file (set BENCH_DATABASE_URL for another;
it must be empty).

Usage: env BENCH_SCAN_BOOKS (default 5000), BENCH_REPS (rescans, default 5),
BENCH_FULL_REPS (full scans, default 1).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.library_gen import generate_library, make_templates  # noqa: E402

from benchmarks.timing import median_seconds, report  # noqa: E402
from mamcrawler.adapters.audio.probe import probe  # noqa: E402
from mamcrawler.adapters.audio.tags import read_tags  # noqa: E402
from mamcrawler.services.library_scan import scan_library  # noqa: E402
from mamcrawler.store import migrate  # noqa: E402
from mamcrawler.store.db import make_engine, make_session_factory  # noqa: E402

BASELINE = "list + stat (baseline)"


def list_and_stat(root: Path) -> int:
    """The floor any scan pays: every file under `root` listed and stat-ed."""
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def fresh_sessions(tmp: Path, run: int):
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / f'bench-{run}.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine, make_session_factory(engine)


def full_scans(root: Path, tmp: Path, runs: int) -> tuple[float, object]:
    """Median seconds of `runs` full scans, each into an empty database; the last report."""
    samples, last = [], None
    for run in range(runs):
        engine, sessions = fresh_sessions(tmp, run)
        began = time.perf_counter()
        last = scan_library(root, sessions)
        samples.append(time.perf_counter() - began)
        engine.dispose()
    samples.sort()
    return samples[len(samples) // 2], last


def per_file_read(files: list[Path]) -> list[tuple[str, float]]:
    sample = files[:40]
    mutagen_s = median_seconds(lambda: [read_tags(f) for f in sample], repeat=3)
    ffprobe_s = median_seconds(lambda: [probe(f) for f in sample], repeat=1, warmup=0)
    return [("one file, mutagen", mutagen_s / len(sample)),
            ("one file, ffprobe", ffprobe_s / len(sample))]


def main() -> None:
    n_books = int(os.environ.get("BENCH_SCAN_BOOKS", "5000"))
    reps = int(os.environ.get("BENCH_REPS", "5"))
    full_reps = int(os.environ.get("BENCH_FULL_REPS", "1"))
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as name:
        tmp = Path(name)
        began = time.perf_counter()
        lib = generate_library(tmp / "library", n_books, make_templates(tmp / "templates"))
        files = list_and_stat(lib.root)
        print(f"  generated {n_books} books, {files} files in "
              f"{time.perf_counter() - began:.1f} s")
        baseline = median_seconds(lambda: list_and_stat(lib.root), repeat=reps)
        full, first = full_scans(lib.root, tmp, full_reps)
        engine, sessions = fresh_sessions(tmp, full_reps - 1)  # the last full scan's
        rescan_reports = []
        rescan = median_seconds(lambda: rescan_reports.append(scan_library(lib.root, sessions)),
                                repeat=reps)
        engine.dispose()
        again = rescan_reports[-1]
        print(f"  full scan: {first.books_found} books, {first.files_read} files read, "
              f"{len(first.unreadable)} unreadable -> {n_books / full:.0f} books/s")
        print(f"  rescan: {again.unchanged} unchanged books, {again.files_read} files read")
        report([(BASELINE, baseline), ("full scan", full), ("incremental rescan", rescan)],
               BASELINE)
        report(per_file_read(lib.audio_files()), "one file, mutagen")


if __name__ == "__main__":
    main()
