"""Library scan (R13): register the books, people, series and files of a library folder.

Books are grouped as Audiobookshelf groups them (`domain.folder_names.group_book_folders`):
one book per folder holding audio, disc folders joined to their book, dot folders and dot
files (.mamcrawler-incoming, ._AppleDouble) ignored. Each book's facts combine its folder
name, its audio files' tags and a reader.txt / OPF file beside them (`combine_facts`
says which wins). Every value written records its source in
FieldSource: "folder", "tags" (anything read from the audio files, stream length
included), "txt" or "opf".

What to do with each folder, and which fields the scan may write, is decided by
`domain.scan_plan` (read it for the rules); this module does the I/O: the walk, the tag
reads and the database. Every change to an existing book is a MetadataCorrection.

Incremental: a file whose size and mtime are unchanged is never opened again; its facts
come from LibraryFile.tags. A book none of whose files changed is not touched at all. A
book whose files have all vanished is not deleted: `Book.missing_since` is set and it is
reported in `missing` on every scan until its files return (the mark is then lifted). A
book none of whose audio files can be read is flagged for review, naming the files and
why. Database work is batched: one query fetches every known file under the root, and
each `batch_size` changed books share one session; new books are inserted a batch at a
time (`library.create_books`).
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audio.tags import (
    TagFacts,
    TagReadError,
    is_sidecar,
    read_sidecar,
)
from mamcrawler.adapters.audio.tags import read_tags as read_audio_tags
from mamcrawler.domain.integrity import AUDIO_EXTENSIONS
from mamcrawler.domain.scan_plan import (
    BookPlan,
    KnownFile,
    LibraryState,
    SeenFile,
    Status,
    plan_scan,
)
from mamcrawler.services import library_scan_store as scan_store
from mamcrawler.services.library import chunks
from mamcrawler.services.library_scan_store import Facts, combine_facts
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, LibraryFile

__all__ = ["LibraryScanError", "ScanReport", "combine_facts", "read_file", "scan_library"]

log = logging.getLogger("mamcrawler.library_scan")

Progress = Callable[[int, int | None, str], None]
Reader = Callable[[Path], TagFacts]
BATCH_SIZE = 200


class LibraryScanError(Exception):
    """The library folder cannot be scanned (missing, not a folder, unreadable)."""


@dataclass
class ScanReport:
    """One scan. `books_found` = new + changed + unchanged; `moved` books (renamed
    folders) are among the changed. `missing`: folders of books whose files are all gone
    (kept, marked missing). `unreadable`: every audio/sidecar file present that cannot be
    read, with the reason. `files_read`: files opened by this scan."""

    root: str
    books_found: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    missing: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    files_seen: int = 0
    files_read: int = 0
    ignored: int = 0
    elapsed_s: float = 0.0


def read_file(path: Path) -> TagFacts:
    """The facts of one library file: a sidecar (reader.txt, .opf) or an audio file."""
    return read_sidecar(path) if is_sidecar(path.name) else read_audio_tags(path)


def scan_library(root: str | Path, sessions: sessionmaker[Session], *,
                 progress: Progress | None = None, batch_size: int = BATCH_SIZE,
                 reader: Reader = read_file) -> ScanReport:
    """Scan the library folder `root` and bring the database in line with it.

    Raises LibraryScanError when `root` is not a readable folder; an unreadable or odd
    file never stops the scan (it is reported). `progress(done, total, text)` is called
    as books are processed. `reader` reads one file (tests count its calls).
    """
    began = time.perf_counter()
    progress = progress or (lambda done, total, text: None)
    base = _checked_root(root)
    report = ScanReport(root=base)
    progress(0, None, "listing files")
    with _no_cyclic_gc():
        todo, state, missing, orphans = _survey(base, sessions, report)
    done = report.unchanged
    progress(done, report.books_found, "reading tags")
    for batch in chunks(todo, batch_size):
        facts = _read_batch(batch, reader, report)
        with session_scope(sessions) as session:
            new, changed = scan_store.apply_batch(session, batch, facts, state)
        report.new, report.changed = report.new + new, report.changed + changed
        done += len(batch)
        progress(done, report.books_found, f"{done}/{report.books_found} books")
    if missing or orphans:
        with session_scope(sessions) as session:
            scan_store.finish(session, missing, orphans)
    report.missing = sorted(missing.values())
    report.unreadable.sort()
    report.elapsed_s = time.perf_counter() - began
    log.info("library scan of %s: %d books (%d new, %d changed, %d unchanged), %d missing, "
             "%d unreadable files, %d files read in %.1f s", base, report.books_found,
             report.new, report.changed, report.unchanged, len(report.missing),
             len(report.unreadable), report.files_read, report.elapsed_s)
    return report


def _survey(base: str, sessions: sessionmaker[Session], report: ScanReport
            ) -> tuple[list[BookPlan], LibraryState, dict[int, str], list[str]]:
    """Walk, read the database's view and plan; fill the report's counts and the files
    known to be unreadable that are not read again. Returns the books to write, the
    database's view, the missing books and the vanished files of no book. The walk's and
    the plan's many small objects die here, before cyclic collections resume (an unchanged
    rescan then never has a collection walk through them)."""
    seen, report.ignored = walk(base)
    state = _prefetch(sessions, base)
    plan = plan_scan(base, seen, state, sep=os.sep)
    report.files_seen = len(seen)
    report.books_found = len(plan.books)
    report.unchanged = plan.count(Status.UNCHANGED)
    report.moved = plan.count(Status.MOVED)
    todo = [book for book in plan.books if book.status is not Status.UNCHANGED]
    rereading = {s.path for book in todo for s in book.to_read}
    known = state.known
    report.unreadable += [(s.path, known[s.path].unreadable) for s in seen
                          if s.path in known and known[s.path].unreadable
                          and s.path not in rereading]
    # the database's view is needed only to write: without it no collection walks it
    return todo, state if todo else LibraryState({}, {}), plan.missing, plan.orphans


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The walk and the plan make tens of thousands of small tuples and no reference
    cycles; the collections they would trigger cost a third of an unchanged rescan.
    Process-wide, but only for the fraction of a second they take: cycles made meanwhile
    elsewhere are collected once it is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _checked_root(root: str | Path) -> str:
    base = os.path.abspath(os.path.expanduser(os.fspath(root)))
    if not os.path.exists(base):
        raise LibraryScanError(f"library folder {base} does not exist")
    if not os.path.isdir(base):
        raise LibraryScanError(f"{base} is not a folder")
    if not os.access(base, os.R_OK | os.X_OK):
        raise LibraryScanError(f"library folder {base} cannot be read (permissions)")
    return base


def walk(base: str) -> tuple[list[SeenFile], int]:
    """Audio and sidecar files under `base` with size and mtime (sorted by their parts),
    and how many other files there are. Dot names are skipped; folder symlinks are not
    followed (a loop would never end), file symlinks are. One stat per file, from the
    directory entry: this is the floor of every rescan, so it is kept lean."""
    seen: list[SeenFile] = []
    ignored, stack = 0, [(base, ())]
    audio, add, new = AUDIO_EXTENSIONS, seen.append, tuple.__new__
    while stack:
        folder, parts = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError as exc:
            log.warning("library scan skips %s: %s", folder, exc.strerror or exc)
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, (*parts, name)))
                    continue
                if name[name.rfind("."):].lower() in audio:
                    sidecar = False
                elif is_sidecar(name):
                    sidecar = True
                else:
                    ignored += 1
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue  # a dangling link, or gone since the listing
                add(new(SeenFile, (entry.path, (*parts, name), stat.st_size, stat.st_mtime,
                                   sidecar)))
    seen.sort(key=lambda s: s.rel)
    return seen, ignored


def _prefetch(sessions: sessionmaker[Session], base: str) -> LibraryState:
    """Every known file under `base`, every book filed there, and the books marked
    missing: two plain (Core) queries, however large the library."""
    prefix = base.rstrip(os.sep) + os.sep
    with sessions() as session:
        conn = session.connection()
        files = conn.execute(
            select(LibraryFile.path, LibraryFile.book_id, LibraryFile.size_bytes,
                   LibraryFile.mtime, LibraryFile.unreadable_reason)
            .where(LibraryFile.path.startswith(prefix, autoescape=True)))
        new = tuple.__new__  # KnownFile(...) costs a Python call per file; this does not
        known = {path: new(KnownFile, (book_id, size, mtime, unreadable))
                 for path, book_id, size, mtime, unreadable in files}
        books = conn.execute(
            select(Book.library_path, Book.id, Book.missing_since.is_not(None))
            .where(Book.library_path.startswith(prefix, autoescape=True))).all()
    return LibraryState(known, {path: book_id for path, book_id, _ in books},
                        frozenset(book_id for _, book_id, missing in books if missing))


def _read_batch(batch: list[BookPlan], reader: Reader, report: ScanReport) -> Facts:
    """Facts (or the reason a file is unreadable) of every file to read in `batch`."""
    facts: Facts = {}
    for plan in batch:
        for seen in plan.to_read:
            report.files_read += 1
            try:
                facts[seen.path] = reader(Path(seen.path))
            except TagReadError as exc:
                facts[seen.path] = exc.reason
            except Exception as exc:  # a reader bug must not end a 7,500-book scan
                log.exception("reading %s failed", seen.path)
                facts[seen.path] = f"could not be read: {type(exc).__name__}: {exc}"
            if isinstance(facts[seen.path], str):
                report.unreadable.append((seen.path, facts[seen.path]))
    return facts
