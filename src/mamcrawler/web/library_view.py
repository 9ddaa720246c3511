"""The library page: completion of series and authors, the review list, a book's fields."""

from __future__ import annotations

from collections import Counter

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.api.deps import Paging
from mamcrawler.api.routers.library import _view_page
from mamcrawler.domain.states import WantedStatus
from mamcrawler.services import metadata_fields
from mamcrawler.services.metadata_gather import BookNotFound
from mamcrawler.store.models import Book, WantedBook

ROWS = Paging(limit=200, offset=0)
OPEN = (WantedStatus.WANTED, WantedStatus.SEARCHING, WantedStatus.QUEUED,
        WantedStatus.DOWNLOADING)


def library_page(request: Request, session: Session, book_id: int | None) -> dict:
    wanted = session.execute(select(WantedBook.series, WantedBook.author)
                             .where(WantedBook.status.in_(OPEN))).all()
    by_series = Counter(s for s, _ in wanted if s)
    by_author = Counter(a for _, a in wanted if a)
    _, series = _view_page(session, "series_completion", "series_name", ROWS)
    _, authors = _view_page(session, "author_completion", "author_name", ROWS)
    for row in series:
        row["wanted"] = by_series.get(row["series_name"], 0)
    for row in authors:
        row["wanted"] = by_author.get(row["author_name"], 0)
    _, review = metadata_fields.review_list(session, 100, 0)
    books = session.execute(select(Book.id, Book.title).order_by(Book.title).limit(500)).all()
    book = None
    if book_id is not None:
        try:
            book = metadata_fields.field_view(session, book_id)
        except BookNotFound:
            book = None
    return {"series": series, "authors": authors, "review": review, "books": books,
            "book": book, "fields": metadata_fields.FIELDS}
