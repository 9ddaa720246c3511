"""Google Books: volumes by title/author or ISBN. No narrators, no runtime.

The API key is optional (keyless calls are often refused with 429). It travels as the
``key`` query parameter, so it is registered with the HTTP layer's log mask: httpx logs
every request URL, and the key must never reach a log line or an error message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mamcrawler.adapters.metadata.base import (
    best_isbn,
    items,
    mapping,
    plain_text,
    require_object,
    text,
    texts,
)
from mamcrawler.adapters.metadata.errors import MetadataBadResponse, MetadataNotFound
from mamcrawler.adapters.metadata.http import HttpOptions, SourceHttp
from mamcrawler.domain.metadata import BookQuery, SourceRecord, year_of

SOURCE = "googlebooks"
LABEL = "Google Books"
GOOGLE_BOOKS_URL = "https://www.googleapis.com/books/v1"
GOOGLE_INTERVAL_S = 0.5


class GoogleBooksSource:
    """Google Books volumes; `api_key` None = keyless (allowed, but rate-limited harder)."""

    name = SOURCE

    def __init__(self, base_url: str = GOOGLE_BOOKS_URL, *, api_key: str | None = None,
                 max_results: int = 10, options: HttpOptions | None = None) -> None:
        self._key = (api_key or "").strip() or None
        self.max_results = min(40, max(1, max_results))  # the API allows 1-40
        self._http = SourceHttp(SOURCE, LABEL, base_url, url_setting="GOOGLE_BOOKS_URL",
                                options=options or HttpOptions(),
                                default_interval_s=GOOGLE_INTERVAL_S,
                                credential_setting="GOOGLE_BOOKS_API_KEY",
                                secrets=(self._key,) if self._key else ())

    def close(self) -> None:
        self._http.close()

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """Volumes matching the ISBN if one is given, else title and first author; an
        ASIN alone finds nothing here."""
        terms = search_terms(query)
        if not terms:
            return []
        params = self._params({"q": terms, "maxResults": self.max_results})
        data = self._http.get_json("/volumes", f"search for {query.title or query.isbn!r}",
                                   params=params)
        return parse_volumes(data)

    def by_id(self, source_id: str) -> SourceRecord | None:
        """One volume by its Google id, or None when Google has none."""
        volume_id = source_id.strip()
        try:
            data = self._http.get_json(f"/volumes/{quote(volume_id, safe='')}",
                                       f"look up volume {volume_id}", params=self._params({}))
        except MetadataNotFound:
            return None
        record = parse_volume(data)
        if record is None:
            raise MetadataBadResponse(SOURCE, f"Google Books sent volume {volume_id} without "
                                      "a title; the API may have changed")
        return record

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "key": self._key} if self._key else params


def search_terms(query: BookQuery) -> str:
    """The `q` parameter: ``isbn:…`` when an ISBN is known (exact), else
    ``intitle:… inauthor:…``."""
    if query.isbn:
        return f"isbn:{query.isbn}"
    if not query.title:
        return ""
    terms = f"intitle:{query.title}"
    return f"{terms} inauthor:{query.author}" if query.author else terms


def parse_volumes(data: object) -> list[SourceRecord]:
    """Records from ``{"totalItems":N,"items":[…]}``; `items` is absent when nothing
    matches. Volumes without a title are skipped."""
    body = require_object(data, SOURCE, LABEL, "a search answer")
    raw = body.get("items")
    if raw is None:
        if "totalItems" not in body and "kind" not in body:
            raise MetadataBadResponse(SOURCE, "Google Books sent a search answer with "
                                      "neither items nor totalItems; check GOOGLE_BOOKS_URL")
        return []
    if not isinstance(raw, list):
        raise MetadataBadResponse(SOURCE, "Google Books sent items that are not a list")
    return [r for r in (parse_volume(v) for v in raw) if r is not None]


def parse_volume(data: object) -> SourceRecord | None:
    """A record from one volume (``{"id","volumeInfo":{…}}``), None without a title."""
    volume = mapping(data)
    info = mapping(volume.get("volumeInfo"))
    title = text(info.get("title"))
    if title is None:
        return None
    images = mapping(info.get("imageLinks"))
    return SourceRecord(
        source=SOURCE, source_id=text(volume.get("id")),
        url=text(info.get("canonicalVolumeLink")) or text(info.get("infoLink")),
        title=title, subtitle=text(info.get("subtitle")), authors=texts(info.get("authors")),
        isbn=_isbn(info.get("industryIdentifiers")), language=text(info.get("language")),
        publisher=text(info.get("publisher")), year=year_of(info.get("publishedDate")),
        description=plain_text(info.get("description")),
        cover_url=text(images.get("thumbnail")) or text(images.get("smallThumbnail")),
        genres=texts(info.get("categories")))


def _isbn(raw: object) -> str | None:
    by_type: dict[str, list[str]] = {"ISBN_13": [], "ISBN_10": []}
    for entry in items(raw):
        entry = mapping(entry)
        kind, value = text(entry.get("type")), text(entry.get("identifier"))
        if kind in by_type and value:
            by_type[kind].append(value)
    return best_isbn(by_type["ISBN_13"] + by_type["ISBN_10"])
