"""Hardcover (GraphQL): books with series positions, audio runtime and narrators.

Used only with the user's token (HARDCOVER_TOKEN). A lookup is one search request
(Typesense hits, whose `results` sometimes arrive as a JSON string) and one request for
the details of the top hits, batched as aliased ``books_by_pk`` queries (the API allows
at most 5 top-level queries per request). Narrators are contributions with
``contribution = "Narrator"``, usually on the default audio edition.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any

from mamcrawler.adapters.metadata.base import (
    best_isbn,
    items,
    mapping,
    number,
    require_object,
    text,
    texts,
    unique,
)
from mamcrawler.adapters.metadata.errors import (
    MetadataAuthError,
    MetadataBadResponse,
    MetadataError,
    MetadataRateLimited,
)
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp, json_error_detail
from mamcrawler.domain.metadata import BookQuery, SourceRecord, year_of
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import normalize_position

log = logging.getLogger(__name__)
SOURCE = "hardcover"
LABEL = "Hardcover"
HARDCOVER_URL = "https://api.hardcover.app/v1/graphql"
MAX_TOP_LEVEL_QUERIES = 5
HARDCOVER_INTERVAL_S = 1.0  # 60 requests/min
TOKEN_HELP = ("set HARDCOVER_TOKEN to the API token from hardcover.app "  # noqa: S105 - help
              "(Settings → API)")
BOOK_FIELDS = ("title subtitle release_date audio_seconds book_series{position series{name}} "
               "contributions{contribution author{name}} default_audio_edition{ asin isbn_13 "
               "audio_seconds contributions{contribution author{name}} }")
_AUTH_CODES = frozenset({"invalid-jwt", "invalid-headers", "access-denied"})
_AUTH_WORDS = re.compile(r"jwt|unauthori[sz]ed|authori[sz]ation|token", re.I)
_RATE_WORDS = re.compile(r"rate.?limit|throttl|too many", re.I)


class HardcoverSource:
    """Hardcover's GraphQL API; refuses to exist without a token."""

    name = SOURCE

    def __init__(self, token: str | None, base_url: str = HARDCOVER_URL, *,
                 max_results: int = 5, options: HttpOptions | None = None) -> None:
        # The settings page shows "Bearer <token>"; people paste either form.
        token = re.sub(r"^\s*bearer\s+", "", token or "", flags=re.I).strip()
        if not token:
            raise MetadataAuthError(SOURCE, f"Hardcover needs an API token: {TOKEN_HELP}; "
                                    "without one this source is left out")
        self.max_results = min(MAX_TOP_LEVEL_QUERIES, max(1, max_results))
        self._http = SourceHttp(SOURCE, LABEL, base_url, url_setting="HARDCOVER_URL",
                                options=options or HttpOptions(),
                                default_interval_s=HARDCOVER_INTERVAL_S,
                                credential_setting="HARDCOVER_TOKEN", secrets=(token,),
                                headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """The search's top hits, each completed with its book details (narrators,
        series positions, ASIN) when that second request succeeds."""
        terms = query.isbn if query.isbn and not query.title else query.title
        if query.title and query.author:
            terms = f"{query.title} {query.author}"
        if not terms:
            return []
        graphql = (f"query {{ search(query: {json.dumps(terms)}, query_type: \"Book\", "
                   f"per_page: {self.max_results}) {{ results }} }}")
        hits = parse_search(self.query(graphql, f"search for {terms!r}"))
        return self._with_details(hits[: self.max_results])

    def by_id(self, source_id: str) -> SourceRecord | None:
        """One book by its Hardcover id, or None when there is no such book."""
        return self.books([source_id]).get(source_id.strip())

    def books(self, ids: list[str]) -> dict[str, SourceRecord]:
        """Details of up to 5 books by id in one request; unknown ids are left out."""
        wanted = [i.strip() for i in ids if i.strip().isdigit()][:MAX_TOP_LEVEL_QUERIES]
        if not wanted:
            return {}
        fields = " ".join(f"b{n}: books_by_pk(id: {int(book_id)}) {{ {BOOK_FIELDS} }}"
                          for n, book_id in enumerate(wanted))
        data = self.query(f"query {{ {fields} }}", f"look up books {', '.join(wanted)}")
        found = {}
        for n, book_id in enumerate(wanted):
            record = parse_book(data.get(f"b{n}"), book_id)
            if record is not None:
                found[book_id] = record
        return found

    def _with_details(self, hits: list[SourceRecord]) -> list[SourceRecord]:
        try:
            details = self.books([h.source_id for h in hits if h.source_id])
        except (MetadataAuthError, MetadataRateLimited):
            raise
        except MetadataError as exc:
            log.info("Hardcover: kept %d search hits without their details: %s", len(hits), exc)
            return hits
        return [combine(hit, details.get(hit.source_id or "")) for hit in hits]

    def query(self, graphql: str, what: str) -> dict[str, Any]:
        # The endpoint itself: a relative "" would gain a trailing slash from httpx.
        payload = self._http.post_json(self._http.base_url, what, body={"query": graphql})
        return graphql_data(payload, what)


def graphql_data(payload: object, what: str) -> dict[str, Any]:
    """The `data` of a GraphQL answer; its `errors` become the family's errors (a refused
    token is an auth error naming HARDCOVER_TOKEN)."""
    body = require_object(payload, SOURCE, LABEL, "a GraphQL answer")
    if items(body.get("errors")):
        code, message = json_error_detail(body)
        detail = f"{code}: {message}" if code else message
        if code in _AUTH_CODES or _AUTH_WORDS.search(message):
            raise MetadataAuthError(SOURCE, f"Hardcover refused the token while trying to "
                                    f"{what} ({detail}); {TOKEN_HELP}")
        if _RATE_WORDS.search(detail):
            raise MetadataRateLimited(SOURCE, f"Hardcover asked us to slow down while trying "
                                      f"to {what} ({detail})", status=None)
        raise MetadataBadResponse(SOURCE, f"Hardcover could not {what} ({detail}); the API "
                                  "may have changed")
    data = body.get("data")
    if not isinstance(data, dict):
        raise MetadataBadResponse(SOURCE, f"Hardcover answered without data while trying to "
                                  f"{what}; check HARDCOVER_URL")
    return data


def parse_search(data: object) -> list[SourceRecord]:
    """Records from ``search { results }`` (a Typesense answer ``{"hits":[{"document":…}]}``,
    as an object or as a JSON string); hits without a title are skipped."""
    search = require_object(data, SOURCE, LABEL, "a search answer").get("search")
    if not isinstance(search, dict):
        raise MetadataBadResponse(SOURCE, "Hardcover sent an answer without a search result")
    results = search.get("results")
    if isinstance(results, str):
        try:
            results = json.loads(results)
        except ValueError:
            raise MetadataBadResponse(SOURCE, "Hardcover sent search results that are "
                                      "neither JSON nor an object") from None
    if results is None:
        return []
    if not isinstance(results, dict):
        raise MetadataBadResponse(SOURCE, "Hardcover sent a search answer without results")
    hits = (_hit(mapping(mapping(h).get("document"))) for h in items(results.get("hits")))
    return [h for h in hits if h is not None]


def _hit(doc: dict[str, Any]) -> SourceRecord | None:
    title = text(doc.get("title"))
    if title is None:
        return None
    featured = mapping(doc.get("featured_series"))
    featured_name = text(mapping(featured.get("series")).get("name"))
    series = ((SeriesRef(featured_name, normalize_position(featured.get("position"))),)
              if featured_name else tuple(SeriesRef(n) for n in texts(doc.get("series_names"))))
    return SourceRecord(
        source=SOURCE, source_id=text(doc.get("id")), title=title,
        subtitle=text(doc.get("subtitle")), authors=texts(doc.get("author_names")),
        series=series, duration_s=number(doc.get("audio_seconds")) or None,
        isbn=best_isbn(texts(doc.get("isbns"))), year=year_of(doc.get("release_year")))


def parse_book(data: object, book_id: str) -> SourceRecord | None:
    """A record from a ``books_by_pk`` answer; None when the book does not exist."""
    if data is None:
        return None
    book = require_object(data, SOURCE, LABEL, "a book")
    title = text(book.get("title"))
    if title is None:
        raise MetadataBadResponse(SOURCE, f"Hardcover sent book {book_id} without a title")
    audio = mapping(book.get("default_audio_edition"))
    own, audio_people = people(book.get("contributions")), people(audio.get("contributions"))
    series = tuple(SeriesRef(name, normalize_position(mapping(entry).get("position")))
                   for entry in items(book.get("book_series"))
                   if (name := text(mapping(mapping(entry).get("series")).get("name"))))
    return SourceRecord(
        source=SOURCE, source_id=book_id, title=title, subtitle=text(book.get("subtitle")),
        authors=own["authors"] or audio_people["authors"],
        narrators=unique(audio_people["narrators"] + own["narrators"]), series=series,
        duration_s=(number(audio.get("audio_seconds")) or number(book.get("audio_seconds"))
                    or None),
        isbn=best_isbn(texts(audio.get("isbn_13"))), asin=text(audio.get("asin")),
        year=year_of(book.get("release_date")))


def combine(hit: SourceRecord, detail: SourceRecord | None) -> SourceRecord:
    """The detailed record with gaps filled from the search hit."""
    if detail is None:
        return hit
    filled = {}
    for spec in dataclasses.fields(detail):
        mine = getattr(detail, spec.name)
        if mine in (None, "", ()):
            filled[spec.name] = getattr(hit, spec.name)
    return dataclasses.replace(detail, **filled)


def people(raw: object) -> dict[str, tuple[str, ...]]:
    """Authors (no contribution, or "Author") and narrators of a contributions list."""
    found: dict[str, list[str]] = {"authors": [], "narrators": []}
    for entry in items(raw):
        entry = mapping(entry)
        name = text(mapping(entry.get("author")).get("name"))
        role = (text(entry.get("contribution")) or "author").lower()
        if name and role in ("author", "narrator"):
            found[role + "s"].append(name)
    return {role: unique(names) for role, names in found.items()}
