"""Requests and replies of the tracker adapter that the neutral records do not cover."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mamcrawler.domain.records import Release

SEARCH_FIELDS = frozenset({"title", "author", "narrator", "series", "description", "filenames"})
SEARCH_TYPES = frozenset({"all", "active", "fl", "fl-VIP", "VIP", "nVIP"})
SORT_TYPES = frozenset({
    "default", "dateDesc", "dateAsc", "titleAsc", "titleDesc", "seedersDesc", "seedersAsc",
    "leechersDesc", "leechersAsc", "snatchedDesc", "snatchedAsc", "sizeDesc", "sizeAsc",
    "categoryAsc", "categoryDesc", "random",
})
AUDIOBOOKS_MAIN_CATEGORY = 13
ENGLISH = 1


@dataclass(frozen=True)
class SearchQuery:
    """One page of a tracker search, in plain words; the client maps it to `tor[...]`.

    `search_type`: all, active (has seeders), fl (freeleech), fl-VIP (freeleech or
    VIP-free), VIP, nVIP (not VIP). Empty `category_ids` / `language_ids` mean "all".
    """

    text: str = ""
    fields: tuple[str, ...] = ("title", "author", "narrator", "series")
    search_type: str = "all"
    category_ids: tuple[int, ...] = ()
    main_category_ids: tuple[int, ...] = (AUDIOBOOKS_MAIN_CATEGORY,)
    language_ids: tuple[int, ...] = ()
    sort: str = "default"
    start: int = 0
    per_page: int = 50

    def __post_init__(self) -> None:
        unknown = set(self.fields) - SEARCH_FIELDS
        if unknown:
            raise ValueError(f"unknown search fields {sorted(unknown)}; "
                             f"use {sorted(SEARCH_FIELDS)}")
        if self.search_type not in SEARCH_TYPES:
            raise ValueError(f"unknown search type {self.search_type!r}; "
                             f"use {sorted(SEARCH_TYPES)}")
        if self.sort not in SORT_TYPES:
            raise ValueError(f"unknown sort {self.sort!r}; use {sorted(SORT_TYPES)}")
        if not 5 <= self.per_page <= 100:
            raise ValueError("per_page must be between 5 and 100 (the tracker's bounds)")
        if self.start < 0:
            raise ValueError("start must be >= 0")

    def to_params(self) -> list[tuple[str, str]]:
        """The bracketed query parameters the search endpoint takes."""
        params: list[tuple[str, str]] = [
            ("tor[text]", self.text),
            ("tor[searchType]", self.search_type),
            ("tor[searchIn]", "torrents"),
            ("tor[sortType]", self.sort),
            ("tor[startNumber]", str(self.start)),
            ("perpage", str(self.per_page)),
        ]
        params += [(f"tor[srchIn][{name}]", "true") for name in self.fields]
        params += [("tor[cat][]", str(c)) for c in self.category_ids or (0,)]
        params += [("tor[main_cat][]", str(c)) for c in self.main_category_ids]
        params += [("tor[browse_lang][]", str(lang)) for lang in self.language_ids]
        return params


@dataclass(frozen=True)
class SearchPage:
    """One page of results plus the tracker's count of all matches."""

    releases: list[Release]
    total: int
    start: int = 0
    per_page: int = 0
    skipped: int = 0  # results that could not be parsed and were left out


@dataclass(frozen=True)
class PurchaseResult:
    """What the bonus store answered to a successful purchase."""

    kind: str  # "VIP" or "upload"
    amount: float  # weeks for VIP, GB for upload credit
    points_left: float | None
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None
    ratio: float | None = None


@dataclass(frozen=True)
class SeedboxUpdate:
    """Answer of the dynamic-seedbox call: whether the session's IP was changed."""

    changed: bool
    message: str
    ip: str | None = None
    asn: str | None = None
    as_name: str | None = None


@dataclass(frozen=True)
class SiteEvent:
    """One site-wide event: `kind` is freeleech, bonus or multiplier."""

    kind: str
    active: bool
    ends: datetime | None = None  # UTC
    factor: float | None = None  # multiplier factor or bonus percentage
    title: str = ""


@dataclass(frozen=True)
class SiteEvents:
    """Site-wide events; `status` is "unknown" when the site offers no readable status."""

    status: str  # "known" | "unknown"
    events: tuple[SiteEvent, ...] = ()
    reason: str = ""
    fetched_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def known(self) -> bool:
        return self.status == "known"

    def active(self, kind: str) -> bool:
        """True when an event of `kind` is known to be running now."""
        return any(e.kind == kind and e.active for e in self.events)
