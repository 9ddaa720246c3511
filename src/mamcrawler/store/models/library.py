"""The library: books, people, series, files, metadata provenance and gaps."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow


class FollowPolicyColumns:
    """A follow's policy (R18), on series and authors alike."""

    # "all" or, for an author, "new": only books released since `followed_at`
    follow_scope: Mapped[str | None] = mapped_column(String(10))
    followed_at: Mapped[datetime | None] = mapped_column()
    follow_language: Mapped[str | None] = mapped_column(String(30))  # None: the person's
    audiobook_only: Mapped[bool] = mapped_column(default=True, server_default=true())
    unabridged_only: Mapped[bool] = mapped_column(default=True, server_default=true())


class Author(FollowPolicyColumns, Base, Timestamped):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    sort_name: Mapped[str | None] = mapped_column(String(300))
    followed: Mapped[bool] = mapped_column(default=False)
    asin: Mapped[str | None] = mapped_column(String(20))
    # "person" once a person chose `followed`; "default" when FOLLOW_LIBRARY_BY_DEFAULT set
    # it (it may change it again); None: never decided.
    follow_set_by: Mapped[str | None] = mapped_column(String(10))
    completion_checked_at: Mapped[datetime | None] = mapped_column()
    completion_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("name"),)


class Narrator(Base, Timestamped):
    __tablename__ = "narrators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    __table_args__ = (UniqueConstraint("name"),)


class Series(FollowPolicyColumns, Base, Timestamped):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    followed: Mapped[bool] = mapped_column(default=False)
    # Number of books the series has according to the sources (None = unknown).
    known_total: Mapped[int | None] = mapped_column(Integer)
    # "person" once a person chose `followed`; "default" when FOLLOW_LIBRARY_BY_DEFAULT set
    # it (it may change it again); None: never decided.
    follow_set_by: Mapped[str | None] = mapped_column(String(10))
    completion_checked_at: Mapped[datetime | None] = mapped_column()
    completion_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("name"),)


class Book(Base, Timestamped):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    asin: Mapped[str | None] = mapped_column(String(20), index=True)
    isbn: Mapped[str | None] = mapped_column(String(20), index=True)
    language: Mapped[str | None] = mapped_column(String(20))
    year: Mapped[int | None] = mapped_column(Integer)
    publisher: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    abridged: Mapped[bool | None] = mapped_column()
    # Edition held: used to decide whether a release would be an upgrade (R9, R14).
    format: Mapped[str | None] = mapped_column(String(20))
    bitrate_kbps: Mapped[int | None] = mapped_column(Integer)
    quality_score: Mapped[float | None] = mapped_column(Float)
    library_path: Mapped[str | None] = mapped_column(String(1000))
    abs_item_id: Mapped[str | None] = mapped_column(String(100))
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # Set by the library scan when every file of the book is gone from its folder; cleared
    # when they return. The book is kept (its history, links and wanted state matter).
    missing_since: Mapped[datetime | None] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    authors: Mapped[list[BookAuthor]] = relationship(
        cascade="all, delete-orphan", order_by="BookAuthor.ordinal"
    )
    narrators: Mapped[list[BookNarrator]] = relationship(
        cascade="all, delete-orphan", order_by="BookNarrator.ordinal"
    )
    series: Mapped[list[BookSeries]] = relationship(cascade="all, delete-orphan")
    files: Mapped[list[LibraryFile]] = relationship(cascade="all, delete-orphan")


class BookAuthor(Base):
    __tablename__ = "book_authors"
    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    ordinal: Mapped[int] = mapped_column(default=0)
    author: Mapped[Author] = relationship(lazy="joined")


class BookNarrator(Base):
    __tablename__ = "book_narrators"
    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    narrator_id: Mapped[int] = mapped_column(
        ForeignKey("narrators.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    ordinal: Mapped[int] = mapped_column(default=0)
    narrator: Mapped[Narrator] = relationship(lazy="joined")


class BookSeries(Base):
    __tablename__ = "book_series"
    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Text, because "2.5" and "1-3" are real positions; position_sort orders them.
    position: Mapped[str | None] = mapped_column(String(20))
    position_sort: Mapped[float | None] = mapped_column(Float)
    series: Mapped[Series] = relationship(lazy="joined")


class LibraryFile(Base, Timestamped):
    __tablename__ = "library_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int | None] = mapped_column(
        ForeignKey("books.id", ondelete="SET NULL"), index=True
    )
    path: Mapped[str] = mapped_column(String(2000))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    mtime: Mapped[float | None] = mapped_column(Float)
    format: Mapped[str | None] = mapped_column(String(20))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    bitrate_kbps: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[dict | None] = mapped_column(JSON)
    unreadable_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("path"),)


class FieldSource(Base):
    """Where a book's stored field value came from, and whether a person protected it."""

    __tablename__ = "field_sources"
    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(50), primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    protected: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetadataCorrection(Base):
    """One field change: kept 30 days (retention)."""

    __tablename__ = "metadata_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    __table_args__ = (Index("ix_metadata_corrections_book_at", "book_id", "at"),)


class MissingBook(Base, Timestamped):
    """A gap found in a followed series or author bibliography (R18), or a find of category
    sync or top-10 discovery (R19). One row per book: `gap_key` is its wanted-list key."""

    __tablename__ = "missing_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    author_name: Mapped[str | None] = mapped_column(String(300))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[str | None] = mapped_column(String(20))
    position_sort: Mapped[float | None] = mapped_column(Float)  # orders "10" after "2"
    asin: Mapped[str | None] = mapped_column(String(20))
    found_in: Mapped[str] = mapped_column(String(50))  # series, author, category, top10
    found_via: Mapped[str] = mapped_column(String(50))  # sources that list it: tracker+audible
    # missing (an open gap), declined (the person does not want it), filled (now owned)
    status: Mapped[str] = mapped_column(String(20), default="missing", index=True)
    gap_key: Mapped[str | None] = mapped_column(String(700), unique=True)
    wanted_id: Mapped[int | None] = mapped_column(
        ForeignKey("wanted_books.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)  # the verdict's reason, last run
    category_id: Mapped[int | None] = mapped_column(Integer)
    release_ids: Mapped[list | None] = mapped_column(JSON)  # tracker uploads seen
    seen_at: Mapped[datetime | None] = mapped_column()  # last run a source listed it
    release_date: Mapped[date | None] = mapped_column(Date)  # a pre-order's: in the future
    narrator: Mapped[str | None] = mapped_column(String(300))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # when a job first put it on the wanted list: an entry gone since was removed by a person
    wanted_at: Mapped[datetime | None] = mapped_column()
