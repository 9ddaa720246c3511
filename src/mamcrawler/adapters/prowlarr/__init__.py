"""Prowlarr: an optional second search path over the person's other indexers (R8)."""

from mamcrawler.adapters.prowlarr.client import (
    AUDIOBOOK_CATEGORY,
    ProwlarrAuthError,
    ProwlarrClient,
    ProwlarrError,
    ProwlarrUnavailable,
)

__all__ = ["AUDIOBOOK_CATEGORY", "ProwlarrAuthError", "ProwlarrClient", "ProwlarrError",
           "ProwlarrUnavailable"]
