"""Audiobookshelf adapter: REST client with an API token and one error family."""

from mamcrawler.adapters.audiobookshelf.client import (
    AbsClient,
    AbsItemsPage,
    AbsLibrary,
    AbsStatus,
)
from mamcrawler.adapters.audiobookshelf.errors import (
    AbsAuthError,
    AbsBadResponse,
    AbsError,
    AbsNotFound,
    AbsUnavailable,
)
from mamcrawler.adapters.audiobookshelf.items import (
    AbsItem,
    parse_item,
    parse_series_name,
    sequence_text,
)

__all__ = [
    "AbsAuthError",
    "AbsBadResponse",
    "AbsClient",
    "AbsError",
    "AbsItem",
    "AbsItemsPage",
    "AbsLibrary",
    "AbsNotFound",
    "AbsStatus",
    "AbsUnavailable",
    "parse_item",
    "parse_series_name",
    "sequence_text",
]
