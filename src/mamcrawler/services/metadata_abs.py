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
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError, AbsNotFound
from mamcrawler.config import Settings
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

from . import library

log = logging.getLogger("mamcrawler.metadata")
PAGE_SIZE = 500
# Book fields -> the ABS metadata key that carries them.
ABS_KEYS = {"title": "title", "subtitle": "subtitle", "authors": "authors",
            "narrators": "narrators", "series": "series", "series_position": "series",
            "year": "publishedYear", "description": "description", "asin": "asin",
            "isbn": "isbn"}


def abs_metadata(view: dict[str, Any], changed: set[str] | None = None) -> dict[str, Any]:
    """The ABS metadata body for a book (`library.book_view`): every field ABS takes, or
    only those carrying the `changed` book fields."""
    full = {"title": view.get("title"), "subtitle": view.get("subtitle"),
            "authors": [{"name": n} for n in view.get("authors") or []],
            "narrators": list(view.get("narrators") or []),
            "series": [{"name": s["name"], "sequence": s.get("position")}
                       for s in view.get("series") or []],
            "publishedYear": str(view["year"]) if view.get("year") else None,
            "description": view.get("description"), "asin": view.get("asin"),
            "isbn": view.get("isbn")}
    if changed is None:
        return {k: v for k, v in full.items() if v not in (None, "", [])}
    keys = {ABS_KEYS[name] for name in changed if name in ABS_KEYS}
    return {k: v for k, v in full.items() if k in keys}


class AbsPusher:
    """Pushes books' metadata through one AbsClient, finding their items by path."""

    def __init__(self, client: AbsClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._index: dict[str, str] | None = None

    def push(self, sessions: sessionmaker[Session], book_id: int,
             changed: set[str] | None) -> str | None:
        """Send the book's `changed` fields (all when None); None when ABS took them,
        else a note saying why not."""
        with session_scope(sessions) as session:
            book = session.get(Book, book_id)
            view, item_id = library.book_view(book), book.abs_item_id
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
        index = self._items(path)
        found = index.get(str(PurePosixPath(self.settings.abs_paths.to_remote(path))))
        if found is None and self.settings.library_dir is not None:
            try:
                rel = PurePosixPath(path).relative_to(PurePosixPath(self.settings.library_dir))
            except ValueError:
                return None
            found = index.get(f"rel:{rel}")
        return found

    def _items(self, path: str) -> dict[str, str]:
        if self._index is None:
            library_id = self.settings.abs_library_id or self.client.library_id_for_path(
                self.settings.abs_paths.to_remote(str(self.settings.library_dir or path)))
            index: dict[str, str] = {}
            page = 0
            while True:
                batch = self.client.items(library_id, limit=PAGE_SIZE, page=page)
                for item in batch.items:
                    index[str(PurePosixPath(item.path))] = item.id
                    rel = item.raw.get("relPath")
                    if rel:
                        index[f"rel:{PurePosixPath(rel)}"] = item.id
                page += 1
                if len(batch.items) < PAGE_SIZE or page * PAGE_SIZE >= batch.total:
                    break
            self._index = index
        return self._index


def _set_item(sessions: sessionmaker[Session], book_id: int, item_id: str | None) -> None:
    with session_scope(sessions) as session:
        book = session.get(Book, book_id)
        if book is not None and book.abs_item_id != item_id:
            book.abs_item_id = item_id
