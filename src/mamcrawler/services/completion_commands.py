"""A person's commands on a missing book: decline it, or want it after all.

Declining marks the gap `declined` and cancels its wanted entry if no download has started
(a running download is cancelled through the downloads commands instead, so its torrent
keeps seeding). Completion and discovery never want a declined book again; wanting it by
hand reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.domain.completion import GapStatus
from mamcrawler.domain.states import WantedStatus, move_wanted
from mamcrawler.store.models import Author, CategorySetting, MissingBook, Series, WantedBook

from .completion_store import BASE_PRIORITY, priority_for, source_of
from .wanted import add_wanted, merge_wanted

CANCELLABLE = frozenset({WantedStatus.WANTED, WantedStatus.SEARCHING,
                         WantedStatus.ABANDONED, WantedStatus.CANCELLED})


class MissingNotFound(LookupError):
    """No missing book has this id."""


class MissingCommandRefused(Exception):
    """The book's wanted entry is past the point where declining can stop it."""


@dataclass(frozen=True)
class MissingCommandResult:
    missing_id: int
    status: str
    wanted_id: int | None
    wanted_status: str | None
    message: str


def decline(session: Session, missing_id: int) -> MissingCommandResult:
    """The person does not want this book: never wanted again by the jobs."""
    row = _load(session, missing_id)
    entry = _wanted_of(session, row)
    if entry is not None and entry.status not in CANCELLABLE:
        where = {WantedStatus.DONE: "it is already downloaded"}.get(
            WantedStatus(entry.status), f"its download is under way ({entry.status}); cancel "
            "the download (POST /api/downloads/{id}/cancel) to stop it")
        raise MissingCommandRefused(f"'{row.title}' cannot be declined: {where}")
    if entry is not None:
        entry.status = move_wanted(entry.status, WantedStatus.CANCELLED)
        entry.note = "declined"
    row.status, row.reason = GapStatus.DECLINED, "declined by you"
    session.flush()
    return _result(row, entry, f"declined '{row.title}'; completion and discovery will not "
                   "want it again")


def want(session: Session, missing_id: int) -> MissingCommandResult:
    """The person wants this book (declined or only recorded): it joins the wanted list."""
    row = _load(session, missing_id)
    known = row.found_in in BASE_PRIORITY
    fields = {"title": row.title, "author": row.author_name, "position": row.position,
              "asin": row.asin, "narrator": row.narrator,
              "expected_duration_seconds": row.duration_seconds,
              "source": source_of(row.found_in, _found_name(session, row)) if known
              else "manual", "series": _series_name(session, row),
              "priority": priority_for(row.found_in, row.position) if known else 0}
    entry = _wanted_of(session, row)  # its entry, also when the person renamed it since
    if entry is not None:
        merge_wanted(entry, fields, reopen=True)
        created = False
    else:
        entry, created = add_wanted(session, fields, reopen=True)
    row.wanted_id, row.status, row.reason = entry.id, GapStatus.MISSING, "wanted by you"
    row.wanted_at = row.wanted_at or datetime.now(UTC)
    session.flush()
    verb = "added to" if created else "merged into"
    return _result(row, entry, f"'{row.title}' {verb} the wanted list (#{entry.id})")


def _found_name(session: Session, row: MissingBook) -> str | None:
    """The name of the series, author or category the book was found in."""
    if row.found_in == "series" and row.series_id:
        return _series_name(session, row)
    if row.found_in == "author" and row.author_id:
        author = session.get(Author, row.author_id)
        return author.name if author else None
    if row.category_id:
        category = session.get(CategorySetting, row.category_id)
        return category.name if category else None
    return None


def _series_name(session: Session, row: MissingBook) -> str | None:
    series = session.get(Series, row.series_id) if row.series_id else None
    return series.name if series else None


def _load(session: Session, missing_id: int) -> MissingBook:
    row = session.get(MissingBook, missing_id)
    if row is None:
        raise MissingNotFound(f"missing book {missing_id}")
    return row


def _wanted_of(session: Session, row: MissingBook) -> WantedBook | None:
    if row.wanted_id is not None:
        entry = session.get(WantedBook, row.wanted_id)
        if entry is not None:
            return entry
    if row.gap_key is None:
        return None
    return session.scalar(select(WantedBook).where(WantedBook.dedupe_key == row.gap_key))


def _result(row: MissingBook, entry: WantedBook | None, message: str) -> MissingCommandResult:
    return MissingCommandResult(row.id, row.status, entry.id if entry else None,
                                entry.status if entry else None, message)
