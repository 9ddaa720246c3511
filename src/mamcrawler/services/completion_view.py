"""How complete a series or an author is (R18): the books held, missing, wanted and
declined, each with its position, for the API and the CLI. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mamcrawler.domain.bibliography import SubjectKind
from mamcrawler.domain.completion import GapStatus
from mamcrawler.domain.series_position import reading_order
from mamcrawler.domain.vip_pending import ACTIVE_WANTED
from mamcrawler.store.models import (
    Author,
    Book,
    BookAuthor,
    BookSeries,
    MissingBook,
    Series,
    WantedBook,
)

from .follows import MODELS, FollowNotFound, FollowResult, find_subject, result_of


@dataclass(frozen=True)
class CompletionEntry:
    title: str
    position: str | None
    reason: str | None = None
    book_id: int | None = None
    missing_id: int | None = None
    wanted_id: int | None = None
    wanted_status: str | None = None
    release_date: date | None = None
    asin: str | None = None


@dataclass(frozen=True)
class CompletionView:
    follow: FollowResult
    follow_set_by: str | None
    checked_at: datetime | None
    note: str | None
    have: tuple[CompletionEntry, ...]
    missing: tuple[CompletionEntry, ...]  # open gaps not (or no longer) being fetched
    wanted: tuple[CompletionEntry, ...]  # open gaps on the wanted list
    declined: tuple[CompletionEntry, ...]


def completion_view(session: Session, kind: SubjectKind, item_id: int | None = None, *,
                    name: str | None = None) -> CompletionView:
    """The completion of one series or author, by id or name (any case)."""
    model, _ = MODELS[kind]
    row = find_subject(session, model, name, item_id)
    if row is None:
        raise FollowNotFound(f"{kind} {item_id if item_id is not None else name!r}")
    link = MissingBook.series_id if kind is SubjectKind.SERIES else MissingBook.author_id
    gaps = list(session.scalars(select(MissingBook).where(link == row.id)))
    entries = {w.id: w for w in session.scalars(select(WantedBook).where(
        WantedBook.id.in_([g.wanted_id for g in gaps if g.wanted_id])))}
    missing, wanted, declined = [], [], []
    for gap in gaps:
        entry = entries.get(gap.wanted_id) if gap.wanted_id else None
        item = CompletionEntry(gap.title, gap.position, gap.reason, missing_id=gap.id,
                               wanted_id=entry.id if entry else None,
                               wanted_status=entry.status if entry else None,
                               release_date=gap.release_date, asin=gap.asin)
        if gap.status == GapStatus.DECLINED:
            declined.append(item)
        elif gap.status == GapStatus.MISSING:
            active = entry is not None and entry.status in ACTIVE_WANTED
            (wanted if active else missing).append(item)
    return CompletionView(result_of(row, kind), row.follow_set_by, row.completion_checked_at,
                          row.completion_note, _sorted(_held(session, kind, row)),
                          _sorted(missing), _sorted(wanted), _sorted(declined))


def _held(session: Session, kind: SubjectKind, row: Series | Author) -> list[CompletionEntry]:
    if kind is SubjectKind.SERIES:
        rows = session.execute(select(Book.id, Book.title, BookSeries.position)
                               .join(BookSeries, BookSeries.book_id == Book.id)
                               .where(BookSeries.series_id == row.id))
        return [CompletionEntry(title, position, book_id=book_id)
                for book_id, title, position in rows]
    books = session.scalars(select(Book).where(Book.id.in_(
        select(BookAuthor.book_id).where(BookAuthor.author_id == row.id)))
        .options(selectinload(Book.series)))
    return [CompletionEntry(b.title, b.series[0].position if b.series else None,
                            book_id=b.id, asin=b.asin) for b in books]


def _sorted(entries: list[CompletionEntry]) -> tuple[CompletionEntry, ...]:
    return tuple(sorted(entries, key=lambda e: reading_order(e.position, e.title)))
