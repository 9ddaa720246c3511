"""What completion and discovery read from and write to the database.

Reads: the followed subjects due for a check (with each follow's rules), the books the
library holds for one, and what is known about candidate books (missing-book rows and
wanted entries by key). Writes: a verdict becomes a missing-book row (one per book, keyed
like the wanted list) and, for `want`, a wanted entry added with `reopen=False` (a
cancelled entry, the person's "no", stays cancelled) carrying where it was found
(`series:<name>`), a priority by position and the facts that make the search precise
(ASIN, narrator, expected duration).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mamcrawler.domain.bibliography import BibBook, FollowRules, Scope, Subject, SubjectKind
from mamcrawler.domain.completion import (
    GapAction,
    GapStatus,
    KnownGap,
    OwnedBook,
    SubjectResult,
)
from mamcrawler.domain.editions import is_dramatized
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import position_rank, position_span
from mamcrawler.store.models import (
    Author,
    Book,
    BookAuthor,
    BookSeries,
    MissingBook,
    Series,
    WantedBook,
)

from .wanted import add_wanted

# Below a book asked for by hand (0): the gaps of a series before an author's backlist,
# both before what discovery finds; within a series or author, the lowest missing
# position first (a gap's priority is its base minus its position, at most 99 below).
BASE_PRIORITY = {"series": -100, "author": -200, "category": -300, "top10": -400}
NOTE_LIMIT = 2000
SOURCE_LIMIT = 300


@dataclass(frozen=True)
class Find:
    """A book to record (and maybe want), as completion or discovery saw it."""

    key: str
    title: str
    author: str | None
    action: GapAction
    reason: str
    found_in: str  # series, author, category, top10
    sources: tuple[str, ...] = ()
    series: str | None = None
    position: str | None = None
    asin: str | None = None
    release_ids: tuple[str, ...] = ()
    series_id: int | None = None
    author_id: int | None = None
    category_id: int | None = None
    found_name: str | None = None  # the series, author or category it was found in
    narrator: str | None = None
    duration_s: float | None = None
    release_date: date | None = None


def priority_for(found_in: str, position: str | None) -> int:
    """The wanted-list priority of a gap or find (higher is searched first)."""
    base = BASE_PRIORITY.get(found_in, 0)
    if found_in not in ("series", "author"):
        return base
    rank = position_rank(position)
    return base - (99 if rank is None else min(99, max(0, int(rank))))


def _kind_rank(source: str) -> int:
    """How specific a job's source is (series > author > category > top10); a person's
    sources (manual, vip_pending) rank above all and are never replaced."""
    return BASE_PRIORITY.get(source.split(":", 1)[0], 0)


def source_of(found_in: str, name: str | None) -> str:
    """A wanted entry's source: "series:The Ember Crown Cycle", or the kind alone."""
    return f"{found_in}:{name}"[:SOURCE_LIMIT] if name else found_in


def rules_of(row: Series | Author) -> FollowRules:
    return FollowRules(scope=Scope(row.follow_scope or Scope.ALL), since=row.followed_at,
                       language=row.follow_language,
                       audiobook_only=row.audiobook_only is not False,
                       unabridged_only=row.unabridged_only is not False)


def subject_of(session: Session, kind: SubjectKind, row: Series | Author) -> Subject:
    authors = series_authors(session, row.id) if kind is SubjectKind.SERIES else ()
    return Subject(kind, row.id, row.name, authors, rules_of(row))


def due_subjects(session: Session) -> list[Subject]:
    """Followed authors and series, least recently checked first (never checked before
    all), authors before series so a series can reuse its author's tracker search."""
    found: list[tuple] = []
    for kind, model in ((SubjectKind.AUTHOR, Author), (SubjectKind.SERIES, Series)):
        for row in session.scalars(select(model).where(model.followed)):
            found.append((row.completion_checked_at is not None,
                          row.completion_checked_at or datetime.min, kind is SubjectKind.SERIES,
                          row.name.casefold(), kind, row))
    found.sort(key=lambda t: t[:4])
    return [subject_of(session, kind, row) for *_, kind, row in found]


def series_authors(session: Session, series_id: int) -> tuple[str, ...]:
    """Authors of the series' books in the library, the most frequent first."""
    names = session.scalars(
        select(Author.name).join(BookAuthor, BookAuthor.author_id == Author.id)
        .join(BookSeries, BookSeries.book_id == BookAuthor.book_id)
        .where(BookSeries.series_id == series_id))
    return tuple(name for name, _ in Counter(names).most_common())


def owned_books(session: Session, subject: Subject) -> list[OwnedBook]:
    """The library's books in the series or by its authors (a series book the scan did
    not tie to its series still counts), or by the author."""
    by_author = select(BookAuthor.book_id).join(Author).where(
        Author.name.in_(subject.authors if subject.kind is SubjectKind.SERIES
                        else (subject.name,)))
    where = Book.id.in_(by_author)
    if subject.kind is SubjectKind.SERIES:
        where = where | Book.id.in_(select(BookSeries.book_id)
                                    .where(BookSeries.series_id == subject.id))
    books = session.scalars(select(Book).where(where).options(
        selectinload(Book.authors), selectinload(Book.series)))
    return [OwnedBook(b.title, tuple(link.author.name for link in b.authors),
                      tuple(SeriesRef(link.series.name, link.position) for link in b.series),
                      b.asin, b.abridged, is_dramatized(b.title, b.subtitle)) for b in books]


def known_gaps(session: Session, keys: Iterable[str]) -> dict[str, KnownGap]:
    """Missing-book status and wanted status of each key that has either."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    missing = {m.gap_key: m for m in session.scalars(
        select(MissingBook).where(MissingBook.gap_key.in_(keys)))}
    wanted = {w.dedupe_key: w for w in session.scalars(
        select(WantedBook).where(WantedBook.dedupe_key.in_(keys)))}
    # An entry the person renamed keeps its link, not its key.
    linked = {w.id: w for w in session.scalars(select(WantedBook).where(WantedBook.id.in_(
        [m.wanted_id for m in missing.values() if m.wanted_id is not None])))}
    known = {}
    for key in keys:
        gap = missing.get(key)
        entry = wanted.get(key) or (linked.get(gap.wanted_id) if gap is not None else None)
        if gap is not None or entry is not None:
            # a job wanted it and the entry is gone: the person removed it
            removed = entry is None and gap is not None and gap.wanted_at is not None
            known[key] = KnownGap(gap.status if gap else None,
                                  entry.status if entry else None,
                                  entry.id if entry else None, removed)
    return known


def record_subject(session: Session, result: SubjectResult, now: datetime,
                   note: str = "") -> None:
    """Write every verdict of one subject and mark the subject checked."""
    subject = result.subject
    ids = {"series_id": subject.id} if subject.kind is SubjectKind.SERIES \
        else {"author_id": subject.id}
    for verdict in sorted(result.verdicts, key=lambda v: _order(v.book)):
        record_find(session, _find_of(verdict.book, verdict.action, verdict.reason,
                                      subject, ids), now)
    model = Series if subject.kind is SubjectKind.SERIES else Author
    row = session.get(model, subject.id)
    if row is not None:
        row.completion_checked_at = now
        row.completion_note = ("; ".join(filter(None, [result.summary(), note])))[:NOTE_LIMIT]
        if isinstance(row, Series) and result.known_total:
            row.known_total = result.known_total


def _order(book: BibBook) -> tuple:
    span = position_span(book.position)
    return (span is None, span or (0.0, 0.0), book.title.casefold())


def _find_of(book: BibBook, action: GapAction, reason: str, subject: Subject,
             ids: dict[str, int]) -> Find:
    return Find(key=book.key, title=book.title, author=book.author, action=action,
                reason=reason, found_in=str(subject.kind), sources=book.sources,
                series=book.series, position=book.position, asin=book.asin,
                release_ids=book.release_ids, found_name=subject.name, narrator=book.narrator,
                duration_s=book.duration_s, release_date=book.release_date, **ids)


def gaps_filled_by(session: Session, wanted_id: int, now: datetime) -> int:
    """Close the open gaps whose wanted entry just reached the library (without waiting
    for the next completion run); returns how many."""
    rows = session.scalars(select(MissingBook).where(
        MissingBook.wanted_id == wanted_id, MissingBook.status == GapStatus.MISSING)).all()
    for row in rows:
        row.status, row.reason, row.seen_at = GapStatus.FILLED, "arrived in the library", now
    return len(rows)


def record_find(session: Session, find: Find, now: datetime) -> MissingBook | None:
    """The missing-book row of `find` (made or updated), and its wanted entry for `want`.
    An owned book closes an open gap; nothing is recorded for an owned book without one."""
    row = session.scalar(select(MissingBook).where(MissingBook.gap_key == find.key))
    if find.action is GapAction.OWNED:
        if row is not None and row.status == GapStatus.MISSING:
            row.status, row.reason, row.seen_at = GapStatus.FILLED, find.reason, now
        return row
    if row is None:
        row = MissingBook(gap_key=find.key, title=find.title, found_in=find.found_in,
                          found_via="+".join(find.sources) or "tracker",
                          status=GapStatus.MISSING)
        session.add(row)
    _fill(row, find, now)
    if find.action is GapAction.DECLINED:
        row.status = GapStatus.DECLINED
    elif row.status == GapStatus.FILLED:
        row.status = GapStatus.MISSING  # listed again and no longer in the library
    if find.action is GapAction.WANT and row.status == GapStatus.MISSING:
        entry = _want(session, row, wanted_fields(find))
        row.wanted_id = entry.id
        row.wanted_at = row.wanted_at or now
    session.flush()
    return row


def _want(session: Session, row: MissingBook, fields: dict) -> WantedBook:
    """The gap's wanted entry: the one it is linked to (also when the person renamed it),
    else one added or merged by key. Known facts are kept, missing ones filled; found in a
    series beats found by its author (the more specific source and priority)."""
    entry = session.get(WantedBook, row.wanted_id) if row.wanted_id is not None else None
    if entry is None:
        entry, _ = add_wanted(session, fields, reopen=False)
    else:
        for name, value in fields.items():
            if value is not None and getattr(entry, name) in (None, ""):
                setattr(entry, name, value)
    if _kind_rank(fields["source"]) > _kind_rank(entry.source):
        entry.source = fields["source"]
        entry.priority = max(entry.priority, fields["priority"])
    return entry


def _fill(row: MissingBook, find: Find, now: datetime) -> None:
    row.title, row.reason, row.seen_at = find.title, find.reason, now
    row.author_name = find.author or row.author_name
    row.position = find.position or row.position
    row.position_sort = position_rank(row.position)
    row.asin = find.asin or row.asin
    row.narrator = find.narrator or row.narrator
    row.duration_seconds = find.duration_s or row.duration_seconds
    row.release_date = find.release_date or row.release_date
    row.found_via = "+".join(dict.fromkeys((row.found_via or "").split("+") + list(
        find.sources))).strip("+") or row.found_via
    row.release_ids = list(dict.fromkeys(list(row.release_ids or []) + list(find.release_ids)))
    for field in ("series_id", "author_id", "category_id"):
        if getattr(find, field) is not None:
            setattr(row, field, getattr(find, field))


def wanted_fields(find: Find) -> dict:
    return {"title": find.title, "author": find.author, "series": find.series,
            "position": find.position, "asin": find.asin, "narrator": find.narrator,
            "expected_duration_seconds": find.duration_s,
            "source": source_of(find.found_in, find.found_name),
            "priority": priority_for(find.found_in, find.position), "note": find.reason}
