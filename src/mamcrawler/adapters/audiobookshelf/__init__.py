"""Audiobookshelf adapter: REST client with an API token and one error family."""

from mamcrawler.adapters.audiobookshelf.client import (
    AbsClient,
    AbsItem,
    AbsItemsPage,
    AbsLibrary,
    AbsStatus,
    parse_item,
)
from mamcrawler.adapters.audiobookshelf.errors import (
    AbsAuthError,
    AbsBadResponse,
    AbsError,
    AbsNotFound,
    AbsUnavailable,
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
]
