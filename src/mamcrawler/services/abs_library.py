"""Keeping Audiobookshelf in step with the library folder: finding a book's item by its
folder, and making ABS show the books just filed.

ABS's answer to a scan or a watcher update proves nothing: a scan runs after the answer,
and a watcher update is answered 200 even when the library's watcher is disabled (ABS only
logs an error). So the service never relies on `watcher_update`: it asks for a scan (of the
item when ABS already has one, else of the library) and then looks for each book's folder
among ABS's items, polling with a bounded wait, and says plainly which ones did not appear.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError, AbsNotFound
from mamcrawler.config import Settings
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

log = logging.getLogger("mamcrawler.downloads")
PAGE_SIZE = 500
WAIT_S = 60.0  # how long a scan may take to show new books before the run says so
FIRST_POLL_S = 1.0
MAX_POLL_S = 10.0


def library_id(client: AbsClient, settings: Settings, path: str | None = None) -> str:
    """ABS_LIBRARY_ID, else the library whose folder holds LIBRARY_DIR (or `path`)."""
    return settings.abs_library_id or client.library_id_for_path(
        settings.abs_paths.to_remote(str(settings.library_dir or path)))


def item_index(client: AbsClient, library: str) -> dict[str, str]:
    """Every item of the library by its path as ABS sees it, and by ``rel:<relPath>``."""
    index: dict[str, str] = {}
    page = 0
    while True:
        batch = client.items(library, limit=PAGE_SIZE, page=page)
        for item in batch.items:
            index[str(PurePosixPath(item.path))] = item.id
            rel = item.raw.get("relPath")
            if rel:
                index[f"rel:{PurePosixPath(rel)}"] = item.id
        page += 1
        if len(batch.items) < PAGE_SIZE or page * PAGE_SIZE >= batch.total:
            return index


def find_in(index: dict[str, str], path: str | None, settings: Settings) -> str | None:
    """The id of the item at `path` (a folder on this machine), through ABS_PATH_MAP, or
    by its path relative to LIBRARY_DIR; None when ABS has none."""
    if not path:
        return None
    found = index.get(str(PurePosixPath(settings.abs_paths.to_remote(path))))
    if found is None and settings.library_dir is not None:
        try:
            rel = PurePosixPath(path).relative_to(PurePosixPath(settings.library_dir))
        except ValueError:
            return None
        found = index.get(f"rel:{rel}")
    return found


@dataclass(frozen=True)
class Shown:
    """What ABS shows after the scan: item ids by book id, and the folders it does not."""

    items: dict[int, str]
    missing: tuple[str, ...]


def scan_until_shown(client: AbsClient, sessions: sessionmaker[Session], settings: Settings,
                     book_ids: Iterable[int], *, wait_s: float = WAIT_S,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic,
                     stop: Callable[[], bool] = lambda: False) -> Shown:
    """Scan and poll until ABS lists every book's folder, at most `wait_s` seconds (no
    more polls once `stop` says the process is stopping).

    A book ABS already has an item for (a replacement) gets that item scanned; the library
    is scanned when a book is new, or when its item no longer shows its folder. Raises
    ScanNotStarted when ABS cannot be asked to scan, AbsError when its items cannot be read.
    """
    with session_scope(sessions) as session:
        books = {b.id: (b.library_path, b.abs_item_id) for b in
                 (session.get(Book, i) for i in book_ids) if b is not None}
    try:
        library = library_id(client, settings)
        known = [item for _, item in books.values() if item]
        for item in known:
            try:
                client.scan_item(item)
            except AbsNotFound:
                pass  # gone from ABS: the library scan below finds the folder again
        scanned = len(known) < len(books)
        if scanned:
            client.scan_library(library)
    except AbsError as exc:
        raise ScanNotStarted(str(exc)) from exc
    deadline, pause = clock() + wait_s, FIRST_POLL_S
    while True:
        index = item_index(client, library)
        found = {book: item for book, (path, _) in books.items()
                 if (item := find_in(index, path, settings)) is not None}
        missing = tuple(str(path) for book, (path, _) in books.items() if book not in found)
        if not missing:
            break
        if not scanned:
            try:
                client.scan_library(library)
            except AbsError as exc:
                raise ScanNotStarted(str(exc)) from exc
            scanned = True
            continue
        left = deadline - clock()
        if left <= 0 or stop():
            break
        sleep(min(pause, left))
        pause = min(pause * 2, MAX_POLL_S)
    return Shown(found, missing)


class ScanNotStarted(AbsError):
    """ABS could not be asked to scan (down, wrong token, unknown library)."""
