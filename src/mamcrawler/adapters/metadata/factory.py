"""The configured metadata sources, each behind the shared answer cache."""

from __future__ import annotations

from collections.abc import Mapping

from mamcrawler.adapters.metadata.audnexus import AudnexusSource
from mamcrawler.adapters.metadata.base import MetadataSource
from mamcrawler.adapters.metadata.cache import CachedSource, TTLCache
from mamcrawler.adapters.metadata.googlebooks import GoogleBooksSource
from mamcrawler.adapters.metadata.hardcover import HardcoverSource
from mamcrawler.adapters.metadata.http import HttpOptions
from mamcrawler.adapters.metadata.itunes import ITunesSource
from mamcrawler.adapters.metadata.openlibrary import OpenLibrarySource
from mamcrawler.config import Settings

_CACHE = TTLCache(max_entries=4096)


def build_sources(settings: Settings, *, cache: TTLCache | None = None,
                  ttl_s: Mapping[str, float] | None = None,
                  options: HttpOptions | None = None) -> list[MetadataSource]:
    """Audnexus, Open Library, Google Books, Hardcover (only with HARDCOVER_TOKEN) and
    iTunes, configured from `settings`, each cached for METADATA_CACHE_TTL_S seconds
    unless `ttl_s` names another TTL for its source name. Close them with `close_all`.

    `cache` defaults to one cache shared by the whole process, so jobs that build their
    own sources still reuse each other's answers.
    """
    options = options or HttpOptions(timeout_s=settings.metadata_timeout_s)
    google_key = settings.google_books_api_key
    sources: list[MetadataSource] = [
        AudnexusSource(settings.audnexus_url, settings.audible_catalog_url,
                       region=settings.audible_region, options=options),
        OpenLibrarySource(settings.openlibrary_url, options=options),
        GoogleBooksSource(settings.google_books_url, options=options,
                          api_key=google_key.get_secret_value() if google_key else None),
    ]
    token = settings.hardcover_token.get_secret_value() if settings.hardcover_token else ""
    if token.strip():
        sources.append(HardcoverSource(token, settings.hardcover_url, options=options))
    sources.append(ITunesSource(settings.itunes_url, options=options))
    cache = cache if cache is not None else _CACHE
    ttls = dict(ttl_s or {})
    return [CachedSource(s, cache, ttls.get(s.name, settings.metadata_cache_ttl_s))
            for s in sources]


def close_all(sources: list[MetadataSource]) -> None:
    """Close every source that holds connections."""
    for source in sources:
        close = getattr(source, "close", None)
        if close is not None:
            close()
