"""The MyAnonamouse adapter: client, parsing, session store, rate limit, errors.

Tracker words (`mam_id`, `fl_vip`, `tor[...]`) stay inside this package; what leaves it
are the neutral records of :mod:`mamcrawler.domain.records` and the small models here.
"""

from mamcrawler.adapters.mam.client import MAX_VIP_WEEKS, MamClient
from mamcrawler.adapters.mam.errors import (
    TrackerAuthError,
    TrackerBadResponse,
    TrackerBlocked,
    TrackerError,
    TrackerPurchaseUncertain,
    TrackerRateLimited,
    TrackerRefused,
    TrackerUnavailable,
)
from mamcrawler.adapters.mam.models import (
    PurchaseResult,
    SearchPage,
    SearchQuery,
    SeedboxUpdate,
    SiteEvent,
    SiteEvents,
)
from mamcrawler.adapters.mam.ratelimit import MinIntervalLimiter, shared_limiter
from mamcrawler.adapters.mam.session import MemorySessionStore, SessionStore
from mamcrawler.adapters.mam.shared_rate import SharedRateLimiter

__all__ = [
    "MAX_VIP_WEEKS",
    "MamClient",
    "MemorySessionStore",
    "MinIntervalLimiter",
    "PurchaseResult",
    "SearchPage",
    "SearchQuery",
    "SeedboxUpdate",
    "SessionStore",
    "SharedRateLimiter",
    "SiteEvent",
    "SiteEvents",
    "TrackerAuthError",
    "TrackerBadResponse",
    "TrackerBlocked",
    "TrackerError",
    "TrackerPurchaseUncertain",
    "TrackerRateLimited",
    "TrackerRefused",
    "TrackerUnavailable",
    "shared_limiter",
]
