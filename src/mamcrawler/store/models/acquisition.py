"""Getting books: wanted list, downloads, failures, tracked torrents, categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped, utcnow


class WantedBook(Base, Timestamped):
    """A book the person wants (R7). `dedupe_key` merges duplicates."""

    __tablename__ = "wanted_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(300))
    series: Mapped[str | None] = mapped_column(String(300))
    position: Mapped[str | None] = mapped_column(String(20))
    narrator: Mapped[str | None] = mapped_column(String(300))
    asin: Mapped[str | None] = mapped_column(String(20))
    expected_duration_seconds: Mapped[float | None] = mapped_column(Float)
    # manual, vip_pending, or where a job found it: "series:<name>", "author:<name>",
    # "category:<name>", "top10:<name>". SQLite keeps its first declared length (it does not
    # enforce lengths, and rebuilding this table there would fire its foreign keys).
    source: Mapped[str] = mapped_column(
        String(300).with_variant(String(20), "sqlite"), default="manual")
    # wanted, searching, queued, downloading, done, abandoned, cancelled
    status: Mapped[str] = mapped_column(String(20), default="wanted", index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str] = mapped_column(String(700))
    note: Mapped[str | None] = mapped_column(Text)
    last_searched_at: Mapped[datetime | None] = mapped_column()
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id", ondelete="SET NULL"))
    __table_args__ = (UniqueConstraint("dedupe_key"),)


class Download(Base, Timestamped):
    """A grab of one release and everything that happened to it (R10)."""

    __tablename__ = "downloads"
    id: Mapped[int] = mapped_column(primary_key=True)
    wanted_id: Mapped[int | None] = mapped_column(
        ForeignKey("wanted_books.id", ondelete="SET NULL"), index=True
    )
    book_id: Mapped[int | None] = mapped_column(ForeignKey("books.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(300))
    release_id: Mapped[str | None] = mapped_column(String(50))
    release_title: Mapped[str | None] = mapped_column(String(500))
    release_source: Mapped[str] = mapped_column(String(20), default="mam")
    info_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # queued, grabbing, downloading, verifying, importing, imported, failed, abandoned, removed
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why this release was chosen
    quality_score: Mapped[float | None] = mapped_column(Float)
    score_breakdown: Mapped[dict | None] = mapped_column(JSON)
    candidates: Mapped[list | None] = mapped_column(JSON)  # every candidate with its verdict
    # The chosen release's facts (authors, narrators, series, format...), used for filing.
    release_info: Mapped[dict | None] = mapped_column(JSON)
    edition: Mapped[str] = mapped_column(String(10), default="free")  # free, wedge, paid
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # pending, passed, failed
    integrity_state: Mapped[str] = mapped_column(String(10), default="pending")
    integrity_detail: Mapped[str | None] = mapped_column(Text)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(index=True)
    error: Mapped[str | None] = mapped_column(Text)
    save_path: Mapped[str | None] = mapped_column(String(2000))
    completed_at: Mapped[datetime | None] = mapped_column()
    imported_at: Mapped[datetime | None] = mapped_column()
    replaces_book_id: Mapped[int | None] = mapped_column(
        ForeignKey("books.id", ondelete="SET NULL")
    )


class FailedAttempt(Base):
    """A permanent tally of failures. Never deleted by retention."""

    __tablename__ = "failed_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    download_id: Mapped[int | None] = mapped_column(
        ForeignKey("downloads.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(300))
    release_id: Mapped[str | None] = mapped_column(String(50))
    stage: Mapped[str] = mapped_column(String(20))  # grab, download, integrity, import
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TrackedTorrent(Base):
    """The last known state of a torrent in qBittorrent, with its seeding time (R5)."""

    __tablename__ = "torrents"
    info_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    raw_state: Mapped[str | None] = mapped_column(String(30))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    uploaded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    downloaded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    seeding_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    added_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    recovery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_recovery_at: Mapped[datetime | None] = mapped_column()
    # When this service force-started it (guard, seeding duty or recovery); None when no
    # force-start of ours is on it. Taken back once the guard thaws and its duty is met.
    forced_at: Mapped[datetime | None] = mapped_column()
    download_id: Mapped[int | None] = mapped_column(
        ForeignKey("downloads.id", ondelete="SET NULL"), index=True
    )


class CategorySetting(Base):
    """A tracker category and whether it is followed (R19)."""

    __tablename__ = "category_settings"
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    main_category: Mapped[int] = mapped_column(Integer, default=13)
    followed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VipPending(Base, Timestamped):
    """A release wanted but not taken yet because it was not free or not affordable."""

    __tablename__ = "vip_pending"
    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(300))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    wanted_id: Mapped[int | None] = mapped_column(
        ForeignKey("wanted_books.id", ondelete="SET NULL")
    )
    __table_args__ = (UniqueConstraint("release_id"),)


Index("ix_downloads_state_retry", Download.state, Download.next_retry_at)
