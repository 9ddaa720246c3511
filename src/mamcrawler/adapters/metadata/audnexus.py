"""Audnexus (Audible's data): the richest source for audiobooks — narrators, series with
positions, runtime, ASIN.

Audnexus only answers by ASIN, so a title/author query first asks Audible's catalog
(``GET /1.0/catalog/products``) for ASINs, then fetches each from Audnexus
(``GET /books/{ASIN}?region=``). Both base URLs are configurable; the catalog host
should match the region (api.audible.co.uk for uk, ...).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from mamcrawler.adapters.metadata.base import (
    items,
    mapping,
    names,
    number,
    plain_text,
    require_object,
    text,
    unique,
)
from mamcrawler.adapters.metadata.errors import (
    MetadataBadResponse,
    MetadataError,
    MetadataNotFound,
    MetadataRateLimited,
)
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp
from mamcrawler.domain.metadata import (
    BookQuery,
    SourceRecord,
    date_of,
    year_of,
)
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import normalize_position

log = logging.getLogger(__name__)
SOURCE = "audnexus"
LABEL = "Audnexus"
AUDNEXUS_URL = "https://api.audnex.us"
AUDIBLE_CATALOG_URL = "https://api.audible.com"
REGIONS = ("au", "ca", "de", "es", "fr", "in", "it", "jp", "us", "uk")
# ~100 requests/min per IP are allowed; stay a little under.
AUDNEXUS_INTERVAL_S = 0.65
CATALOG_INTERVAL_S = 0.5


class AudnexusSource:
    """Audible data through Audnexus; `max_results` caps the books fetched per lookup."""

    name = SOURCE

    def __init__(self, base_url: str = AUDNEXUS_URL, catalog_url: str = AUDIBLE_CATALOG_URL,
                 *, region: str = "us", max_results: int = 5,
                 options: HttpOptions | None = None) -> None:
        region = region.strip().lower()
        if region not in REGIONS:
            raise ValueError(f"unknown Audible region {region!r}; use one of "
                             f"{' '.join(REGIONS)} (AUDIBLE_REGION)")
        options = options or HttpOptions()
        self.region = region
        self.max_results = max(1, max_results)
        self._books = SourceHttp(SOURCE, LABEL, base_url, url_setting="AUDNEXUS_URL",
                                 options=options, default_interval_s=AUDNEXUS_INTERVAL_S)
        self._catalog = SourceHttp(SOURCE, "Audible's catalog", catalog_url,
                                   url_setting="AUDIBLE_CATALOG_URL", options=options,
                                   default_interval_s=CATALOG_INTERVAL_S)

    def close(self) -> None:
        self._books.close()
        self._catalog.close()

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """The book for the query's ASIN if Audnexus knows it, else the catalog's best
        title/author matches (at most `max_results`), fetched from Audnexus.

        An ISBN alone finds nothing here (the catalog is searched by title).
        """
        if query.asin:
            record = self.by_id(query.asin)
            if record is not None or not query.title:
                return [record] if record is not None else []
        if not query.title:
            return []
        return self._fetch_all(self.find_asins(query))

    def find_asins(self, query: BookQuery) -> list[str]:
        """ASINs from Audible's catalog for the query's title and first author, best first."""
        params: dict[str, Any] = {"num_results": 10, "products_sort_by": "Relevance",
                                  "title": query.title}
        if query.author:
            params["author"] = query.author
        data = self._catalog.get_json("/1.0/catalog/products",
                                      f"search the catalog for {query.title!r}", params=params)
        return parse_catalog(data)[: self.max_results]

    def by_id(self, source_id: str) -> SourceRecord | None:
        """The book with ASIN `source_id` in the configured region, or None when Audnexus
        has none (NOT_FOUND, REGION_UNAVAILABLE)."""
        asin = source_id.strip()
        path = f"/books/{quote(asin, safe='')}"
        try:
            data = self._books.get_json(path, f"look up book {asin} (region {self.region})",
                                        params={"region": self.region})
        except MetadataNotFound:
            return None
        return parse_book(data, url=f"{self._books.base_url}{path}?region={self.region}")

    def _fetch_all(self, asins: list[str]) -> list[SourceRecord]:
        """Each ASIN's book; one failing book is skipped, unless none could be read."""
        records: list[SourceRecord] = []
        failure: MetadataError | None = None
        for asin in asins:
            try:
                record = self.by_id(asin)
            except MetadataRateLimited as exc:
                failure = exc
                break  # asking for the next one would only draw another 429
            except MetadataError as exc:
                failure = exc
                continue
            if record is not None:
                records.append(record)
        if failure is not None:
            if not records:
                raise failure
            log.warning("Audnexus: kept %d of %d books; one failed: %s", len(records),
                        len(asins), failure)
        return records


def parse_catalog(data: object) -> list[str]:
    """The ASINs of a catalog answer ``{"products":[{"asin":…}],"total_results":N}``,
    in order, without repeats; an answer without a product list is a bad response."""
    body = require_object(data, SOURCE, "Audible's catalog", "a search answer")
    products = body.get("products")
    if products is None and body.get("total_results") == 0:
        return []
    if not isinstance(products, list):
        raise MetadataBadResponse(SOURCE, "Audible's catalog sent a search answer without "
                                  "a product list; check AUDIBLE_CATALOG_URL")
    asins = (text(mapping(p).get("asin")) for p in products)
    return list(unique(a for a in asins if a))


def parse_book(data: object, *, url: str | None = None) -> SourceRecord:
    """A SourceRecord from an Audnexus book; a book without a title is a bad response."""
    book = require_object(data, SOURCE, LABEL, "a book")
    title = text(book.get("title"))
    if title is None:
        raise MetadataBadResponse(SOURCE, "Audnexus sent a book without a title "
                                  f"(asin {text(book.get('asin'))}); the API may have changed")
    minutes = number(book.get("runtimeLengthMin"))
    return SourceRecord(
        source=SOURCE, source_id=text(book.get("asin")), url=url, title=title,
        subtitle=text(book.get("subtitle")), authors=names(book.get("authors")),
        narrators=names(book.get("narrators")), series=_series(book),
        duration_s=minutes * 60 if minutes else None, isbn=text(book.get("isbn")),
        asin=text(book.get("asin")), language=_lower(book.get("language")),
        publisher=text(book.get("publisherName")), year=year_of(book.get("releaseDate")),
        description=plain_text(book.get("summary")) or plain_text(book.get("description")),
        cover_url=text(book.get("image")), genres=_genres(book.get("genres")),
        abridged=_abridged(book.get("formatType")),
        release_date=date_of(book.get("releaseDate")))


def _series(book: dict[str, Any]) -> tuple[SeriesRef, ...]:
    found = []
    for key in ("seriesPrimary", "seriesSecondary"):
        entry = mapping(book.get(key))
        name = text(entry.get("name"))
        if name:
            found.append(SeriesRef(name, normalize_position(entry.get("position"))))
    return tuple(found)


def _genres(raw: object) -> tuple[str, ...]:
    """Genre names first, then tags, as Audible orders them."""
    entries = [mapping(g) for g in items(raw)]
    ordered = ([g for g in entries if g.get("type") == "genre"]
               + [g for g in entries if g.get("type") != "genre"])
    return names(ordered)


def _abridged(raw: object) -> bool | None:
    value = (text(raw) or "").lower()
    return {"unabridged": False, "abridged": True}.get(value)


def _lower(raw: object) -> str | None:
    value = text(raw)
    return value.lower() if value else None
