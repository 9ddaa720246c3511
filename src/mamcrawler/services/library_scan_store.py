"""The library scan's database writes (R13): one batch of planned books brought into
the database — new books inserted a batch at a time, changed and moved books updated
where `scan_plan.scan_writes` allows, with corrections — and the books whose files are
all gone marked missing. `library_scan` walks, plans and reads; this module writes."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from mamcrawler.adapters.audio.tags import TagFacts, book_tags
from mamcrawler.domain.folder_names import (
    FolderFacts,
    combine_sources,
    parse_book_folder,
    single_file_facts,
)
from mamcrawler.domain.scan_plan import (
    BookPlan,
    HeldField,
    LibraryState,
    SeenFile,
    review_after_scan,
    scan_writes,
    unreadable_reason,
)
from mamcrawler.services import library
from mamcrawler.services.library import SQL_CHUNK, chunks
from mamcrawler.store.models import Book, FieldSource, LibraryFile, MetadataCorrection
from mamcrawler.store.models.base import utcnow

Combined = dict[str, tuple[Any, str]]  # book field -> (value, source)
Facts = dict[str, TagFacts | str]  # path -> what the reader found, or why it could not read


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


def apply_batch(session: Session, batch: list[BookPlan], facts: Facts,
                state: LibraryState) -> tuple[int, int]:
    """Write a batch of new, changed and moved books; returns (new, changed) counts."""
    paths = [p for plan in batch for p in [*(s.path for s in plan.files), *plan.vanished]
             if p in state.known]
    rows = _file_rows(session, paths)
    ids = [plan.book_id for plan in batch if plan.book_id is not None]
    # The batch's books with their people and series, and their field sources: two
    # queries for the batch instead of several for each book.
    books = {book.id: book for book in session.scalars(
        select(Book).where(Book.id.in_(ids)).options(
            selectinload(Book.authors), selectinload(Book.narrators),
            selectinload(Book.series)))} if ids else {}
    held: dict[int, dict[str, FieldSource]] = defaultdict(dict)
    if books:
        for source in session.scalars(select(FieldSource).where(
                FieldSource.book_id.in_(list(books)))):
            held[source.book_id][source.field] = source
    fresh = [plan for plan in batch if plan.book_id not in books]  # deleted since: anew
    if fresh:
        _create(session, fresh, facts, rows)
    for plan in batch:
        if plan.book_id in books:
            _update(session, plan, facts, rows, books[plan.book_id], held[plan.book_id])
    return len(fresh), len(batch) - len(fresh)


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


def _update(session: Session, plan: BookPlan, facts: Facts, rows: dict[str, LibraryFile],
            book: Book, held: dict[str, FieldSource]) -> None:
    """An existing (changed or moved) book: its files brought up to date, and what the
    scan may write (`scan_plan.scan_writes`) written with corrections. `held` are the
    book's field sources by field."""
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


def finish(session: Session, missing: dict[int, str], orphans: list[str]) -> None:
    """Mark every book whose files are all gone (keeping the date it went missing) and
    forget vanished files of no book."""
    now = utcnow()
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
