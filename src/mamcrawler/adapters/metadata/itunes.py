"""iTunes Search: audiobooks by title and author. No narrators, series or runtime.

Titles carry the edition ("… (Unabridged)"): it is moved into `abridged` and cut from
the title. Apple allows roughly 20 requests a minute, hence the long interval.
"""

from __future__ import annotations

import re

from mamcrawler.adapters.metadata.base import (
    mapping,
    plain_text,
    require_object,
    text,
    unique,
)
from mamcrawler.adapters.metadata.errors import MetadataBadResponse
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp
from mamcrawler.domain.metadata import BookQuery, SourceRecord, year_of

SOURCE = "itunes"
LABEL = "iTunes"
ITUNES_URL = "https://itunes.apple.com"
ITUNES_INTERVAL_S = 3.0
_EDITION = re.compile(r"\s*[\(\[]\s*(un)?abridged\s*[\)\]]\s*$", re.I)
_ARTIST_SPLIT = re.compile(r"\s*(?:&|,|\band\b)\s*")


class ITunesSource:
    """Apple's iTunes Search API for audiobooks; `country` is the store (us, gb, de, …)."""

    name = SOURCE

    def __init__(self, base_url: str = ITUNES_URL, *, country: str | None = None,
                 max_results: int = 10, options: HttpOptions | None = None) -> None:
        self.country = (country or "").strip().lower() or None
        self.max_results = min(200, max(1, max_results))
        self._http = SourceHttp(SOURCE, LABEL, base_url, url_setting="ITUNES_URL",
                                options=options or HttpOptions(),
                                default_interval_s=ITUNES_INTERVAL_S)

    def close(self) -> None:
        self._http.close()

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """Audiobooks matching title and first author; nothing without a title."""
        if not query.title:
            return []
        term = f"{query.title} {query.author}".strip()
        params = {"term": term, "media": "audiobook", "entity": "audiobook",
                  "limit": self.max_results}
        if self.country:
            params["country"] = self.country
        data = self._http.get_json("/search", f"search for {term!r}", params=params)
        return parse_results(data)


def parse_results(data: object) -> list[SourceRecord]:
    """Records from ``{"resultCount","results":[…]}``; results without a title are skipped."""
    body = require_object(data, SOURCE, LABEL, "a search answer")
    results = body.get("results")
    if results is None and body.get("resultCount") == 0:
        return []
    if not isinstance(results, list):
        raise MetadataBadResponse(SOURCE, "iTunes sent a search answer without a results "
                                  "list; check ITUNES_URL")
    return [r for r in (parse_result(item) for item in results) if r is not None]


def parse_result(data: object) -> SourceRecord | None:
    """A record from one result, None without a collection name."""
    result = mapping(data)
    raw_title = text(result.get("collectionName"))
    if raw_title is None:
        return None
    edition = _EDITION.search(raw_title)
    title = _EDITION.sub("", raw_title).strip() or raw_title
    genre = text(result.get("primaryGenreName"))
    return SourceRecord(
        source=SOURCE, source_id=text(result.get("collectionId")),
        url=text(result.get("collectionViewUrl")), title=title,
        authors=split_artists(text(result.get("artistName"))),
        year=year_of(result.get("releaseDate")),
        description=plain_text(result.get("description")),
        cover_url=text(result.get("artworkUrl100")) or text(result.get("artworkUrl60")),
        genres=(genre,) if genre else (),
        abridged=None if edition is None else edition.group(1) is None)


def split_artists(artist: str | None) -> tuple[str, ...]:
    """Authors from an artist name ("A & B", "A, B and C"); a "Last, First" name, whose
    parts are single words, stays whole."""
    if not artist:
        return ()
    parts = [p for p in _ARTIST_SPLIT.split(artist) if p]
    if len(parts) > 1 and all(" " in p or "." in p for p in parts):
        return unique(parts)
    return (artist,)
