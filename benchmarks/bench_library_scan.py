"""Library scan (R13): a full scan and an incremental rescan of a generated library, each
next to its floor measured in the same run: (a) listing and stat-ing every file of the
tree, (b) that plus reading every audio and sidecar file with the scan's own reader. The
goals (issue 14): full scan <= 3x (b), unchanged rescan <= 1.5x (a).

The library is tests/support/library_gen.py's: every folder convention and tag variant, in
mp3/m4b/flac/opus, real ~1 s files. The full scan starts from an empty database each
time; the rescan finds nothing changed, so it must not open a single file. Also shown:
reading one file's facts with mutagen (what the scan does) against one ffprobe process
(what it avoids). The database is a fresh SQLite file (set BENCH_DATABASE_URL for another;
it must be empty).

Where the time went (cProfile, 5,000 books, issue 14). Before: a full scan spent ~72 %
in ORM writes (`library.create_book` per book, one SELECT per author/narrator/series name
(11,000), a unit-of-work flush of ~80,000 objects), ~17 % reading tags with mutagen and
~10 % combining facts; an unchanged rescan spent ~60 % in the walk, ~30 % planning and a
third of its time on cyclic garbage collections set off by the walk's and plan's tuples.
After: new books are inserted a batch at a time (`library.create_books`, names resolved in
a few statements), so a full scan is ~50 % mutagen, ~35 % database writes and fact
combining, ~10 % walk; the rescan is the walk (~0.8x the floor), the plan and two
queries, with cyclic GC paused while they run.

Each measurement and its floor are taken in turns, so a change of load on a shared machine
weighs on both. Usage: env BENCH_SCAN_BOOKS (default 5000), BENCH_REPS (rescans, default
7), BENCH_FULL_REPS (full scans, default 1).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.library_gen import generate_library, make_templates  # noqa: E402

from benchmarks.timing import alternating_medians, median_seconds, report  # noqa: E402
from mamcrawler.adapters.audio.probe import probe  # noqa: E402
from mamcrawler.adapters.audio.tags import TagReadError, is_sidecar, read_tags  # noqa: E402
from mamcrawler.domain.integrity import AUDIO_EXTENSIONS  # noqa: E402
from mamcrawler.services.library_scan import read_file, scan_library  # noqa: E402
from mamcrawler.store import migrate  # noqa: E402
from mamcrawler.store.db import make_engine, make_session_factory  # noqa: E402

BASELINE = "(a) list + stat (baseline)"
READ_BASELINE = "(b) list + stat + read every file"
GOALS = (("full scan", READ_BASELINE, 3.0), ("incremental rescan", BASELINE, 1.5))


def list_and_stat(root: Path) -> int:
    """The floor any scan pays: every file under `root` listed and stat-ed."""
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def list_stat_and_read(root: Path) -> int:
    """The floor of a full scan: (a), and every audio and sidecar file read once by the
    scan's reader (`library_scan.read_file`, mutagen); an unreadable file costs its try."""
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            os.stat(path)
            if os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS or is_sidecar(name):
                try:
                    read_file(Path(path))
                except TagReadError:
                    pass
                count += 1
    return count


def fresh_sessions(tmp: Path, run: int):
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / f'bench-{run}.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine, make_session_factory(engine)


def full_scans(root: Path, tmp: Path, runs: int) -> tuple[float, float, object]:
    """Median seconds of `runs` full scans, each into an empty database, and of its floor
    (b), taken in turns; the last scan's report."""
    scans, floors, last = [], [], None
    for run in range(runs):
        began = time.perf_counter()
        list_stat_and_read(root)
        floors.append(time.perf_counter() - began)
        engine, sessions = fresh_sessions(tmp, run)
        began = time.perf_counter()
        last = scan_library(root, sessions)
        scans.append(time.perf_counter() - began)
        engine.dispose()
    return statistics.median(scans), statistics.median(floors), last


def per_file_read(files: list[Path]) -> list[tuple[str, float]]:
    sample = files[:40]
    mutagen_s = median_seconds(lambda: [read_tags(f) for f in sample], repeat=3)
    ffprobe_s = median_seconds(lambda: [probe(f) for f in sample], repeat=1, warmup=0)
    return [("one file, mutagen", mutagen_s / len(sample)),
            ("one file, ffprobe", ffprobe_s / len(sample))]


def main() -> None:
    n_books = int(os.environ.get("BENCH_SCAN_BOOKS", "5000"))
    reps = int(os.environ.get("BENCH_REPS", "7"))
    full_reps = int(os.environ.get("BENCH_FULL_REPS", "1"))
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as name:
        tmp = Path(name)
        began = time.perf_counter()
        lib = generate_library(tmp / "library", n_books, make_templates(tmp / "templates"))
        files = list_and_stat(lib.root)
        print(f"  generated {n_books} books, {files} files in "
              f"{time.perf_counter() - began:.1f} s")
        full, read_all, first = full_scans(lib.root, tmp, full_reps)
        engine, sessions = fresh_sessions(tmp, full_reps - 1)  # the last full scan's
        rescan_reports = []
        baseline, rescan = alternating_medians(
            [lambda: list_and_stat(lib.root),
             lambda: rescan_reports.append(scan_library(lib.root, sessions))], repeat=reps)
        engine.dispose()
        again = rescan_reports[-1]
        print(f"  full scan: {first.books_found} books, {first.files_read} files read, "
              f"{len(first.unreadable)} unreadable -> {n_books / full:.0f} books/s")
        print(f"  rescan: {again.unchanged} unchanged books, {again.files_read} files read")
        rows = [(BASELINE, baseline), (READ_BASELINE, read_all), ("full scan", full),
                ("incremental rescan", rescan)]
        report(rows, BASELINE)
        took = dict(rows)
        for name, floor, goal in GOALS:
            ratio = took[name] / took[floor]
            print(f"  {name} / {floor[:3]}: {ratio:.2f}x (goal <= {goal}x: "
                  f"{'met' if ratio <= goal else 'NOT met'})")
        report(per_file_read(lib.audio_files()), "one file, mutagen")


if __name__ == "__main__":
    main()
