"""What a metadata source says about a book, in neutral words. Pure.

Every source adapter (Audnexus, Open Library, Google Books, Hardcover, iTunes, the
tracker's own release data) turns its answer into `SourceRecord`s, so matching and the
per-field merge (R15) can rank them without knowing any API. Unknown facts are None or
empty, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date

from mamcrawler.domain.records import SeriesRef

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# Identity fields say where a record came from; they are not facts about the book.
_IDENTITY = frozenset({"source", "source_id", "url"})


@dataclass(frozen=True)
class BookQuery:
    """What we ask the sources: a title (with authors), and/or an ASIN or ISBN.

    Sources use what they can: Audnexus prefers the ASIN, Open Library and Google the
    ISBN, and all of them fall back to title and authors.
    """

    title: str = ""
    authors: tuple[str, ...] = ()
    asin: str | None = None
    isbn: str | None = None

    def __post_init__(self) -> None:
        # Lists are accepted for convenience but stored as tuples: queries are cache keys.
        object.__setattr__(self, "title", (self.title or "").strip())
        object.__setattr__(self, "authors", tuple(
            a.strip() for a in (self.authors or ()) if a and a.strip()))
        object.__setattr__(self, "asin", (self.asin or "").strip() or None)
        object.__setattr__(self, "isbn", _isbn_digits(self.isbn))
        if not (self.title or self.asin or self.isbn):
            raise ValueError("a book query needs a title, an ASIN or an ISBN")

    @property
    def author(self) -> str:
        """The first author, or "" when none is known."""
        return self.authors[0] if self.authors else ""


@dataclass(frozen=True)
class SourceRecord:
    """One source's view of one book.

    `series` positions are canonical position text ("1", "2.5", "1-3", see
    domain.series_position) or None; `duration_s` is
    the audiobook's runtime; `language` is spelled as the source spells it ("english",
    "eng", "en"); `description` is plain text (markup already stripped); `abridged` is
    None when the source does not say.
    """

    source: str
    title: str
    source_id: str | None = None
    url: str | None = None
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: tuple[SeriesRef, ...] = ()
    duration_s: float | None = None
    isbn: str | None = None
    asin: str | None = None
    language: str | None = None
    publisher: str | None = None
    year: int | None = None
    description: str | None = None
    cover_url: str | None = None
    genres: tuple[str, ...] = ()
    abridged: bool | None = None
    release_date: date | None = None  # of this edition, when the source gives the day

    def known_fields(self) -> dict[str, object]:
        """The facts this record states: every field set to a non-empty value, without
        the identity fields (source, source_id, url)."""
        facts = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name not in _IDENTITY and value not in (None, "", ()):
                facts[spec.name] = value
        return facts


def date_of(raw: object) -> date | None:
    """The day in "2024-05-01", "2024-05-01T00:00:00.000Z" and the like; None otherwise."""
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None


def year_of(raw: object) -> int | None:
    """A plausible publication year (1000-2999) from an int or the first 4-digit run in
    a date text ("2015-11-20T00:00:00.000Z", "May 2003", "2003"), else None."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        year = raw
    else:
        match = _YEAR.search(str(raw))
        if match is None:
            return None
        year = int(match.group(1))
    return year if 1000 <= year <= 2999 else None


def _isbn_digits(raw: str | None) -> str | None:
    """An ISBN without hyphens or spaces ("978-1-78110-263-3" -> "9781781102633")."""
    if not raw:
        return None
    text = re.sub(r"[\s-]", "", raw).upper()
    return text or None
