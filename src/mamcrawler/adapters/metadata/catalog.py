"""Audible's catalog as a bibliography source: the audiobooks of an author or a series (R18).

One request to ``GET /1.0/catalog/products`` lists up to 50 products. Asked with the
response groups `contributors,product_attrs,series`, each product carries its title,
authors, narrators, series with position (`sequence`), language, format and runtime:
one request per author or series, no per-book requests. A product not released yet (a
pre-order) carries its future `release_date`. A product sent with its ASIN
only (the answer's plain shape) is completed from Audnexus, at most `max_details` per
request, so an unexpected answer costs a bounded number of extra requests.
"""

from __future__ import annotations

import logging
from typing import Any

from mamcrawler.adapters.metadata.audnexus import AUDIBLE_CATALOG_URL, CATALOG_INTERVAL_S
from mamcrawler.adapters.metadata.base import (
    MetadataSourceById,
    items,
    mapping,
    names,
    number,
    require_object,
    text,
)
from mamcrawler.adapters.metadata.errors import (
    MetadataBadResponse,
    MetadataError,
    MetadataRateLimited,
)
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp
from mamcrawler.domain.metadata import SourceRecord, date_of, year_of
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import normalize_position

log = logging.getLogger(__name__)
SOURCE = "audible"
RESPONSE_GROUPS = "contributors,product_attrs,series"
MAX_RESULTS = 50  # the catalog's largest page


class AudibleCatalog:
    """The books Audible lists for an author or a series (ours to filter: a search for a
    series name also finds other books with those words)."""

    name = SOURCE

    def __init__(self, catalog_url: str = AUDIBLE_CATALOG_URL, *,
                 audnexus: MetadataSourceById | None = None, max_details: int = 10,
                 options: HttpOptions | None = None) -> None:
        self._http = SourceHttp(SOURCE, "Audible's catalog", catalog_url,
                                url_setting="AUDIBLE_CATALOG_URL",
                                options=options or HttpOptions(),
                                default_interval_s=CATALOG_INTERVAL_S)
        self._audnexus = audnexus
        self.max_details = max(0, max_details)

    def close(self) -> None:
        self._http.close()

    def author_books(self, author: str) -> list[SourceRecord]:
        """The author's products, newest first (a prolific author's latest books are the
        ones a gap is most likely to be among)."""
        return self._products({"author": author, "products_sort_by": "-ReleaseDate"},
                              f"list the books of {author!r}")

    def series_books(self, series: str, author: str | None = None) -> list[SourceRecord]:
        """Products matching the series name (and the author, when known)."""
        params = {"keywords": series, "products_sort_by": "Relevance"}
        if author:
            params["author"] = author
        return self._products(params, f"list the books of series {series!r}")

    def _products(self, params: dict[str, Any], what: str) -> list[SourceRecord]:
        query = {"num_results": MAX_RESULTS, "response_groups": RESPONSE_GROUPS, **params}
        data = self._http.get_json("/1.0/catalog/products", what, params=query)
        records, bare = parse_products(data)
        return records + self._details(bare)

    def _details(self, asins: list[str]) -> list[SourceRecord]:
        """Audnexus records of products the catalog sent without details; one failing is
        skipped (the rest of the bibliography is still worth having)."""
        if not asins or self._audnexus is None:
            return []
        found = []
        for asin in asins[: self.max_details]:
            try:
                record = self._audnexus.by_id(asin)
            except MetadataRateLimited as exc:
                log.info("Audible catalog: details stop at %s: %s", asin, exc)
                break  # asking for the next one would only draw another 429
            except MetadataError as exc:
                log.info("Audible catalog: no details for %s: %s", asin, exc)
                continue
            if record is not None:
                found.append(record)
        return found


def parse_products(data: object) -> tuple[list[SourceRecord], list[str]]:
    """(records of products with details, ASINs of products without a title)."""
    body = require_object(data, SOURCE, "Audible's catalog", "a search answer")
    products = body.get("products")
    if products is None and body.get("total_results") == 0:
        return [], []
    if not isinstance(products, list):
        raise MetadataBadResponse(SOURCE, "Audible's catalog sent a search answer without "
                                  "a product list; check AUDIBLE_CATALOG_URL")
    records, bare = [], []
    for product in products:
        product = mapping(product)
        record = parse_product(product)
        if record is not None:
            records.append(record)
        elif text(product.get("asin")):
            bare.append(text(product.get("asin")))
    return records, list(dict.fromkeys(bare))


def parse_product(product: dict[str, Any]) -> SourceRecord | None:
    """A record from a catalog product with details; None when it has no title."""
    title = text(product.get("title"))
    if title is None:
        return None
    series = tuple(SeriesRef(name, normalize_position(entry.get("sequence")))
                   for entry in map(mapping, items(product.get("series")))
                   if (name := text(entry.get("title"))))
    minutes = number(product.get("runtime_length_min"))
    fmt = (text(product.get("format_type")) or "").lower()
    language = text(product.get("language"))
    return SourceRecord(
        source=SOURCE, source_id=text(product.get("asin")), title=title,
        subtitle=text(product.get("subtitle")), authors=names(product.get("authors")),
        narrators=names(product.get("narrators")), series=series,
        duration_s=minutes * 60 if minutes else None, asin=text(product.get("asin")),
        language=language.lower() if language else None,
        publisher=text(product.get("publisher_name")),
        year=year_of(product.get("release_date") or product.get("issue_date")),
        release_date=date_of(product.get("release_date") or product.get("issue_date")),
        abridged={"unabridged": False, "abridged": True}.get(fmt))
