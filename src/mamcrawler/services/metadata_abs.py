"""Pushing corrected metadata to Audiobookshelf (`PATCH /api/items/{id}/media`).

A book's ABS item is found by its folder: Book.abs_item_id when known, else the item
whose path (the book's library folder as ABS sees it, through ABS_PATH_MAP), or path
relative to LIBRARY_DIR, is the book's library folder; the index of
item paths is read once per run, so a drift run over the whole library lists the items
once. Failures are returned as notes, never raised: ABS being down must not stop the
metadata work, and the next run pushes again.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError, AbsNotFound, sequence_text
from mamcrawler.config import Settings
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

from . import library
from .abs_library import find_in, item_index, library_id

log = logging.getLogger("mamcrawler.metadata")
# Book fields -> the ABS metadata key that carries them.
ABS_KEYS = {"title": "title", "subtitle": "subtitle", "authors": "authors",
            "narrators": "narrators", "series": "series", "series_position": "series",
            "year": "publishedYear", "description": "description", "asin": "asin",
            "isbn": "isbn"}
# A full push sends these even when empty, so ABS clears what it read from tags or folders
# and the service knows is not so (a narrator "Unknown", a series from a grouping tag).
# Other empty fields are left out: None there means no source had a value, not that ABS's
# is wrong. Title and authors are never cleared.
CLEARED_WHEN_EMPTY = frozenset({"narrators", "series"})


def abs_metadata(view: dict[str, Any], changed: set[str] | None = None) -> dict[str, Any]:
    """The ABS metadata body for a book (`library.book_view`): every field ABS takes, or
    only those carrying the `changed` book fields (sent even when empty). Sequences are
    text: ABS stores a number as null."""
    full = {"title": view.get("title"), "subtitle": view.get("subtitle"),
            "authors": [{"name": n} for n in view.get("authors") or []],
            "narrators": list(view.get("narrators") or []),
            "series": [{"name": s["name"], "sequence": sequence_text(s.get("position"))}
                       for s in view.get("series") or []],
            "publishedYear": str(view["year"]) if view.get("year") else None,
            "description": view.get("description"), "asin": view.get("asin"),
            "isbn": view.get("isbn")}
    if changed is None:
        return {k: v for k, v in full.items()
                if k in CLEARED_WHEN_EMPTY or v not in (None, "", [])}
    keys = {ABS_KEYS[name] for name in changed if name in ABS_KEYS}
    return {k: v for k, v in full.items() if k in keys}


class AbsPusher:
    """Pushes books' metadata through one AbsClient, finding their items by path."""

    def __init__(self, client: AbsClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._index: dict[str, str] | None = None

    def push(self, sessions: sessionmaker[Session], book_id: int,
             changed: set[str] | None, *, item_id: str | None = None) -> str | None:
        """Send the book's `changed` fields (all when None) to its item (`item_id`, else
        the one recorded, else the one at its folder); None when ABS took them, else a
        note saying why not."""
        with session_scope(sessions) as session:
            book = session.get(Book, book_id)
            view, item_id = library.book_view(book), item_id or book.abs_item_id
        try:
            item_id = item_id or self.find_item(view.get("library_path"))
            if item_id is None:
                return (f"Audiobookshelf has no item for {view.get('library_path')} yet; "
                        "it is pushed once ABS has scanned it")
            body = abs_metadata(view, changed)
            if body:
                self.client.update_media(item_id, body)
        except AbsNotFound as exc:
            _set_item(sessions, book_id, None)
            return f"Audiobookshelf item not found, looked up again next time: {exc}"
        except AbsError as exc:
            log.warning("Audiobookshelf not updated for book %s: %s", book_id, exc)
            return f"Audiobookshelf not updated: {exc}"
        _set_item(sessions, book_id, item_id)
        return None

    def find_item(self, path: str | None) -> str | None:
        """The id of the ABS item at `path`, or None."""
        if not path:
            return None
        if self._index is None:
            self._index = item_index(self.client, library_id(self.client, self.settings, path))
        return find_in(self._index, path, self.settings)


def _set_item(sessions: sessionmaker[Session], book_id: int, item_id: str | None) -> None:
    with session_scope(sessions) as session:
        book = session.get(Book, book_id)
        if book is not None and book.abs_item_id != item_id:
            book.abs_item_id = item_id
