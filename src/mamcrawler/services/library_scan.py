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

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audio.tags import (
    TagFacts,
    TagReadError,
    book_tags,
    is_sidecar,
    read_sidecar,
)
from mamcrawler.adapters.audio.tags import read_tags as read_audio_tags
from mamcrawler.domain.folder_names import (
    FolderFacts,
    combine_sources,
    parse_book_folder,
    single_file_facts,
)
from mamcrawler.domain.integrity import AUDIO_EXTENSIONS
from mamcrawler.domain.scan_plan import (
    BookPlan,
    HeldField,
    KnownFile,
    LibraryState,
    SeenFile,
    Status,
    plan_scan,
    review_after_scan,
    scan_writes,
    unreadable_reason,
)
from mamcrawler.services import library
from mamcrawler.services.library import SQL_CHUNK, chunks
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, FieldSource, LibraryFile, MetadataCorrection
from mamcrawler.store.models.base import utcnow

log = logging.getLogger("mamcrawler.library_scan")

Progress = Callable[[int, int | None, str], None]
Reader = Callable[[Path], TagFacts]
Combined = dict[str, tuple[Any, str]]  # book field -> (value, source)
Facts = dict[str, TagFacts | str]  # path -> what the reader found, or why it could not read
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
    seen, report.ignored = walk(base)
    report.files_seen = len(seen)
    state = _prefetch(sessions, base)
    plan = plan_scan(base, seen, state, sep=os.sep)
    report.books_found = len(plan.books)
    report.unchanged = plan.count(Status.UNCHANGED)
    report.moved = plan.count(Status.MOVED)
    todo = [book for book in plan.books if book.status is not Status.UNCHANGED]
    done = report.unchanged
    progress(done, len(plan.books), "reading tags")
    for batch in chunks(todo, batch_size):
        facts = _read_batch(batch, reader, report)
        with session_scope(sessions) as session:
            _apply_batch(session, batch, facts, state, report)
        done += len(batch)
        progress(done, len(plan.books), f"{done}/{len(plan.books)} books")
    if plan.missing or plan.orphans:
        _finish(sessions, plan.missing, plan.orphans)
    report.missing = sorted(plan.missing.values())
    reported = {path for path, _ in report.unreadable}
    known = state.known
    report.unreadable += [(s.path, known[s.path].unreadable) for s in seen
                          if s.path in known and known[s.path].unreadable
                          and s.path not in reported]
    report.unreadable.sort()
    report.elapsed_s = time.perf_counter() - began
    log.info("library scan of %s: %d books (%d new, %d changed, %d unchanged), %d missing, "
             "%d unreadable files, %d files read in %.1f s", base, report.books_found,
             report.new, report.changed, report.unchanged, len(report.missing),
             len(report.unreadable), report.files_read, report.elapsed_s)
    return report


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
    audio = AUDIO_EXTENSIONS
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
                dot = name.rfind(".")
                sidecar = dot < 0 or name[dot:].lower() not in audio
                if sidecar and not is_sidecar(name):
                    ignored += 1
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue  # a dangling link, or gone since the listing
                seen.append(SeenFile(entry.path, (*parts, name), stat.st_size,
                                     stat.st_mtime, sidecar))
    seen.sort(key=lambda s: s.rel)
    return seen, ignored


def _prefetch(sessions: sessionmaker[Session], base: str) -> LibraryState:
    """Every known file under `base`, every book filed there, and the books marked
    missing: two queries, however large the library."""
    prefix = base.rstrip(os.sep) + os.sep
    with sessions() as session:
        rows = session.execute(
            select(LibraryFile.path, LibraryFile.book_id, LibraryFile.size_bytes,
                   LibraryFile.mtime, LibraryFile.unreadable_reason)
            .where(LibraryFile.path.startswith(prefix, autoescape=True)))
        known = {path: KnownFile(book_id, size, mtime, unreadable)
                 for path, book_id, size, mtime, unreadable in rows}
        books = session.execute(
            select(Book.library_path, Book.id, Book.missing_since)
            .where(Book.library_path.startswith(prefix, autoescape=True))).all()
    return LibraryState(known, {path: book_id for path, book_id, _ in books},
                        frozenset(book_id for _, book_id, since in books if since))


def combine_facts(folder: FolderFacts, files: list[TagFacts]) -> Combined:
    """A book's fields with their sources: the metadata by `folder_names.combine_sources`
    (folder < tags < reader.txt < OPF, ABS's order) over the folder, the files' judged
    tags (`book_tags`) and the sidecars; duration, format and bitrate from the audio."""
    tags = book_tags(files)
    layers = [("folder", folder), ("tags", tags)]
    layers += [(f.format, f) for f in files if f.format in ("txt", "opf")]
    combined: Combined = combine_sources(layers)
    stream = {"duration_seconds": tags.duration_s, "format": tags.format or None,
              "bitrate_kbps": tags.bitrate_kbps}
    combined.update({k: (v, "tags") for k, v in stream.items() if v is not None})
    return combined


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


def _apply_batch(session: Session, batch: list[BookPlan], facts: Facts,
                 state: LibraryState, report: ScanReport) -> None:
    paths = [p for plan in batch for p in [s.path for s in plan.files] + plan.vanished
             if p in state.known]
    rows = _file_rows(session, paths)
    ids = [plan.book_id for plan in batch if plan.book_id is not None]
    there = set(session.scalars(select(Book.id).where(Book.id.in_(ids)))) if ids else set()
    fresh = [plan for plan in batch if plan.book_id not in there]  # deleted since: anew
    if fresh:
        _create(session, fresh, facts, rows)
        report.new += len(fresh)
    for plan in batch:
        if plan.book_id in there:
            _update(session, plan, facts, rows)
            report.changed += 1


def _file_rows(session: Session, paths: list[str]) -> dict[str, LibraryFile]:
    rows: dict[str, LibraryFile] = {}
    for chunk in chunks(paths, SQL_CHUNK):
        for row in session.scalars(select(LibraryFile).where(LibraryFile.path.in_(chunk))):
            rows[row.path] = row
    return rows


def _create(session: Session, plans: list[BookPlan], facts: Facts,
            rows: dict[str, LibraryFile]) -> None:
    """New books, their files and field sources, inserted a batch at a time. Files the
    database knew already (a book split in two, a file of no book) are adopted."""
    books, sources, files = [], [], []
    for plan in plans:
        found = [_file_facts(seen, facts, rows) for seen in plan.files]
        combined = _combine(plan, [f for f in found if isinstance(f, TagFacts)])
        fields = {name: value for name, (value, _) in combined.items()}
        fields["library_path"] = plan.folder
        fields.setdefault("title", plan.key[-1])
        reason = _unreadable(plan, found)
        if reason:
            fields["needs_review"], fields["review_reason"] = True, reason
        books.append(fields)
        sources.append(combined)
        files.append(found)
    ids = library.create_books(session, books)
    new_rows = []
    for book_id, plan, found in zip(ids, plans, files, strict=True):
        for seen, got in zip(plan.files, found, strict=True):
            row = rows.get(seen.path)
            if row is None:
                new_rows.append({"path": seen.path, "book_id": book_id,
                                 **_file_columns(seen, got)})
            else:
                row.book_id = book_id
                if seen.path in facts:
                    _record_file(row, seen, facts[seen.path])
    if new_rows:
        session.execute(insert(LibraryFile), new_rows)
    field_rows = [{"book_id": book_id, "field": name, "source": source}
                  for book_id, combined in zip(ids, sources, strict=True)
                  for name, (_, source) in combined.items()]
    if field_rows:
        session.execute(insert(FieldSource), field_rows)


def _file_facts(seen: SeenFile, facts: Facts, rows: dict[str, LibraryFile]
                ) -> TagFacts | str | None:
    """What is known of a file: read now, else as stored (None: nothing readable)."""
    if seen.path in facts:
        return facts[seen.path]
    row = rows.get(seen.path)
    if row is None:
        return None
    return row.unreadable_reason or TagFacts.from_json(row.tags)


def _file_columns(seen: SeenFile, facts: TagFacts | str | None) -> dict[str, Any]:
    """A LibraryFile's columns for `seen` and what reading it found."""
    if isinstance(facts, TagFacts):
        return {"size_bytes": seen.size, "mtime": seen.mtime, "format": facts.format,
                "duration_seconds": facts.duration_s, "bitrate_kbps": facts.bitrate_kbps,
                "tags": facts.to_json(), "unreadable_reason": None}
    return {"size_bytes": seen.size, "mtime": seen.mtime,
            "format": os.path.splitext(seen.rel[-1])[1].lower().lstrip(".")[:20] or None,
            "duration_seconds": None, "bitrate_kbps": None, "tags": None,
            "unreadable_reason": facts}


def _record_file(row: LibraryFile, seen: SeenFile, facts: TagFacts | str) -> None:
    for name, value in _file_columns(seen, facts).items():
        setattr(row, name, value)


def _combine(plan: BookPlan, found: list[TagFacts]) -> Combined:
    single = len(plan.files) == 1 and plan.files[0].rel == plan.key
    named = single_file_facts(plan.key[-1]) if single else parse_book_folder(plan.key)
    return combine_facts(named, found)


def _unreadable(plan: BookPlan, found: list[TagFacts | str | None]) -> str | None:
    """The review reason of a book none of whose audio files can be read."""
    depth = len(plan.key) if plan.files[0].rel != plan.key else len(plan.key) - 1
    return unreadable_reason(
        (os.path.join(*seen.rel[depth:]), got if isinstance(got, str) else None)
        for seen, got in zip(plan.files, found, strict=True) if not seen.sidecar)


def _update(session: Session, plan: BookPlan, facts: Facts,
            rows: dict[str, LibraryFile]) -> None:
    """An existing (changed or moved) book: its files brought up to date, and what the
    scan may write (`scan_plan.scan_writes`) written with corrections."""
    book = session.get(Book, plan.book_id)
    for path in plan.vanished:
        if path in rows:
            session.delete(rows.pop(path))
    mine = []
    for seen in plan.files:
        row = rows.get(seen.path)
        if row is None:
            row = LibraryFile(path=seen.path, book_id=book.id, size_bytes=seen.size)
            session.add(row)
        row.book_id = book.id
        if seen.path in facts:
            _record_file(row, seen, facts[seen.path])
        mine.append(row)
    found = [row.unreadable_reason or TagFacts.from_json(row.tags) for row in mine]
    combined = _combine(plan, [f for f in found if isinstance(f, TagFacts)])
    held = {fs.field: fs for fs in session.scalars(
        select(FieldSource).where(FieldSource.book_id == book.id))}
    current = library.book_view(book)
    changes: dict[str, object] = {}
    for write in scan_writes(combined, {k: HeldField(v.source, v.protected)
                                        for k, v in held.items()}, current):
        if write.new_source:
            session.add(FieldSource(book_id=book.id, field=write.field, source=write.source))
        else:
            held[write.field].source = write.source
        if write.changes_value:
            changes[write.field] = write.value
            session.add(MetadataCorrection(book_id=book.id, field=write.field,
                                           source=write.source, old_value=_text(write.old),
                                           new_value=_text(write.value)))
    if changes:
        library.update_book(session, book, changes)
    book.library_path, book.missing_since = plan.folder, None
    book.needs_review, book.review_reason = review_after_scan(
        book.needs_review, book.review_reason, _unreadable(plan, found))


def _finish(sessions: sessionmaker[Session], missing: dict[int, str],
            orphans: list[str]) -> None:
    """Mark every book whose files are all gone (keeping the date it went missing) and
    forget vanished files of no book."""
    now = utcnow()
    with session_scope(sessions) as session:
        for ids in chunks(sorted(missing), SQL_CHUNK):
            session.execute(update(Book).where(Book.id.in_(ids), Book.missing_since.is_(None))
                            .values(missing_since=now))
        for chunk in chunks(orphans, SQL_CHUNK):
            for row in session.scalars(select(LibraryFile).where(LibraryFile.path.in_(chunk))):
                session.delete(row)


def _text(value: object) -> str | None:
    """A field value as correction text: lists joined with "; ", series as "Name #2"."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_text(v) or "" for v in value)
    if isinstance(value, dict):
        name, position = value.get("name"), value.get("position")
        return f"{name} #{position}" if position else str(name)
    return str(value)
