"""The metadata jobs (R2, R13, R17): weekly maintenance of recent books, monthly drift
correction of the whole library, and the full scan of a book on its first import.

Each book is enriched on its own (`services.metadata.enrich_book`): one book failing is
counted and logged, and the run goes on. A run reports books checked, fields changed,
books flagged for review, source errors and failures. Drift never listens to the audio
again (7,500 books x up to half a minute of speech-to-text is days); maintenance listens
only to books whose narrator was never assessed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.config import Settings
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

from .metadata import BookOutcome, MetadataTools, enrich_book, open_tools
from .metadata_gather import BookNotFound
from .reports import never

log = logging.getLogger("mamcrawler.metadata")
BATCH_SIZE = 100
ABS_CLIENT = "audiobookshelf"  # the ClientCache name the other jobs use too
Progress = Callable[[int, int | None, str], None]


@dataclass
class RunReport:
    """Counts of one metadata run."""

    checked: int = 0
    changed_fields: int = 0
    books_changed: int = 0
    flagged: int = 0
    failed: list[str] = field(default_factory=list)
    unanswered: int = 0  # books checked that no source answered for (all failed)
    source_errors: Counter = field(default_factory=Counter)
    abs_notes: int = 0

    def add(self, outcome: BookOutcome, sources: int = 0) -> None:
        self.checked += 1
        if sources and len(outcome.source_errors) >= sources:
            self.unanswered += 1
            self.failed.append(f"book {outcome.book_id}: no metadata source answered")
        self.changed_fields += len(outcome.changes)
        self.books_changed += bool(outcome.changes)
        self.flagged += outcome.flagged
        self.source_errors.update(outcome.source_errors.keys())
        self.abs_notes += any(n.startswith("Audiobookshelf") for n in outcome.notes)

    def summary(self) -> str:
        parts = [f"{self.checked} books checked", f"{self.changed_fields} fields changed in "
                 f"{self.books_changed} books", f"{self.flagged} flagged for review",
                 f"{sum(self.source_errors.values())} source errors"]
        if self.source_errors:
            parts[-1] += " (" + ", ".join(f"{s} {n}" for s, n in
                                          sorted(self.source_errors.items())) + ")"
        if self.abs_notes:
            parts.append(f"{self.abs_notes} not pushed to Audiobookshelf")
        if self.failed:
            parts.append(f"{len(self.failed)} failed: " + "; ".join(self.failed[:5]))
        return ", ".join(parts)

    def result(self) -> JobReport:
        """The run's result: a book fails when it raised or no source answered for it."""
        return JobReport(self.summary(), done=self.checked - self.unanswered,
                         failed=len(self.failed), unit="books", failures=tuple(self.failed[:3]))


def enrich_many(sessions: sessionmaker[Session], tools: MetadataTools, book_ids: list[int],
                *, listen: bool | None, progress: Progress | None = None,
                stop: Callable[[], bool] = never) -> RunReport:
    """Enrich every book in `book_ids`, counting; a failing book never stops the run.
    `stop` is asked before each book: True ends the run there."""
    report = RunReport()
    total = len(book_ids)
    for done, book_id in enumerate(book_ids):
        if stop():
            break
        try:
            report.add(enrich_book(sessions, tools, book_id, listen=listen), len(tools.sources))
        except BookNotFound:
            continue  # deleted since the list was read
        except Exception as exc:  # one bad book must not end a library-wide run
            log.exception("metadata of book %s failed", book_id)
            report.failed.append(f"book {book_id}: {type(exc).__name__}: {exc}")
        if progress is not None:
            progress(done + 1, total, f"book {book_id}")
    return report


def recent_books(sessions: sessionmaker[Session], now: datetime, days: int) -> list[int]:
    """Ids of the books added in the last `days` days, oldest first."""
    since = (now if now.tzinfo else now.replace(tzinfo=UTC)) - timedelta(days=days)
    with session_scope(sessions) as session:
        return list(session.scalars(select(Book.id).where(Book.added_at >= since)
                                    .order_by(Book.added_at, Book.id)))


def all_books(sessions: sessionmaker[Session], batch_size: int = BATCH_SIZE
              ) -> Iterable[list[int]]:
    """Every book id, in batches of `batch_size`, by id (books added meanwhile included)."""
    last = 0
    while True:
        with session_scope(sessions) as session:
            batch = list(session.scalars(select(Book.id).where(Book.id > last)
                                         .order_by(Book.id).limit(batch_size)))
        if not batch:
            return
        yield batch
        last = batch[-1]


def maintenance(sessions: sessionmaker[Session], tools: MetadataTools, now: datetime,
                progress: Progress | None = None, stop: Callable[[], bool] = never
                ) -> RunReport:
    """Re-check the books added in the last MAINTENANCE_RECENT_DAYS days."""
    ids = recent_books(sessions, now, tools.settings.maintenance_recent_days)
    return enrich_many(sessions, tools, ids, listen=None, progress=progress, stop=stop)


def drift(sessions: sessionmaker[Session], tools: MetadataTools,
          progress: Progress | None = None, stop: Callable[[], bool] = never) -> RunReport:
    """Re-query the whole library in batches and correct what drifted, never a protected
    field (R17). Progress counts books against the library size when the run started."""
    with session_scope(sessions) as session:
        total = session.query(Book.id).count()
    report = RunReport()
    done = 0
    for batch in all_books(sessions):
        if stop():
            break
        part = enrich_many(sessions, tools, batch, listen=False, stop=stop)
        _fold(report, part)
        done += len(batch)
        if progress is not None:
            progress(done, max(total, done), f"{report.checked} books checked")
    return report


def _fold(into: RunReport, part: RunReport) -> None:
    into.checked += part.checked
    into.changed_fields += part.changed_fields
    into.books_changed += part.books_changed
    into.flagged += part.flagged
    into.failed += part.failed
    into.unanswered += part.unanswered
    into.source_errors.update(part.source_errors)
    into.abs_notes += part.abs_notes


def full_scan_on_import(sessions: sessionmaker[Session], settings: Settings,
                        book_id: int) -> list[str]:
    """Enrich a book just imported (R13) and return notes for the import's report.

    Never raises: an import must not fail because metadata sources, speech-to-text or
    the database are having a bad moment; the weekly maintenance checks the book again.
    Audiobookshelf is not pushed to here: it has not scanned the new folder yet;
    download_watch pushes once ABS shows the book (`ask_abs_to_scan`), else maintenance.
    """
    if not settings.metadata_on_import:
        return []
    if settings.is_demo:
        return ["metadata sources not asked in demo mode (the books are made up)"]
    try:
        with open_tools(settings) as tools:
            outcome = enrich_book(sessions, tools, book_id, listen=None)
    except Exception as exc:
        log.exception("metadata scan of imported book %s failed", book_id)
        return [f"book {book_id}: metadata scan failed ({type(exc).__name__}: {exc}); "
                "metadata_maintenance will try again"]
    return _import_notes(outcome)


def _import_notes(outcome: BookOutcome) -> list[str]:
    notes = []
    if outcome.changes:
        notes.append(f"book {outcome.book_id}: {len(outcome.changes)} metadata fields "
                     f"corrected")
    if outcome.flagged:
        notes.append(f"book {outcome.book_id}: flagged for metadata review")
    if outcome.source_errors:
        notes.append(f"book {outcome.book_id}: metadata sources failed: "
                     + ", ".join(sorted(outcome.source_errors)))
    return notes


def abs_client_of(ctx: Any) -> AbsClient | None:
    """The process's Audiobookshelf client (shared with the other jobs), or None."""
    settings = ctx.settings
    if not settings.abs_url:
        return None
    token = settings.abs_token.get_secret_value() if settings.abs_token else ""
    return ctx.clients.get(ABS_CLIENT, lambda: AbsClient(settings.abs_url, token))


DEMO_NOTE = "not configured: demo mode never asks public metadata sources about made-up books"


def _refuse_demo(ctx: Any) -> None:
    if ctx.settings.is_demo:
        from mamcrawler.services.clients import JobNotConfigured

        raise JobNotConfigured(DEMO_NOTE)


def maintenance_job(ctx: Any) -> JobReport:
    """The metadata_maintenance job; a stopping process ends it after the current book."""
    _refuse_demo(ctx)
    guard = ctx.guard()
    with open_tools(ctx.settings, abs_client=abs_client_of(ctx)) as tools:
        report = maintenance(ctx.sessions, tools, ctx.clock(), ctx.progress, stop=guard)
    return guard.judged(report.result())


def drift_job(ctx: Any) -> JobReport:
    """The metadata_drift job; a stopping process ends it after the current book."""
    _refuse_demo(ctx)
    guard = ctx.guard()
    with open_tools(ctx.settings, abs_client=abs_client_of(ctx), listen=False) as tools:
        report = drift(ctx.sessions, tools, ctx.progress, stop=guard)
    return guard.judged(report.result())


def refresh_book(ctx: Any, book_id: int, *, listen: bool | None = None) -> BookOutcome:
    """Enrich one book now (API); raises BookNotFound."""
    with open_tools(ctx.settings, abs_client=abs_client_of(ctx),
                    listen=listen is not False) as tools:
        return enrich_book(ctx.sessions, tools, book_id, listen=listen)

