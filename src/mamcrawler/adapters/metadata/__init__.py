"""Metadata sources: Audnexus (+ Audible catalog), Open Library, Google Books, Hardcover,
iTunes and the tracker's release data — each an adapter with its own rate limit, timeout,
cache and one error family — and `query_all`, which asks them concurrently."""

from mamcrawler.adapters.metadata.audnexus import AudnexusSource
from mamcrawler.adapters.metadata.base import MetadataSource, MetadataSourceById, plain_text
from mamcrawler.adapters.metadata.cache import CachedSource, TTLCache
from mamcrawler.adapters.metadata.errors import (
    MetadataAuthError,
    MetadataBadResponse,
    MetadataError,
    MetadataNotFound,
    MetadataRateLimited,
    MetadataUnavailable,
)
from mamcrawler.adapters.metadata.factory import build_sources, close_all
from mamcrawler.adapters.metadata.googlebooks import GoogleBooksSource
from mamcrawler.adapters.metadata.hardcover import HardcoverSource
from mamcrawler.adapters.metadata.http import HttpOptions
from mamcrawler.adapters.metadata.itunes import ITunesSource
from mamcrawler.adapters.metadata.openlibrary import OpenLibrarySource
from mamcrawler.adapters.metadata.query import QueryOutcome, query_all
from mamcrawler.adapters.metadata.tracker import TrackerReleaseSource, release_record

__all__ = [
    "AudnexusSource",
    "CachedSource",
    "GoogleBooksSource",
    "HardcoverSource",
    "HttpOptions",
    "ITunesSource",
    "MetadataAuthError",
    "MetadataBadResponse",
    "MetadataError",
    "MetadataNotFound",
    "MetadataRateLimited",
    "MetadataSource",
    "MetadataSourceById",
    "MetadataUnavailable",
    "OpenLibrarySource",
    "QueryOutcome",
    "TTLCache",
    "TrackerReleaseSource",
    "build_sources",
    "close_all",
    "plain_text",
    "query_all",
    "release_record",
]
