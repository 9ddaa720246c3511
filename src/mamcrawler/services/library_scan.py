"""Library scan (R13): register the books, people, series and files of a library folder.

Books are grouped as Audiobookshelf groups them (`domain.folder_names.group_book_folders`):
one book per folder holding audio, disc folders joined to their book, dot folders and dot
files (.mamcrawler-incoming, ._AppleDouble) ignored. Each book's facts combine its folder
name, its audio files' tags and a reader.txt / OPF file beside them (`combine_facts`
says which wins). Every value written records its source in
FieldSource: "folder", "tags" (anything read from the audio files, stream length
included), "txt" or "opf".

A field is written only where the scan may: never a protected field; on a book that
already existed, only a field the scan itself set before (source folder/tags/txt/opf) or
one still empty — values another source set (the importer, the metadata merge) are left
to the merge (R15). Every change to an existing book is a MetadataCorrection.

Incremental: a file whose size and mtime are unchanged is never opened again; its facts
come from LibraryFile.tags. A book none of whose files changed is not touched at all. A
book whose files have all vanished is not deleted: it is flagged for review and reported
in `missing` on every scan until its files return (the flag is then lifted) or a person
deals with it. A renamed folder is recognised when every file of the new folder has a
vanished twin (same name, size and mtime) in one vanished book: that book moves.
Database work is batched: one query fetches every known file under the root, and each
`batch_size` changed books share one session.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
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
    group_book_folders,
    parse_book_folder,
    single_file_facts,
)
from mamcrawler.domain.integrity import AUDIO_EXTENSIONS
from mamcrawler.services import library
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    Author,
    Book,
    FieldSource,
    LibraryFile,
    MetadataCorrection,
    Narrator,
    Series,
)

log = logging.getLogger("mamcrawler.library_scan")

Progress = Callable[[int, int | None, str], None]
Reader = Callable[[Path], TagFacts]
Combined = dict[str, tuple[Any, str]]  # book field -> (value, source)
SCAN_SOURCES = frozenset({"folder", "tags", "txt", "opf"})
MISSING_MARK = "library scan: every file of this book is gone from "
BATCH_SIZE = 200
_SQL_CHUNK = 500  # values per IN (...) list, well below every backend's parameter limit


class LibraryScanError(Exception):
    """The library folder cannot be scanned (missing, not a folder, unreadable)."""


@dataclass
class ScanReport:
    """One scan. `books_found` = new + changed + unchanged; `moved` books (renamed
    folders) are among the changed. `missing`: folders of books whose files are all gone
    (kept, flagged for review). `unreadable`: every audio/sidecar file present that
    cannot be read, with the reason. `files_read`: files opened by this scan."""

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


@dataclass(frozen=True)
class _Seen:
    path: str  # absolute
    rel: tuple[str, ...]  # path parts relative to the root
    size: int
    mtime: float


@dataclass(frozen=True)
class _Known:
    book_id: int | None
    size: int
    mtime: float | None
    unreadable: str | None


@dataclass
class _Plan:
    key: tuple[str, ...]  # the book folder's parts (a root file's name)
    folder: str
    files: list[_Seen]
    to_read: list[_Seen]
    vanished: list[str]
    book_id: int | None
    status: str  # "new", "changed", "moved" or "unchanged"


@dataclass
class _Library:
    """The database's view of the library before the scan."""

    known: dict[str, _Known]
    by_path: dict[str, int]  # library_path -> book id
    flagged: set[int]


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
    seen, report.ignored = _walk(base)
    report.files_seen = len(seen)
    held = _prefetch(sessions, base)
    plans, missing, orphans = _plan(base, seen, held)
    report.books_found = len(plans)
    report.unchanged = sum(plan.status == "unchanged" for plan in plans)
    report.moved = sum(plan.status == "moved" for plan in plans)
    todo = [plan for plan in plans if plan.status != "unchanged"]
    done = report.unchanged
    progress(done, len(plans), "reading tags")
    for batch in _chunks(todo, batch_size):
        facts = _read_batch(batch, reader, report)
        with session_scope(sessions) as session:
            _apply_batch(session, batch, facts, held, report)
        done += len(batch)
        progress(done, len(plans), f"{done}/{len(plans)} books")
    report.missing = _finish(sessions, missing, orphans)
    reported = {path for path, _ in report.unreadable}
    report.unreadable += [(s.path, held.known[s.path].unreadable) for s in seen
                          if s.path not in reported and s.path in held.known
                          and held.known[s.path].unreadable]
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


def _walk(base: str) -> tuple[list[_Seen], int]:
    """Audio and sidecar files under `base` with size and mtime, and how many other files
    there are. Dot names are skipped; folder symlinks are not followed (a loop would never
    end), file symlinks are."""
    seen: list[_Seen] = []
    ignored, stack = 0, [(base, ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.warning("library scan skips %s: %s", folder, exc.strerror or exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, (*parts, entry.name)))
            elif os.path.splitext(entry.name)[1].lower() in AUDIO_EXTENSIONS \
                    or is_sidecar(entry.name):
                try:
                    stat = entry.stat()
                except OSError:
                    continue  # a dangling link, or gone since the listing
                seen.append(_Seen(entry.path, (*parts, entry.name), stat.st_size,
                                  stat.st_mtime))
            else:
                ignored += 1
    seen.sort(key=lambda s: s.rel)
    return seen, ignored


def _prefetch(sessions: sessionmaker[Session], base: str) -> _Library:
    """Every known file under `base`, every book filed there, and books flagged missing:
    two queries, however large the library."""
    prefix = base.rstrip(os.sep) + os.sep
    with sessions() as session:
        known = {row.path: _Known(row.book_id, row.size_bytes, row.mtime,
                                  row.unreadable_reason)
                 for row in session.execute(
                     select(LibraryFile.path, LibraryFile.book_id, LibraryFile.size_bytes,
                            LibraryFile.mtime, LibraryFile.unreadable_reason)
                     .where(LibraryFile.path.startswith(prefix, autoescape=True)))}
        books = session.execute(
            select(Book.library_path, Book.id, Book.review_reason)
            .where(Book.library_path.startswith(prefix, autoescape=True))).all()
    return _Library(known, {row.library_path: row.id for row in books},
                    {row.id for row in books
                     if (row.review_reason or "").startswith(MISSING_MARK)})


def _plan(base: str, seen: list[_Seen], held: _Library
          ) -> tuple[list[_Plan], dict[int, str], list[str]]:
    """What to do per book folder; the books whose files are all gone (id -> folder); the
    vanished files of no book."""
    groups = group_book_folders(s.rel for s in seen if not is_sidecar(s.rel[-1]))
    by_rel = {s.rel: s for s in seen}
    for s in seen:
        if is_sidecar(s.rel[-1]) and s.rel[:-1] in groups:
            groups[s.rel[:-1]].append(s.rel)
    present = {s.path for s in seen}
    vanished: dict[int | None, list[str]] = {}
    for path, k in held.known.items():
        if path not in present:
            vanished.setdefault(k.book_id, []).append(path)
    plans = [_plan_book(base, key, [by_rel[r] for r in rels], held, vanished)
             for key, rels in groups.items()]
    _one_folder_per_book(plans, held)
    kept = {plan.book_id for plan in plans if plan.book_id is not None}
    gone = {bid for bid in vanished if bid is not None and bid not in kept}
    _adopt_moves(plans, gone, vanished, held.known)
    folders = {i: p for p, i in held.by_path.items() if i in gone}
    missing = {bid: folders.get(bid) or _folder_of(vanished[bid]) for bid in gone}
    return plans, missing, vanished.get(None, [])


def _plan_book(base: str, key: tuple[str, ...], files: list[_Seen], held: _Library,
               vanished: dict[int | None, list[str]]) -> _Plan:
    folder = os.path.join(base, *key)
    rows = [held.known.get(s.path) for s in files]
    owners = Counter(k.book_id for k in rows if k is not None and k.book_id is not None)
    book_id = owners.most_common(1)[0][0] if owners else held.by_path.get(folder)
    to_read = [s for s, k in zip(files, rows, strict=True) if k is None
               or k.size != s.size or k.mtime is None or abs(k.mtime - s.mtime) > 1e-6]
    gone = vanished.get(book_id, []) if book_id is not None else []
    if book_id is None:
        status = "new"
    elif to_read or gone or book_id in held.flagged or len(owners) > 1 \
            or sum(owners.values()) < len(files):
        status = "changed"
    else:
        status = "unchanged"
    return _Plan(key, folder, files, to_read, list(gone), book_id, status)


def _one_folder_per_book(plans: list[_Plan], held: _Library) -> None:
    """When files of one book turn up in two folders, the folder the book is filed at (or
    else the first) keeps it; the other becomes a book of its own."""
    claimed: dict[int, _Plan] = {}
    for plan in plans:
        if plan.book_id is None:
            continue
        first = claimed.setdefault(plan.book_id, plan)
        if first is plan:
            continue
        keeper = plan if held.by_path.get(plan.folder) == plan.book_id else first
        other = first if keeper is plan else plan
        keeper.vanished = keeper.vanished or other.vanished
        other.book_id, other.status, other.vanished = None, "new", []
        claimed[keeper.book_id] = keeper


def _adopt_moves(plans: list[_Plan], gone: set[int], vanished: dict[int | None, list[str]],
                 known: dict[str, _Known]) -> None:
    """A new folder whose files all have a vanished twin (name, size, mtime) in one book
    whose files are all gone is that book, moved: it keeps its id and history."""
    twins = {(os.path.basename(path), known[path].size, known[path].mtime): bid
             for bid in gone for path in vanished[bid]}
    for plan in plans:
        if plan.status != "new" or not twins:
            continue
        owners = {twins.get((s.rel[-1], s.size, s.mtime)) for s in plan.files}
        bid = owners.pop() if len(owners) == 1 else None
        if bid is not None and bid in gone:
            plan.book_id, plan.status, plan.vanished = bid, "moved", vanished[bid]
            gone.discard(bid)


def _folder_of(paths: list[str]) -> str:
    return os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])


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


def _read_batch(batch: list[_Plan], reader: Reader, report: ScanReport
                ) -> dict[str, TagFacts | str]:
    """Facts (or the reason a file is unreadable) of every file to read in `batch`."""
    facts: dict[str, TagFacts | str] = {}
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


def _apply_batch(session: Session, batch: list[_Plan], facts: dict[str, TagFacts | str],
                 held: _Library, report: ScanReport) -> None:
    paths = [p for plan in batch for p in [s.path for s in plan.files] + plan.vanished
             if p in held.known]
    rows = _file_rows(session, paths)
    created: list[tuple[Book, Combined]] = []
    combined_by_plan = [_combined(plan, rows, facts, session) for plan in batch]
    _ensure_names(session, combined_by_plan)
    for plan, (combined, mine) in zip(batch, combined_by_plan, strict=True):
        book = session.get(Book, plan.book_id) if plan.book_id is not None else None
        if book is None:
            book = _create(session, plan, combined)
            created.append((book, combined))
            report.new += 1
        else:
            _update(session, book, plan, combined)
            report.changed += 1
        for row in mine:
            if book.id is None:
                book.files.append(row)  # a new book: linked when the batch is flushed
            elif row.book_id != book.id:
                row.book_id = book.id
    session.flush()
    session.add_all(FieldSource(book_id=book.id, field=name, source=source)
                    for book, combined in created for name, (_, source) in combined.items())


def _combined(plan: _Plan, rows: dict[str, LibraryFile], facts: dict[str, TagFacts | str],
              session: Session) -> tuple[Combined, list[LibraryFile]]:
    """The plan's file rows brought up to date, and the book fields they give."""
    for path in plan.vanished:
        if path in rows:
            session.delete(rows.pop(path))
    mine = [rows.get(s.path) or _new_row(session, s, rows) for s in plan.files]
    for seen, row in zip(plan.files, mine, strict=True):
        if seen.path in facts:
            _record_file(row, seen, facts[seen.path])
    loaded = [TagFacts.from_json(row.tags) for row in mine]
    single = len(plan.files) == 1 and plan.files[0].rel == plan.key
    named = single_file_facts(plan.key[-1]) if single else parse_book_folder(plan.key)
    return combine_facts(named, [f for f in loaded if f]), mine


def _ensure_names(session: Session, batch: list[tuple[Combined, list[LibraryFile]]]) -> None:
    """Create the batch's new authors, narrators and series in one flush.

    `library.create_book` resolves each name itself; a name it has to create costs a
    flush of the whole session, which made a first scan ~5x slower. Afterwards every name
    exists and `create_book` only looks them up.
    """
    wanted: dict[type, set[str]] = {Author: set(), Narrator: set(), Series: set()}
    for combined, _ in batch:
        wanted[Author].update(combined.get("authors", ((), ""))[0])
        wanted[Narrator].update(combined.get("narrators", ((), ""))[0])
        wanted[Series].update(s["name"] for s in combined.get("series", ((), ""))[0])
    added = False
    for model, names in wanted.items():
        names = {n.strip() for n in names if n.strip()}
        for chunk in _chunks(sorted(names), _SQL_CHUNK):
            have = set(session.scalars(select(model.name).where(model.name.in_(chunk))))
            session.add_all(model(name=n) for n in chunk if n not in have)
            added = added or len(have) < len(chunk)
    if added:
        session.flush()


def _file_rows(session: Session, paths: list[str]) -> dict[str, LibraryFile]:
    rows: dict[str, LibraryFile] = {}
    for chunk in _chunks(paths, _SQL_CHUNK):
        for row in session.scalars(select(LibraryFile).where(LibraryFile.path.in_(chunk))):
            rows[row.path] = row
    return rows


def _new_row(session: Session, seen: _Seen, rows: dict[str, LibraryFile]) -> LibraryFile:
    row = LibraryFile(path=seen.path, size_bytes=seen.size, mtime=seen.mtime)
    session.add(row)
    rows[seen.path] = row
    return row


def _record_file(row: LibraryFile, seen: _Seen, facts: TagFacts | str) -> None:
    row.size_bytes, row.mtime = seen.size, seen.mtime
    if isinstance(facts, str):
        row.format = os.path.splitext(seen.rel[-1])[1].lower().lstrip(".")[:20] or None
        row.duration_seconds = row.bitrate_kbps = row.tags = None
        row.unreadable_reason = facts
        return
    row.format, row.duration_seconds = facts.format, facts.duration_s
    row.bitrate_kbps, row.tags, row.unreadable_reason = facts.bitrate_kbps, facts.to_json(), None


def _create(session: Session, plan: _Plan, combined: Combined) -> Book:
    fields = {name: value for name, (value, _) in combined.items()}
    fields["library_path"] = plan.folder
    fields.setdefault("title", plan.key[-1])
    return library.create_book(session, fields)


# Scan fields that also hold another field the merge and a person can protect separately.
_PARTS = {"series": ("series_position",)}


def _update(session: Session, book: Book, plan: _Plan, combined: Combined) -> None:
    """Write what the scan may write (see the module docstring), with corrections."""
    sources = {fs.field: fs for fs in session.scalars(
        select(FieldSource).where(FieldSource.book_id == book.id))}
    current = library.book_view(book)
    changes: dict[str, object] = {}
    for name, (value, source) in combined.items():
        held = sources.get(name)
        if held is not None and (held.protected or held.source not in SCAN_SOURCES):
            continue
        if any(sources[p].protected for p in _PARTS.get(name, ()) if p in sources):
            continue  # the series carries its position: a protected position guards both
        if held is None and current.get(name) not in (None, "", []):
            continue  # set by someone else (the importer): the merge decides
        if held is None:
            session.add(FieldSource(book_id=book.id, field=name, source=source))
        else:
            held.source = source
        if current.get(name) != value:
            changes[name] = value
            session.add(MetadataCorrection(book_id=book.id, field=name, source=source,
                                           old_value=_text(current.get(name)),
                                           new_value=_text(value)))
    if changes:
        library.update_book(session, book, changes)
    book.library_path = plan.folder
    if (book.review_reason or "").startswith(MISSING_MARK):
        book.needs_review, book.review_reason = False, None


def _finish(sessions: sessionmaker[Session], missing: dict[int, str],
            orphans: list[str]) -> list[str]:
    """Flag every book whose files are all gone (unless flagged for another reason) and
    forget vanished files of no book; returns the missing books' folders."""
    with session_scope(sessions) as session:
        for ids in _chunks(sorted(missing), _SQL_CHUNK):
            for book in session.scalars(select(Book).where(Book.id.in_(ids))):
                if not book.needs_review:
                    book.needs_review = True
                    book.review_reason = MISSING_MARK + missing[book.id]
        for chunk in _chunks(orphans, _SQL_CHUNK):
            for row in session.scalars(select(LibraryFile).where(LibraryFile.path.in_(chunk))):
                session.delete(row)
    return sorted(missing.values())


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


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
