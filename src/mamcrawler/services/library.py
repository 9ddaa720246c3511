"""Books with their people and series: resolve names to rows, render for the API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mamcrawler.domain.series_position import position_rank
from mamcrawler.domain.text import book_key
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
SQL_CHUNK = 500  # values per IN (...) list, well below every backend's parameter limit


def book_keys(session: Session, *, filed_only: bool = False) -> dict[str, int]:
    """Every book's identity (`book_key` of its title and first author) to its id, in one
    query; `filed_only` keeps the books that have a library folder."""
    query = (select(Book.id, Book.title, Author.name)
             .outerjoin(BookAuthor, BookAuthor.book_id == Book.id)
             .outerjoin(Author, Author.id == BookAuthor.author_id)
             .order_by(Book.id, BookAuthor.ordinal))
    if filed_only:
        query = query.where(Book.library_path.is_not(None))
    keys: dict[str, int] = {}
    seen: set[int] = set()
    for book_id, title, first_author in session.execute(query):
        if book_id not in seen:  # the first row of a book carries its first author
            seen.add(book_id)
            keys.setdefault(book_key(title, first_author), book_id)
    return keys


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


def create_books(session: Session, books: Sequence[dict[str, Any]]) -> list[int]:
    """Many new books at once, each as `create_book` makes one, in a few statements per
    table for the lot (the library scan files thousands); returns their ids in order.
    Unlike `create_book` it leaves no Book objects in the session."""
    ids = _insert_books(session, [{k: v for k, v in b.items() if k not in RELATIONS}
                                  for b in books])
    names = resolve_names(session, {
        Author: [n for b in books for n in b.get("authors") or ()],
        Narrator: [n for b in books for n in b.get("narrators") or ()],
        Series: [s["name"] for b in books for s in b.get("series") or ()]})
    authors, narrators, series = [], [], []
    for book_id, book in zip(ids, books, strict=True):
        for i, name in enumerate(dict.fromkeys(n.strip() for n in book.get("authors") or ())):
            authors.append({"book_id": book_id, "author_id": names[Author][name],
                            "ordinal": i})
        for i, name in enumerate(dict.fromkeys(n.strip() for n in book.get("narrators")
                                               or ())):
            narrators.append({"book_id": book_id, "narrator_id": names[Narrator][name],
                              "ordinal": i})
        unique = {s["name"].strip(): s.get("position") for s in book.get("series") or ()}
        series.extend({"book_id": book_id, "series_id": names[Series][name],
                       "position": pos, "position_sort": position_rank(pos)}
                      for name, pos in unique.items())
    for model, rows in ((BookAuthor, authors), (BookNarrator, narrators), (BookSeries, series)):
        if rows:
            session.execute(insert(model), rows)
    return ids


def _insert_books(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Book rows inserted, grouped by the fields they set (so a field left out still gets
    its column default); ids in the order of `rows`."""
    ids: list[int] = [0] * len(rows)
    groups: dict[frozenset[str], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(frozenset(row), []).append(index)
    for indexes in groups.values():
        made = session.scalars(insert(Book).returning(Book.id, sort_by_parameter_order=True),
                               [rows[i] for i in indexes])
        for index, book_id in zip(indexes, made, strict=True):
            ids[index] = book_id
    return ids


def resolve_names(session: Session, names: dict[Any, Iterable[str]]) -> dict[Any, dict[str, int]]:
    """The ids of author, narrator or series names (model -> names), creating the names
    not known yet: a few statements however many names, where `_get_or_create` costs a
    query (and a flush) per name."""
    ids: dict[Any, dict[str, int]] = {}
    for model, wanted in names.items():
        unique = sorted({n.strip() for n in wanted if n.strip()})
        found: dict[str, int] = {}
        for chunk in chunks(unique, SQL_CHUNK):
            found.update((name, id_) for name, id_ in session.execute(
                select(model.name, model.id).where(model.name.in_(chunk))))
        new = [{"name": n} for n in unique if n not in found]
        if new:
            found.update((name, id_) for name, id_ in session.execute(
                insert(model).returning(model.name, model.id, sort_by_parameter_order=True),
                new))
        ids[model] = found
    return ids


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    """`items` in slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def book_view(book: Book) -> dict[str, Any]:
    """A book as plain data, with names instead of link rows."""
    plain = {c.key: getattr(book, c.key) for c in Book.__table__.columns}
    plain["authors"] = [link.author.name for link in book.authors]
    plain["narrators"] = [link.narrator.name for link in book.narrators]
    plain["series"] = [{"name": link.series.name, "position": link.position}
                       for link in book.series]
    return plain
