"""A followed series' or author's bibliography, as the sources list it. Pure.

Sources list the same book several times (an m4b and an mp3 upload on the tracker, Audible's
edition with ", Book 2" in its title), list books of other series or other authors (a text
search for "Marsh" also finds Owen Marsh), and list editions nobody wants as a gap
(another language, abridged, an omnibus of books the series already counts one by one).
`collect` turns the listings into distinct books and says why each left-out listing was
left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from rapidfuzz import fuzz

from mamcrawler.domain.matching import canonical_language, person_similarity
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.text import book_key, fold, normalize_title

TRACKER, AUDIBLE = "tracker", "audible"
SAME_PERSON = 0.9  # person_similarity at or above this: initials agree or better
SAME_NAME = 90.0  # title/series similarity (0-100) at or above this: the same name
_WORD = r"(?:book|bk|volume|vol|part|no|number)\.?\s*#?\d+(?:\.\d+)?"
_TAIL_LABEL = re.compile(rf"\s*,\s*{_WORD}\s*$", re.I)  # ", Book 2"
_PAREN_LABEL = re.compile(  # " (The Ember Crown Cycle, Book 2)", "(Mistborn #1)"
    rf"\s*[(\[][^()\[\]]*?(?:\b{_WORD}|#\s*\d+(?:\.\d+)?)\s*[)\]]\s*$", re.I)
_OMNIBUS = re.compile(
    r"\b(box(?:ed)? ?set|omnibus|collection|bundle|anthology|complete series|"
    r"books? \d+(?:\.\d+)? ?(?:-|–|to|and|&) ?\d+|trilogy|quartet|duology)\b")
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|–|—|to)\s*(\d+(?:\.\d+)?)\s*$")


class SubjectKind(StrEnum):
    SERIES = "series"
    AUTHOR = "author"


@dataclass(frozen=True)
class Subject:
    """A followed series or author. `authors` of a series: as the library knows them."""

    kind: SubjectKind
    id: int
    name: str
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """One book as one source lists it: a tracker upload or an Audible product."""

    source: str
    title: str
    authors: tuple[str, ...] = ()
    series: tuple[SeriesRef, ...] = ()
    language: str | None = None
    abridged: bool | None = None
    asin: str | None = None
    release_id: str | None = None  # the tracker's torrent id


@dataclass(frozen=True)
class BibBook:
    """One distinct book of a bibliography, its listings merged. `key` is its identity on
    the wanted list (normalised title and first author)."""

    key: str
    title: str
    author: str | None
    series: str | None = None
    position: str | None = None
    asin: str | None = None
    sources: tuple[str, ...] = ()
    release_ids: tuple[str, ...] = ()

    @property
    def on_tracker(self) -> bool:
        return TRACKER in self.sources


@dataclass(frozen=True)
class Skipped:
    title: str
    source: str
    reason: str


@dataclass(frozen=True)
class Bibliography:
    books: tuple[BibBook, ...]
    skipped: tuple[Skipped, ...]


def clean_title(title: str) -> str:
    """The title without a trailing series label: "The Ash Throne (The Ember Crown Cycle,
    Book 2)" and "The Ash Throne, Book 2" are "The Ash Throne"."""
    cleaned = _TAIL_LABEL.sub("", _PAREN_LABEL.sub("", title.strip())).strip(" ,:-")
    return cleaned or title.strip()


def same_name(a: str, b: str) -> bool:
    """Two series names or titles are the same once normalised (articles, case, accents)."""
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb:
        return False
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb)) >= SAME_NAME


def has_person(names: Iterable[str], person: str) -> bool:
    return any(person_similarity(name, person) >= SAME_PERSON for name in names)


def parse_range(position: str | None) -> tuple[float, float] | None:
    """(first, last) of a position such as "3", "2.5" or "1-3"; None when not a number."""
    if not position:
        return None
    found = _RANGE.match(position)
    if found:
        return float(found.group(1)), float(found.group(2))
    try:
        number = float(position)
    except ValueError:
        return None
    return number, number


def is_omnibus(title: str, position: str | None, series_name: str | None = None) -> bool:
    """A box set or omnibus: a position range ("1-3") or words like "Books 1-3", "Box Set",
    "Omnibus" in the title once the series name is taken out."""
    span = parse_range(position)
    if span is not None and span[0] != span[1]:
        return True
    text = " ".join(title.casefold().split())
    if series_name:
        text = text.replace(" ".join(series_name.casefold().split()), " ")
    return bool(_OMNIBUS.search(text))


def series_ref(listing: Listing, subject: Subject) -> SeriesRef | None:
    """The listing's entry for the subject series (a series subject), else its first."""
    if subject.kind is SubjectKind.SERIES:
        return next((s for s in listing.series if same_name(s.name, subject.name)), None)
    return listing.series[0] if listing.series else None


def collect(subject: Subject, listings: Sequence[Listing], *, language: str | None,
            allow_omnibus: bool) -> Bibliography:
    """The distinct books of `subject` among `listings`, and the listings left out."""
    books: list[BibBook] = []
    skipped: list[Skipped] = []
    for listing in listings:
        reason = _left_out(subject, listing, language, allow_omnibus)
        if reason:
            skipped.append(Skipped(listing.title, listing.source, reason))
            continue
        candidate = _as_book(subject, listing)
        at = next((i for i, b in enumerate(books) if _same_book(b, candidate)), None)
        if at is None:
            books.append(candidate)
        else:
            books[at] = _merge(books[at], candidate)
    return Bibliography(tuple(books), tuple(skipped))


def _left_out(subject: Subject, listing: Listing, language: str | None,
              allow_omnibus: bool) -> str | None:
    ref = series_ref(listing, subject)
    if subject.kind is SubjectKind.SERIES:
        if ref is None:
            named = ", ".join(s.name for s in listing.series) or "no series"
            return f"not in {subject.name} ({named})"
        if subject.authors and listing.authors and not any(
                has_person(listing.authors, a) for a in subject.authors):
            return f"{subject.name} by another author ({', '.join(listing.authors)})"
    elif not has_person(listing.authors, subject.name):
        return f"not by {subject.name} ({', '.join(listing.authors) or 'no author'})"
    wanted, given = canonical_language(language), canonical_language(listing.language)
    if wanted and given and wanted != given:
        return f"in {listing.language}, not {language}"
    if listing.abridged or (listing.abridged is None and _says_abridged(listing.title)):
        return "abridged"
    position = ref.position if ref else None
    if not allow_omnibus and is_omnibus(listing.title, position, ref.name if ref else None):
        return "an omnibus or box set (ALLOW_OMNIBUS=false)"
    return None


def _says_abridged(title: str) -> bool:
    words = fold(title).split()
    return "abridged" in words and "unabridged" not in words


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
        release_ids=(listing.release_id,) if listing.release_id else ())


def _same_book(a: BibBook, b: BibBook) -> bool:
    """Same ASIN; or the same series position; else (positions unknown) the same title.
    Two different positions in one series are two books, whatever their titles."""
    if a.asin and b.asin and a.asin == b.asin:
        return True
    if a.series and b.series and same_name(a.series, b.series) and a.position and b.position:
        return parse_range(a.position) == parse_range(b.position)
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
        release_ids=tuple(dict.fromkeys(kept.release_ids + new.release_ids)))
