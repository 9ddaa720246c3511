"""The tracker's own release data as a metadata source (no HTTP).

Uploaders on the tracker fill in narrators and series positions that public sources
often lack, so the merge (R15) ranks a release's facts like any other source's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mamcrawler.domain.metadata import BookQuery, SourceRecord
from mamcrawler.domain.records import Release, SeriesRef
from mamcrawler.domain.series_position import normalize_position

SOURCE = "tracker"
_EDITION = re.compile(r"\s*[\(\[]\s*(un)?abridged\s*[\)\]]\s*", re.I)
_UNABRIDGED = re.compile(r"\bunabridged\b", re.I)
_ABRIDGED = re.compile(r"\babridged\b", re.I)


class TrackerReleaseSource:
    """Serves the records of the releases it was given (those known for one book)."""

    name = SOURCE

    def __init__(self, releases: Iterable[Release] = ()) -> None:
        self._records = tuple(release_record(r) for r in releases)

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """Every release's record; ranking them against the query is matching's job."""
        return list(self._records)

    def by_id(self, source_id: str) -> SourceRecord | None:
        """The record of the release with this id, or None."""
        return next((r for r in self._records if r.source_id == source_id), None)


def release_record(release: Release) -> SourceRecord:
    """What a release says about its book; the edition words leave the title and set
    `abridged` (None when neither title nor tags say)."""
    title = _EDITION.sub(" ", release.title).strip() or release.title
    return SourceRecord(
        # No url: a release's download URL can carry an indexer key (Prowlarr).
        source=SOURCE, source_id=release.id, title=title,
        authors=release.authors, narrators=release.narrators,
        series=tuple(SeriesRef(s.name, normalize_position(s.position))
                     for s in release.series if s.name),
        language=release.language or None,
        genres=(release.category_name,) if release.category_name else (),
        abridged=_abridged(f"{release.title} {release.tags}"))


def _abridged(words: str) -> bool | None:
    if _UNABRIDGED.search(words):
        return False
    if _ABRIDGED.search(words):
        return True
    return None
