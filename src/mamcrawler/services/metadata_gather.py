"""What the library already knows of a book, for the metadata merge (R13, R15).

A book's own facts are sources like any other: "tags" (what its audio files say, read by
the library scan and kept in LibraryFile.tags; the measured length included), "txt" and
"opf" (sidecar files), "folder" (its folder name, as far as FieldSource says a value came
from it) and "tracker" (the release it was downloaded as, Download.release_info). These
are the book itself, so they are not matched against it; only records that metadata
sources found by searching are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.adapters.audio.tags import TagFacts, book_tags
from mamcrawler.adapters.metadata import release_record
from mamcrawler.domain.metadata import BookQuery
from mamcrawler.domain.metadata_merge import FIELDS, book_fields, clean_fields, record_fields
from mamcrawler.domain.record_match import BookFacts
from mamcrawler.domain.records import Release, SeriesRef
from mamcrawler.store.models import Book, Download, FieldSource, LibraryFile

from . import library

SIDECARS = ("txt", "opf")


class BookNotFound(LookupError):
    def __init__(self, book_id: int) -> None:
        super().__init__(f"book {book_id} not found")
        self.book_id = book_id


@dataclass
class BookState:
    """A book as the merge sees it: stored values, who set them, what is protected, and
    the records of its own sources."""

    book_id: int
    view: dict[str, Any]
    fields: dict[str, Any]
    sources: dict[str, str]
    protected: set[str]
    confidence: dict[str, float | None]
    own: dict[str, dict[str, Any]] = field(default_factory=dict)
    release_id: str | None = None

    @property
    def library_path(self) -> str | None:
        return self.view.get("library_path")

    def facts(self) -> BookFacts:
        """What matching compares records with."""
        f = self.fields
        return BookFacts(title=f.get("title") or "", authors=f.get("authors") or (),
                         narrators=f.get("narrators") or (), series_name=f.get("series"),
                         series_position=f.get("series_position"),
                         duration_s=f.get("duration_seconds"), language=f.get("language"),
                         abridged=f.get("abridged"))

    def query(self) -> BookQuery | None:
        """What to ask the sources; None when the book has neither title nor ids."""
        f = self.fields
        try:
            return BookQuery(title=f.get("title") or "", authors=f.get("authors") or (),
                             asin=f.get("asin"), isbn=f.get("isbn"))
        except ValueError:
            return None


def load_state(session: Session, book_id: int) -> BookState:
    """The book's BookState; raises BookNotFound."""
    book = session.get(Book, book_id)
    if book is None:
        raise BookNotFound(book_id)
    view = library.book_view(book)
    rows = field_rows(session, book_id)
    sources = {name: row.source for name, row in rows.items()}
    # The library scan attributes the whole series (name and position) to one source.
    if "series" in sources and "series_position" not in sources:
        sources["series_position"] = sources["series"]
    state = BookState(book_id=book_id, view=view, fields=book_fields(view), sources=sources,
                      protected={n for n, row in rows.items() if row.protected},
                      confidence={n: row.confidence for n, row in rows.items()})
    download = _download_of(session, book_id)
    state.own = own_records(session, book, state, download)
    if download is not None and download.release_info:
        state.release_id = download.release_id
        state.own["tracker"] = tracker_fields(download)
    return state


def field_rows(session: Session, book_id: int) -> dict[str, FieldSource]:
    return {row.field: row for row in session.scalars(
        select(FieldSource).where(FieldSource.book_id == book_id))}


def own_records(session: Session, book: Book, state: BookState,
                download: Download | None) -> dict[str, dict[str, Any]]:
    """Records of the book's own sources (see the module docstring). Tags come from the
    files' stored facts when the scan has read them; otherwise, as for the folder, from
    the stored values FieldSource attributes to them. The length an import measured
    counts as "tags": it is read from the files like the scan's."""
    facts = [f for f in (TagFacts.from_json(row.tags) for row in session.scalars(
        select(LibraryFile).where(LibraryFile.book_id == book.id))) if f is not None]
    records: dict[str, dict[str, Any]] = {}
    audio = [f for f in facts if f.format not in SIDECARS]
    if audio:
        records["tags"] = _tag_fields(book_tags(audio))
    for sidecar in (f for f in facts if f.format in SIDECARS):
        records[sidecar.format] = _tag_fields(sidecar)
    for name in FIELDS:
        source = state.sources.get(name)
        if source in ("tags", "folder", *SIDECARS) and name not in records.get(source, {}):
            if name in state.fields and not (source == "tags" and audio):
                records.setdefault(source, {})[name] = state.fields[name]
    measured = state.fields.get("duration_seconds")
    if download is not None and measured and "duration_seconds" not in state.sources:
        records.setdefault("tags", {}).setdefault("duration_seconds", measured)
    return {source: clean_fields(values) for source, values in records.items() if values}


def tracker_fields(download: Download) -> dict[str, Any]:
    """The facts of the release a book was downloaded as."""
    info = download.release_info or {}
    release = Release(
        id=download.release_id or "", title=download.release_title or download.title,
        authors=tuple(info.get("authors") or ()), narrators=tuple(info.get("narrators") or ()),
        series=tuple(SeriesRef(s["name"], s.get("position"))
                     for s in info.get("series") or [] if s.get("name")),
        language=info.get("language"), category_name=info.get("category"))
    return record_fields(release_record(release))


def _tag_fields(facts: TagFacts) -> dict[str, Any]:
    return {"title": facts.title, "subtitle": facts.subtitle, "authors": facts.authors,
            "narrators": facts.narrators, "series": facts.series,
            "series_position": facts.position if facts.series else None,
            "year": facts.year, "publisher": facts.publisher, "isbn": facts.isbn,
            "asin": facts.asin, "language": facts.language,
            "duration_seconds": facts.duration_s, "description": facts.description,
            "abridged": facts.abridged}


def _download_of(session: Session, book_id: int) -> Download | None:
    """The latest download imported as this book."""
    return session.scalars(select(Download).where(Download.book_id == book_id)
                           .order_by(Download.id.desc()).limit(1)).first()
