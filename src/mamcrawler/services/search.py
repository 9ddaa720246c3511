"""Search for a wanted book (R8): the tracker first, Prowlarr as an optional second path.

A path that fails is reported and the other is still used. Results from both are merged
without duplicates; the tracker's copy of a release wins (it carries the free flags,
narrators and series).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mamcrawler.adapters.mam import MamClient, SearchQuery, TrackerError
from mamcrawler.adapters.prowlarr import ProwlarrClient, ProwlarrError
from mamcrawler.domain.records import Release
from mamcrawler.domain.text import normalize_title

log = logging.getLogger("mamcrawler.search")
SIZE_TOLERANCE = 0.01  # the same upload seen through two paths differs by rounding only


@dataclass(frozen=True)
class SearchRequest:
    title: str
    author: str | None = None


@dataclass
class SearchOutcome:
    releases: list[Release] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # path -> what went wrong
    searched: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return bool(self.searched) and len(self.errors) == len(self.searched)


def search(request: SearchRequest, tracker: MamClient | None,
           prowlarr: ProwlarrClient | None) -> SearchOutcome:
    """Ask every configured path; never raises for a path's failure."""
    outcome = SearchOutcome()
    text = " ".join(filter(None, [request.title, request.author]))
    if tracker is not None:
        outcome.searched.append("mam")
        try:
            outcome.releases += tracker.search(SearchQuery(text=text, fields=("title", "author")))
        except TrackerError as exc:
            outcome.errors["mam"] = str(exc)
    if prowlarr is not None:
        outcome.searched.append("prowlarr")
        try:
            outcome.releases = merge(outcome.releases, prowlarr.search(text))
        except ProwlarrError as exc:
            outcome.errors["prowlarr"] = str(exc)
    for path, error in outcome.errors.items():
        log.warning("search for %r: %s failed: %s", request.title, path, error)
    return outcome


def merge(first: list[Release], second: list[Release]) -> list[Release]:
    """`first` plus the releases of `second` that are not already in it."""
    merged = list(first)
    for release in second:
        if not any(same_upload(release, known) for known in merged):
            merged.append(release)
    return merged


def same_upload(a: Release, b: Release) -> bool:
    """The same upload seen twice: same info hash, or same title and (almost) same size."""
    if a.info_hash and b.info_hash:
        return a.info_hash.lower() == b.info_hash.lower()
    if normalize_title(a.title) != normalize_title(b.title):
        return False
    bigger = max(a.size_bytes, b.size_bytes)
    return bigger > 0 and abs(a.size_bytes - b.size_bytes) <= bigger * SIZE_TOLERANCE
