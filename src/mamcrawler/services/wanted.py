"""The wanted list (R7): adding merges duplicates instead of repeating them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.domain.text import book_key
from mamcrawler.store.models import WantedBook

# Statuses after which a new request for the same book starts over.
REOPENABLE = {"abandoned", "cancelled"}


def add_wanted(session: Session, fields: dict[str, Any], *,
               reopen: bool = True) -> tuple[WantedBook, bool]:
    """Add a wanted book or merge into the existing entry. Returns (entry, created).

    A person asking again reopens an abandoned or cancelled entry; the jobs that find
    books by themselves (completion, discovery) pass `reopen=False`, so a book the person
    cancelled (declined) is never wanted again behind their back."""
    key = book_key(fields["title"], fields.get("author"))
    existing = session.scalar(select(WantedBook).where(WantedBook.dedupe_key == key))
    if existing is None:
        entry = WantedBook(**fields, dedupe_key=key)
        session.add(entry)
        session.flush()
        return entry, True
    merge_wanted(existing, fields, reopen=reopen)
    return existing, False


def merge_wanted(existing: WantedBook, fields: dict[str, Any], *, reopen: bool) -> None:
    """Keep what the entry knows, fill what is missing; a higher priority wins; with
    `reopen` an abandoned or cancelled entry is wanted again."""
    for field, value in fields.items():
        if value is not None and getattr(existing, field) in (None, ""):
            setattr(existing, field, value)
    existing.priority = max(existing.priority, fields.get("priority") or 0)
    if reopen and existing.status in REOPENABLE:
        existing.status = "wanted"


def rekey(entry: WantedBook) -> None:
    """Recompute the identity after the title or author changed."""
    entry.dedupe_key = book_key(entry.title, entry.author)
