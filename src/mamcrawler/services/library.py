"""Books with their people and series: resolve names to rows, render for the API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.domain.series_position import position_rank
from mamcrawler.store.models import (
    Author,
    Book,
    BookAuthor,
    BookNarrator,
    BookSeries,
    Narrator,
    Series,
)

RELATIONS = ("authors", "narrators", "series")


def _get_or_create(session: Session, model: Any, name: str) -> Any:
    name = name.strip()
    # New names are flushed right away below, so the lookup need not flush pending books.
    with session.no_autoflush:
        found = session.scalar(select(model).where(model.name == name))
    if found is None:
        found = model(name=name)
        session.add(found)
        session.flush()
    return found


def set_people(session: Session, book: Book, authors: Iterable[str] | None,
               narrators: Iterable[str] | None) -> None:
    if authors is not None:
        book.authors = [
            BookAuthor(author=_get_or_create(session, Author, n), ordinal=i)
            for i, n in enumerate(dict.fromkeys(authors))
        ]
    if narrators is not None:
        book.narrators = [
            BookNarrator(narrator=_get_or_create(session, Narrator, n), ordinal=i)
            for i, n in enumerate(dict.fromkeys(narrators))
        ]


def set_series(session: Session, book: Book, series: Iterable[tuple[str, str | None]] | None):
    if series is None:
        return
    unique = {name.strip(): position for name, position in series}
    book.series = [
        BookSeries(series=_get_or_create(session, Series, name), position=pos,
                   position_sort=position_rank(pos))
        for name, pos in unique.items()
    ]


def create_book(session: Session, fields: dict[str, Any]) -> Book:
    """A new book from plain fields plus `authors`, `narrators` (names) and `series`."""
    relations = {k: fields.pop(k, None) for k in RELATIONS}
    book = Book(**fields)
    session.add(book)
    update_book(session, book, relations)
    return book


def update_book(session: Session, book: Book, fields: dict[str, Any]) -> None:
    """Change the given fields; relations are replaced when given."""
    for key, value in fields.items():
        if key not in RELATIONS:
            setattr(book, key, value)
    set_people(session, book, fields.get("authors"), fields.get("narrators"))
    series = fields.get("series")
    set_series(session, book, None if series is None else
               [(s["name"], s.get("position")) for s in series])


def book_view(book: Book) -> dict[str, Any]:
    """A book as plain data, with names instead of link rows."""
    plain = {c.key: getattr(book, c.key) for c in Book.__table__.columns}
    plain["authors"] = [link.author.name for link in book.authors]
    plain["narrators"] = [link.narrator.name for link in book.narrators]
    plain["series"] = [{"name": link.series.name, "position": link.position}
                       for link in book.series]
    return plain
