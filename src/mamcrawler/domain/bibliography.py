"""A followed series' or author's bibliography, as the sources list it. Pure.

Sources list the same book several times (an m4b and an mp3 upload on the tracker, Audible's
edition with ", Book 2" in its title, a UK and a US edition, a re-release), list books of
other series or other authors (a text search for "Marsh" also finds Owen Marsh), and list
editions nobody wants as a gap (another language, abridged, dramatized, an omnibus of books
the series already counts one by one). `collect` turns the listings into distinct books and
says why each left-out listing was left out. A follow's own rules (`FollowRules`) decide
the language, whether abridged editions and books without an audiobook edition count, and,
for an author, whether only books released since the follow are looked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from rapidfuzz import fuzz

from mamcrawler.domain.editions import (
    clean_title,
    is_dramatized,
    is_omnibus,
    says_abridged,
)
from mamcrawler.domain.matching import canonical_language, person_similarity
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import is_range, position_span
from mamcrawler.domain.text import book_key, normalize_title

__all__ = ["AUDIBLE", "HARDCOVER", "TRACKER", "BibBook", "Bibliography", "FollowRules",
           "Listing", "Scope", "Skipped", "Subject", "SubjectKind", "clean_title", "collect",
           "has_person", "is_omnibus", "same_name", "series_ref"]

TRACKER, AUDIBLE, HARDCOVER = "tracker", "audible", "hardcover"
SAME_PERSON = 0.9  # person_similarity at or above this: initials agree or better
SAME_NAME = 90.0  # title/series similarity (0-100) at or above this: the same name


class SubjectKind(StrEnum):
    SERIES = "series"
    AUTHOR = "author"


class Scope(StrEnum):
    """What an author follow looks for: every book, or only books released since the
    follow. A series follow always looks for every missing position."""

    ALL = "all"
    NEW = "new"


@dataclass(frozen=True)
class FollowRules:
    """One follow's policy. `language` None: the person's (COMPLETION_LANGUAGE).
    `audiobook_only`: a book no source lists as an audiobook is left out (else it is
    recorded, never wanted: there is nothing to download). `unabridged_only`: abridged
    editions are left out and an abridged copy in the library does not count."""

    scope: Scope = Scope.ALL
    since: datetime | None = None  # when the follow was made
    language: str | None = None
    audiobook_only: bool = True
    unabridged_only: bool = True


@dataclass(frozen=True)
class Subject:
    """A followed series or author. `authors` of a series: as the library knows them."""

    kind: SubjectKind
    id: int
    name: str
    authors: tuple[str, ...] = ()
    rules: FollowRules = FollowRules()


@dataclass(frozen=True)
class Listing:
    """One book as one source lists it: a tracker upload, an Audible or Hardcover book.
    `dramatized` and `omnibus` None: judged from the title (and `tags`)."""

    source: str
    title: str
    authors: tuple[str, ...] = ()
    series: tuple[SeriesRef, ...] = ()
    language: str | None = None
    abridged: bool | None = None
    asin: str | None = None
    release_id: str | None = None  # the tracker's torrent id
    narrators: tuple[str, ...] = ()
    duration_s: float | None = None
    released: date | None = None  # publication of this edition
    uploaded: datetime | None = None  # on the tracker
    dramatized: bool | None = None
    omnibus: bool | None = None
    audio: bool = True  # False: the source knows no audiobook edition
    tags: str = ""


@dataclass(frozen=True)
class BibBook:
    """One distinct book of a bibliography, its listings merged. `key` is its identity on
    the wanted list (normalised title and first author); `release_date` the earliest any
    source gives (a re-release keeps the first date)."""

    key: str
    title: str
    author: str | None
    series: str | None = None
    position: str | None = None
    asin: str | None = None
    sources: tuple[str, ...] = ()
    release_ids: tuple[str, ...] = ()
    asins: tuple[str, ...] = ()
    narrator: str | None = None
    duration_s: float | None = None
    release_date: date | None = None
    first_uploaded: datetime | None = None
    audio: bool = True
    omnibus: bool = False

    @property
    def on_tracker(self) -> bool:
        return TRACKER in self.sources

    def released_by(self, today: date) -> bool:
        """False for a pre-order (a release date after `today`)."""
        return self.release_date is None or self.release_date <= today


@dataclass(frozen=True)
class Skipped:
    """A listing left out of the bibliography; `kind` groups the reasons: elsewhere
    (another series or author), language, abridged, no audiobook, dramatized, omnibus,
    before follow."""

    title: str
    source: str
    reason: str
    kind: str = "elsewhere"


@dataclass(frozen=True)
class Bibliography:
    books: tuple[BibBook, ...]
    skipped: tuple[Skipped, ...]


def same_name(a: str, b: str) -> bool:
    """Two series names or titles are the same once normalised (articles, case, accents)."""
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb:
        return False
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb)) >= SAME_NAME


def has_person(names: Iterable[str], person: str) -> bool:
    return any(person_similarity(name, person) >= SAME_PERSON for name in names)


def series_ref(listing: Listing, subject: Subject) -> SeriesRef | None:
    """The listing's entry for the subject series (a series subject), else its first."""
    if subject.kind is SubjectKind.SERIES:
        return next((s for s in listing.series if same_name(s.name, subject.name)), None)
    return listing.series[0] if listing.series else None


def collect(subject: Subject, listings: Sequence[Listing], *, language: str | None,
            allow_omnibus: bool, allow_dramatized: bool = False) -> Bibliography:
    """The distinct books of `subject` among `listings`, and the listings left out.
    `language` is the person's; the follow's own language wins when it has one."""
    rules = subject.rules
    wanted_language = rules.language or language
    books: list[BibBook] = []
    skipped: list[Skipped] = []
    for listing in listings:
        left_out = _left_out(subject, listing, wanted_language, allow_omnibus,
                             allow_dramatized)
        if left_out:
            skipped.append(Skipped(listing.title, listing.source, left_out[1], left_out[0]))
            continue
        candidate = _as_book(subject, listing)
        at = next((i for i, b in enumerate(books) if _same_book(b, candidate)), None)
        if at is None:
            books.append(candidate)
        else:
            books[at] = _merge(books[at], candidate)
    kept = []
    for book in books:
        reason = _before_follow(subject, book)
        if reason:
            skipped.append(Skipped(book.title, "+".join(book.sources), reason, "before follow"))
        else:
            kept.append(book)
    return Bibliography(tuple(kept), tuple(skipped))


def _left_out(subject: Subject, listing: Listing, language: str | None,
              allow_omnibus: bool, allow_dramatized: bool) -> tuple[str, str] | None:
    """(kind, reason) when the listing is left out."""
    ref = series_ref(listing, subject)
    if subject.kind is SubjectKind.SERIES:
        if ref is None:
            named = ", ".join(s.name for s in listing.series) or "no series"
            return "elsewhere", f"not in {subject.name} ({named})"
        if subject.authors and listing.authors and not any(
                has_person(listing.authors, a) for a in subject.authors):
            return "elsewhere", f"{subject.name} by another author " \
                                f"({', '.join(listing.authors)})"
    elif not has_person(listing.authors, subject.name):
        return "elsewhere", f"not by {subject.name} ({', '.join(listing.authors) or 'no author'})"
    wanted, given = canonical_language(language), canonical_language(listing.language)
    if wanted and given and wanted != given:
        return "language", f"in {listing.language}, not {language}"
    rules = subject.rules
    if rules.unabridged_only and (listing.abridged or (
            listing.abridged is None and says_abridged(listing.title))):
        return "abridged", "abridged (this follow wants unabridged editions only)"
    if rules.audiobook_only and not listing.audio:
        return "no audiobook", "no audiobook edition (this follow wants audiobook editions only)"
    if not allow_dramatized and _dramatized(listing):
        return "dramatized", "a dramatized edition, not a narrated one (ALLOW_DRAMATIZED=false)"
    if not allow_omnibus and _omnibus(listing, ref):
        return "omnibus", "an omnibus or box set (ALLOW_OMNIBUS=false)"
    return None


def _dramatized(listing: Listing) -> bool:
    if listing.dramatized is not None:
        return listing.dramatized
    return is_dramatized(listing.title, listing.tags)


def _omnibus(listing: Listing, ref: SeriesRef | None) -> bool:
    if listing.omnibus:
        return True
    return is_omnibus(listing.title, ref.position if ref else None, ref.name if ref else None)


def _before_follow(subject: Subject, book: BibBook) -> str | None:
    """Why an author follow for new books only leaves `book` out, if it does. The release
    date decides; without one, the first upload to the tracker stands in."""
    rules = subject.rules
    if subject.kind is not SubjectKind.AUTHOR or rules.scope is not Scope.NEW \
            or rules.since is None:
        return None
    since = rules.since.date()
    if book.release_date is not None:
        if book.release_date >= since:
            return None
        return f"released {book.release_date}, before you followed {subject.name} ({since})"
    if book.first_uploaded is not None:
        if book.first_uploaded >= rules.since:  # an upload has its moment, not just a day
            return None
        return (f"on the tracker since {book.first_uploaded.date()}, before you followed "
                f"{subject.name} ({since})")
    return f"release date unknown; only books released since {since} are looked for"


def _as_book(subject: Subject, listing: Listing) -> BibBook:
    ref = series_ref(listing, subject)
    title = clean_title(listing.title)
    if subject.kind is SubjectKind.AUTHOR:
        author: str | None = subject.name
    else:
        author = listing.authors[0] if listing.authors else next(iter(subject.authors), None)
    return BibBook(
        key=book_key(title, author), title=title, author=author,
        series=subject.name if subject.kind is SubjectKind.SERIES else (ref.name if ref
                                                                         else None),
        position=ref.position if ref else None, asin=listing.asin,
        sources=(listing.source,),
        release_ids=(listing.release_id,) if listing.release_id else (),
        asins=(listing.asin,) if listing.asin else (),
        narrator=listing.narrators[0] if listing.narrators else None,
        duration_s=listing.duration_s, release_date=listing.released,
        first_uploaded=listing.uploaded, audio=listing.audio,
        omnibus=_omnibus(listing, ref) or is_range(ref.position if ref else None))


def _same_book(a: BibBook, b: BibBook) -> bool:
    """A shared ASIN; or the same series position; else (positions unknown) the same
    title. Two different positions in one series are two books, whatever their titles;
    one position listed twice (a region edition, a re-release) is one book."""
    if set(a.asins) & set(b.asins):
        return True
    if a.series and b.series and same_name(a.series, b.series) and a.position and b.position:
        return position_span(a.position) == position_span(b.position)
    return same_name(a.title, b.title)


def _merge(kept: BibBook, new: BibBook) -> BibBook:
    """One book from two listings; the tracker's title wins (acquisition searches it)."""
    title = new.title if new.on_tracker and not kept.on_tracker else kept.title
    author = kept.author or new.author
    return replace(
        kept, title=title, author=author, key=book_key(title, author),
        position=kept.position or new.position,
        series=kept.series or new.series, asin=kept.asin or new.asin,
        sources=tuple(dict.fromkeys(kept.sources + new.sources)),
        release_ids=tuple(dict.fromkeys(kept.release_ids + new.release_ids)),
        asins=tuple(dict.fromkeys(kept.asins + new.asins)),
        narrator=kept.narrator or new.narrator, duration_s=kept.duration_s or new.duration_s,
        release_date=_earliest(kept.release_date, new.release_date),
        first_uploaded=_earliest(kept.first_uploaded, new.first_uploaded),
        audio=kept.audio or new.audio, omnibus=kept.omnibus and new.omnibus)


def _earliest(a, b):
    return b if a is None else a if b is None else min(a, b)
