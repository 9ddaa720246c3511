"""A person's view of and hand on a book's metadata (R15): fields with their sources,
setting and protecting a field, corrections history, the review list.

A value a person sets is stored with source "user"; protected (the default) it is never
changed by enrichment or drift. Verifying a value (setting the value it already has)
protects it and keeps the source that found it. Every change is a MetadataCorrection.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mamcrawler.domain.metadata_merge import (
    FIELDS,
    LIMITS,
    NAME_LIMIT,
    PEOPLE,
    USER,
    book_fields,
    clean_value,
    same_value,
    show,
)
from mamcrawler.store.models import Book, FieldSource, MetadataCorrection

from . import library
from .metadata_gather import BookNotFound, field_rows

DESCRIPTION_LIMIT = 20000
MAX_PEOPLE = 50
_ISBN = re.compile(r"^(?:\d{9}[\dX]|\d{13})$")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")


class UnknownField(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown metadata field {name!r}; fields are {', '.join(FIELDS)}")
        self.name = name


class BadFieldValue(ValueError):
    """A value the field cannot hold; the message says what it takes."""


def field_view(session: Session, book_id: int) -> dict[str, Any]:
    """The book's metadata fields, each with value, source, protected flag, confidence
    and evidence; raises BookNotFound."""
    book = _book(session, book_id)
    values = book_fields(library.book_view(book))
    rows = field_rows(session, book_id)
    fields = []
    for name in FIELDS:
        row = rows.get(name) or (rows.get("series") if name == "series_position" else None)
        value = values.get(name)
        fields.append({
            "field": name, "value": list(value) if isinstance(value, tuple) else value,
            "source": row.source if row else None,
            "protected": bool(rows[name].protected) if name in rows else False,
            "confidence": row.confidence if row else None,
            "evidence": row.evidence if row else None,
            "updated_at": row.updated_at if row else None})
    return {"book_id": book.id, "title": book.title, "needs_review": book.needs_review,
            "review_reason": book.review_reason, "missing_since": book.missing_since,
            "fields": fields}


def set_field(session: Session, book_id: int, name: str, value: Any, *,
              protect: bool = True) -> dict[str, Any]:
    """Set a field by hand: the value is written (with a correction when it changes),
    its source becomes "user" (kept when the value was already right) and it is
    protected unless `protect` is False. Raises UnknownField, BadFieldValue,
    BookNotFound. Returns the field's view."""
    book = _book(session, book_id)
    cleaned = validate(name, value)
    view = library.book_view(book)
    now = book_fields(view).get(name)
    if name == "series_position" and not view.get("series"):
        raise BadFieldValue("series_position: the book has no series; set series first")
    changed = not same_value(name, cleaned, now)
    if changed:
        library.update_book(session, book, _book_update(view, name, cleaned))
        session.add(MetadataCorrection(book_id=book_id, field=name, old_value=show(now),
                                       new_value=show(cleaned), source=USER))
    row = field_rows(session, book_id).get(name)
    if row is None:
        row = FieldSource(book_id=book_id, field=name, source=USER)
        session.add(row)
    if changed:
        row.source, row.confidence = USER, 1.0
        row.evidence = "set by a person"
    elif protect:
        row.evidence = f"verified by a person (found by {row.source})"
    row.protected = protect
    session.flush()
    return _one(field_view(session, book_id), name)


def unprotect(session: Session, book_id: int, name: str) -> dict[str, Any]:
    """Let enrichment and drift change the field again; returns its view. Raises
    UnknownField, BookNotFound."""
    if name not in FIELDS:
        raise UnknownField(name)
    _book(session, book_id)
    row = field_rows(session, book_id).get(name)
    if row is not None:
        row.protected = False
        session.flush()
    return _one(field_view(session, book_id), name)


def validate(name: str, value: Any) -> Any:
    """The value cleaned as the field stores it, or BadFieldValue saying what it takes.
    None clears a field (not the title)."""
    if name not in FIELDS:
        raise UnknownField(name)
    if value is None:
        if name == "title":
            raise BadFieldValue("title: a book needs a title")
        return None
    if isinstance(value, str) and "\x00" in value:
        raise BadFieldValue(f"{name}: NUL characters are not allowed")
    if name in PEOPLE:
        return _people(name, value)
    if name == "description":
        if not isinstance(value, str) or len(value) > DESCRIPTION_LIMIT:
            raise BadFieldValue(f"description: text of at most {DESCRIPTION_LIMIT} characters")
        return value.strip() or None
    cleaned = clean_value(name, value)
    if cleaned is None or not _fits(name, value, cleaned):
        raise BadFieldValue(f"{name}: {_expected(name)}")
    return cleaned


def _people(name: str, value: Any) -> tuple[str, ...] | None:
    ok = isinstance(value, list) and len(value) <= MAX_PEOPLE and all(
        isinstance(v, str) and v.strip() and len(v) <= NAME_LIMIT and "\x00" not in v
        for v in value)
    if not ok:
        raise BadFieldValue(f"{name}: a list of at most {MAX_PEOPLE} names, each 1-"
                            f"{NAME_LIMIT} characters")
    return clean_value(name, value)


def _fits(name: str, raw: Any, cleaned: Any) -> bool:
    if name in LIMITS and name != "series_position" and not isinstance(raw, str):
        return False
    if name in LIMITS and isinstance(raw, str) and len(raw.strip()) > LIMITS[name]:
        return False
    if name == "isbn":
        return bool(_ISBN.match(cleaned))
    if name == "asin":
        return bool(_ASIN.match(cleaned))
    if name == "year":
        return isinstance(raw, int) and not isinstance(raw, bool)
    return True


def _expected(name: str) -> str:
    return {
        "year": "a whole number from 1000 to 2999",
        "duration_seconds": "a number of seconds above 0",
        "abridged": "true or false",
        "isbn": "10 or 13 digits (ISBN-10 may end in X)",
        "asin": "10 letters or digits, e.g. B017V4IM1G",
        "series_position": "a number such as 1 or 2.5, at most 20 characters",
    }.get(name, f"text of 1-{LIMITS.get(name, 500)} characters")


def _book_update(view: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    if name == "series":
        rest = [dict(s) for s in view.get("series") or []]
        position = rest[0].get("position") if rest else None
        return {"series": [] if value is None else
                [{"name": value, "position": position}] + rest[1:]}
    if name == "series_position":
        series = [dict(s) for s in view["series"]]
        series[0]["position"] = value
        return {"series": series}
    if name in PEOPLE:
        return {name: list(value or ())}
    return {name: value}


def corrections(session: Session, book_id: int, limit: int, offset: int
                ) -> tuple[int, list[dict[str, Any]]]:
    """The book's corrections, newest first; raises BookNotFound."""
    _book(session, book_id)
    where = MetadataCorrection.book_id == book_id
    total = session.scalar(select(func.count()).select_from(MetadataCorrection).where(where))
    rows = session.scalars(select(MetadataCorrection).where(where).order_by(
        MetadataCorrection.at.desc(), MetadataCorrection.id.desc()).limit(limit).offset(offset))
    return total or 0, [{"id": r.id, "field": r.field, "old_value": r.old_value,
                         "new_value": r.new_value, "source": r.source, "at": r.at}
                        for r in rows]


def review_list(session: Session, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Books flagged for review or whose files are all gone (`missing_since`), with
    their reasons, by id."""
    where = or_(Book.needs_review.is_(True), Book.missing_since.is_not(None))
    total = session.scalar(select(func.count()).select_from(Book).where(where))
    books = session.scalars(select(Book).where(where).order_by(Book.id)
                            .limit(limit).offset(offset)).unique()
    return total or 0, [{"book_id": b.id, "title": b.title,
                         "authors": [link.author.name for link in b.authors],
                         "library_path": b.library_path, "review_reason": b.review_reason,
                         "missing_since": b.missing_since}
                        for b in books]


def _book(session: Session, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise BookNotFound(book_id)
    return book


def _one(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in view["fields"] if f["field"] == name)
