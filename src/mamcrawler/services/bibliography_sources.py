"""Where bibliographies come from: the tracker's uploads (within the run's request budget),
Audible's catalog and Hardcover (with HARDCOVER_TOKEN), turned into neutral listings.

The tracker is asked once per author (`srchIn[author]`) or series (`srchIn[series]`), up
to 100 uploads a page. Answers are kept for the run: a followed series whose author was
searched completely in the same run costs no request at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from mamcrawler.adapters.mam.models import ENGLISH, SearchQuery
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.adapters.metadata.errors import MetadataError
from mamcrawler.adapters.metadata.hardcover_catalog import HardcoverBook, HardcoverCatalog
from mamcrawler.domain.bibliography import (
    AUDIBLE,
    HARDCOVER,
    TRACKER,
    Listing,
    Subject,
    SubjectKind,
)
from mamcrawler.domain.matching import canonical_language
from mamcrawler.domain.metadata import SourceRecord
from mamcrawler.domain.quality import is_abridged
from mamcrawler.domain.records import Release

from .ports import Tracker

log = logging.getLogger("mamcrawler.completion")
PER_PAGE = 100
MAX_PAGES = 3  # 300 uploads: more than any one author's audiobooks with their editions


class BudgetSpent(Exception):
    """The run's tracker requests are used up; what is left waits for the next run."""


@dataclass
class RequestBudget:
    """Tracker requests one run may send; `take` counts one or raises BudgetSpent."""

    limit: int
    used: int = 0

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def take(self) -> None:
        if self.used >= self.limit:
            raise BudgetSpent(f"the run's {self.limit} tracker requests "
                              "(TRACKER_REQUESTS_PER_WEEKLY_RUN) are used up")
        self.used += 1


def tracker_languages(language: str | None) -> tuple[int, ...]:
    """The tracker's language filter for the policy's language: English has a known id
    (1); any other is filtered after the search."""
    return (ENGLISH,) if canonical_language(language) == "eng" else ()


@dataclass
class TrackerShelf:
    """Tracker searches for bibliographies, counted against `budget`, kept for the run."""

    tracker: Tracker
    budget: RequestBudget
    languages: tuple[int, ...] = ()
    _found: dict[tuple, tuple[list[Release], bool]] = field(default_factory=dict)

    def for_subject(self, subject: Subject) -> list[Release]:
        """The uploads for a subject, in its follow's language when it has one; a series
        reuses a complete search of its author in the same language."""
        languages = tracker_languages(subject.rules.language) if subject.rules.language \
            else self.languages
        if subject.kind is SubjectKind.SERIES:
            for author in subject.authors[:1]:
                cached = self._found.get(("author", author.casefold(), languages))
                if cached is not None and cached[1]:
                    return cached[0]
            return self.search("series", subject.name, languages)
        return self.search("author", subject.name, languages)

    def search(self, field_name: str, text: str,
               languages: tuple[int, ...] | None = None) -> list[Release]:
        """Every page of one search (at most MAX_PAGES); raises BudgetSpent before the
        first page when nothing is left, and TrackerError when the tracker fails."""
        languages = self.languages if languages is None else languages
        key = (field_name, text.casefold(), languages)
        if key in self._found:
            return self._found[key][0]
        releases: list[Release] = []
        complete = False
        for page in range(MAX_PAGES):
            if page and not self.budget.left:
                break  # keep what was found: a partial list still shows real uploads
            self.budget.take()
            query = SearchQuery(text=text, fields=(field_name,), per_page=PER_PAGE,
                                start=page * PER_PAGE, language_ids=languages)
            found = self.tracker.search(query)
            releases += found
            if len(found) < PER_PAGE:
                complete = True
                break
        self._found[key] = (releases, complete)
        return releases


def catalog_listings(audible: AudibleCatalog | None, hardcover: HardcoverCatalog | None,
                     subject: Subject) -> tuple[list[Listing], list[str]]:
    """The catalogs' listings for a subject and what went wrong ("audible: …"); a failing
    catalog never stops the run, the others are still asked."""
    listings: list[Listing] = []
    notes: list[str] = []
    for name, source in ((AUDIBLE, audible), (HARDCOVER, hardcover)):
        if source is None:
            continue
        try:
            listings += _ask(source, subject)
        except MetadataError as exc:
            log.info("completion: %s failed for %s %s: %s", name, subject.kind, subject.name,
                     exc)
            notes.append(f"{name}: {exc}")
    return listings, notes


def _ask(source: AudibleCatalog | HardcoverCatalog, subject: Subject) -> list[Listing]:
    if isinstance(source, HardcoverCatalog):
        books = source.author_books(subject.name) if subject.kind is SubjectKind.AUTHOR \
            else source.series_books(subject.name)
        return [listing_of_hardcover(b) for b in books]
    if subject.kind is SubjectKind.AUTHOR:
        records = source.author_books(subject.name)
    else:
        records = source.series_books(subject.name, next(iter(subject.authors), None))
    return [listing_of_record(r) for r in records]


def listing_of_release(release: Release) -> Listing:
    return Listing(TRACKER, release.title, release.authors, release.series,
                   language=release.language, release_id=release.id,
                   abridged=True if is_abridged(release) else None,
                   narrators=release.narrators, uploaded=release.added, tags=release.tags)


def listing_of_record(record: SourceRecord, source: str = AUDIBLE) -> Listing:
    return Listing(source, record.title, record.authors, record.series,
                   language=record.language, abridged=record.abridged, asin=record.asin,
                   narrators=record.narrators, duration_s=record.duration_s,
                   released=record.release_date, tags=record.subtitle or "")


def listing_of_hardcover(book: HardcoverBook) -> Listing:
    return replace(listing_of_record(book.record, HARDCOVER), audio=book.audio,
                   omnibus=True if book.compilation else None)
