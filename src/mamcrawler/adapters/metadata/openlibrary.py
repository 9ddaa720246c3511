"""Open Library: works found by title/author, editions by ISBN. No narrators, no runtime.

A title search (``/search.json``) gives works with authors, first publication year and a
cover; the best match is completed with its work's description (``/works/{id}.json``).
An ISBN alone is looked up as an edition (``/isbn/{isbn}.json``, a redirect to the
edition). Open Library asks scripts to identify themselves: the User-Agent does.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any
from urllib.parse import quote

from mamcrawler.adapters.metadata.base import (
    best_isbn,
    items,
    mapping,
    number,
    plain_text,
    require_object,
    text,
    texts,
)
from mamcrawler.adapters.metadata.errors import (
    MetadataBadResponse,
    MetadataError,
    MetadataNotFound,
    MetadataRateLimited,
)
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp
from mamcrawler.domain.metadata import BookQuery, SourceRecord, year_of
from mamcrawler.domain.records import SeriesRef

log = logging.getLogger(__name__)
SOURCE = "openlibrary"
LABEL = "Open Library"
OPENLIBRARY_URL = "https://openlibrary.org"
COVERS_URL = "https://covers.openlibrary.org"
SEARCH_FIELDS = ("key,title,subtitle,author_name,first_publish_year,isbn,cover_i,language,"
                 "edition_count,publisher")
OPENLIBRARY_INTERVAL_S = 1.0
_OLID = re.compile(r"^OL\d+[WM]$", re.I)


class OpenLibrarySource:
    """Open Library; `enrich` is how many top works get their description fetched."""

    name = SOURCE

    def __init__(self, base_url: str = OPENLIBRARY_URL, *, covers_url: str = COVERS_URL,
                 max_results: int = 5, enrich: int = 1,
                 options: HttpOptions | None = None) -> None:
        self.max_results = max(1, max_results)
        self.enrich = max(0, enrich)
        self.covers_url = covers_url.rstrip("/")
        # /isbn/{isbn}.json answers with a redirect to the edition.
        self._http = SourceHttp(SOURCE, LABEL, base_url, url_setting="OPENLIBRARY_URL",
                                options=options or HttpOptions(),
                                default_interval_s=OPENLIBRARY_INTERVAL_S,
                                follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """Works matching the title (and first author), best first, the top ones with
        their description; an ISBN-only query gives that edition; an ASIN alone nothing."""
        if not query.title:
            if not query.isbn:
                return []
            record = self._edition(f"/isbn/{quote(query.isbn, safe='')}.json",
                                   f"look up ISBN {query.isbn}")
            return [record] if record is not None else []
        params: dict[str, Any] = {"title": query.title, "fields": SEARCH_FIELDS,
                                  "limit": self.max_results}
        if query.author:
            params["author"] = query.author
        data = self._http.get_json("/search.json", f"search for {query.title!r}",
                                   params=params)
        records = parse_search(data, base_url=self._http.base_url, covers_url=self.covers_url,
                               isbn=query.isbn)
        return [self._with_work(r) if i < self.enrich else r for i, r in enumerate(records)]

    def by_id(self, source_id: str) -> SourceRecord | None:
        """A work (``OL…W``) or an edition (``OL…M``) by its Open Library id, else None."""
        olid = source_id.strip().rsplit("/", 1)[-1]
        if not _OLID.match(olid):
            raise ValueError(f"{source_id!r} is not an Open Library work or edition id")
        if olid.upper().endswith("M"):
            return self._edition(f"/books/{olid}.json", f"look up edition {olid}")
        try:
            data = self._http.get_json(f"/works/{olid}.json", f"look up work {olid}")
        except MetadataNotFound:
            return None
        return parse_work(data, base_url=self._http.base_url, covers_url=self.covers_url)

    def _edition(self, path: str, what: str) -> SourceRecord | None:
        try:
            data = self._http.get_json(path, what)
        except MetadataNotFound:
            return None
        return parse_edition(data, base_url=self._http.base_url, covers_url=self.covers_url)

    def _with_work(self, record: SourceRecord) -> SourceRecord:
        """`record` completed from its work; the search result alone if that fails,
        because a description is a nice-to-have, not a reason to lose the match."""
        if not record.source_id:
            return record
        try:
            work = self.by_id(record.source_id)
        except MetadataRateLimited:
            raise
        except (MetadataError, ValueError) as exc:
            log.info("Open Library: kept %s without its work details: %s",
                     record.source_id, exc)
            return record
        if work is None:
            return record
        return dataclasses.replace(
            record, subtitle=record.subtitle or work.subtitle,
            description=work.description or record.description,
            genres=record.genres or work.genres, cover_url=record.cover_url or work.cover_url)


def parse_search(data: object, *, base_url: str = OPENLIBRARY_URL,
                 covers_url: str = COVERS_URL, isbn: str | None = None) -> list[SourceRecord]:
    """Records from ``/search.json`` (``{"numFound","docs":[…]}``); docs without a title
    are skipped. A work's ISBN is set only when it lists the one asked for: any other of
    its editions' ISBNs would be a guess."""
    body = require_object(data, SOURCE, LABEL, "a search answer")
    docs = body.get("docs")
    if docs is None and body.get("numFound") == 0:
        return []
    if not isinstance(docs, list):
        raise MetadataBadResponse(SOURCE, "Open Library sent a search answer without a docs "
                                  "list; check OPENLIBRARY_URL")
    records = []
    for doc in docs:
        record = _search_doc(mapping(doc), base_url, covers_url, isbn)
        if record is not None:
            records.append(record)
    return records


def _search_doc(doc: dict[str, Any], base_url: str, covers_url: str,
                isbn: str | None) -> SourceRecord | None:
    title = text(doc.get("title"))
    if title is None:
        return None
    key = text(doc.get("key"))
    isbns = {v.replace("-", "").upper() for v in texts(doc.get("isbn"))}
    return SourceRecord(
        source=SOURCE, source_id=_olid(key), url=f"{base_url}{key}" if key else None,
        title=title, subtitle=text(doc.get("subtitle")), authors=texts(doc.get("author_name")),
        isbn=isbn if isbn and isbn in isbns else None,
        language=(texts(doc.get("language")) or (None,))[0],
        publisher=(texts(doc.get("publisher")) or (None,))[0],
        year=year_of(doc.get("first_publish_year")),
        cover_url=_cover(covers_url, doc.get("cover_i")))


def parse_work(data: object, *, base_url: str = OPENLIBRARY_URL,
               covers_url: str = COVERS_URL) -> SourceRecord:
    """A record from ``/works/{id}.json``. Its authors are only keys, so it names none."""
    work = require_object(data, SOURCE, LABEL, "a work")
    title = text(work.get("title"))
    if title is None:
        raise MetadataBadResponse(SOURCE, "Open Library sent a work without a title")
    key = text(work.get("key"))
    return SourceRecord(
        source=SOURCE, source_id=_olid(key), url=f"{base_url}{key}" if key else None,
        title=title, subtitle=text(work.get("subtitle")),
        description=_description(work.get("description")),
        year=year_of(work.get("first_publish_date")),
        genres=texts(work.get("subjects"))[:10],
        cover_url=_cover(covers_url, _first(work.get("covers"))))


def parse_edition(data: object, *, base_url: str = OPENLIBRARY_URL,
                  covers_url: str = COVERS_URL) -> SourceRecord:
    """A record from an edition (``/books/{id}.json``); its free-text series carry no
    position. Its authors are only keys, so it names none."""
    edition = require_object(data, SOURCE, LABEL, "an edition")
    title = text(edition.get("title"))
    if title is None:
        raise MetadataBadResponse(SOURCE, "Open Library sent an edition without a title")
    key = text(edition.get("key"))
    languages = [text(mapping(v).get("key")) for v in items(edition.get("languages"))]
    return SourceRecord(
        source=SOURCE, source_id=_olid(key), url=f"{base_url}{key}" if key else None,
        title=title, subtitle=text(edition.get("subtitle")),
        series=tuple(SeriesRef(name) for name in texts(edition.get("series"))),
        isbn=best_isbn(texts(edition.get("isbn_13")) + texts(edition.get("isbn_10"))),
        language=next((lang.rsplit("/", 1)[-1] for lang in languages if lang), None),
        publisher=(texts(edition.get("publishers")) or (None,))[0],
        year=year_of(edition.get("publish_date")),
        description=_description(edition.get("description")),
        cover_url=_cover(covers_url, _first(edition.get("covers"))))


def _description(raw: object) -> str | None:
    """A description is a string or ``{"type":"/type/text","value":…}``."""
    return plain_text(mapping(raw).get("value") if isinstance(raw, dict) else raw)


def _cover(covers_url: str, cover_id: object) -> str | None:
    value = number(cover_id)
    # Open Library uses -1 and 0 for "no cover".
    if value is None or value < 1 or value != int(value):
        return None
    return f"{covers_url}/b/id/{int(value)}-L.jpg"


def _first(raw: object) -> object:
    values = items(raw)
    return values[0] if values else None


def _olid(key: str | None) -> str | None:
    return key.rstrip("/").rsplit("/", 1)[-1] or None if key else None
