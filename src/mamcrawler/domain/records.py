"""Neutral records that adapters produce and decisions consume.

Tracker vocabulary stays in ``adapters/mam``; these records speak of releases and accounts.
All are frozen so a snapshot can be handed to a decision and replayed later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SeriesRef:
    name: str
    position: str | None = None  # kept as text: "3", "2.5", "1-3" all occur


@dataclass(frozen=True)
class Release:
    """One downloadable release of a book on an indexer (normally the tracker)."""

    id: str
    title: str
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series: tuple[SeriesRef, ...] = ()
    category_id: int | None = None
    category_name: str | None = None
    language: str | None = None  # ISO-ish code as the source gives it, e.g. "ENG"
    format: str | None = None  # lower-case file type: "m4b", "mp3", ...
    size_bytes: int = 0
    file_count: int = 0
    seeders: int = 0
    leechers: int = 0
    snatches: int = 0
    added: datetime | None = None  # UTC
    free: bool = False  # site freeleech on this torrent
    personal_freeleech: bool = False
    vip_free: bool = False  # free for VIP-class accounts
    tags: str = ""
    source: str = "mam"  # which search path found it: "mam" or "prowlarr:<indexer>"
    download_url: str | None = None  # set by search paths that download by URL (Prowlarr)
    info_hash: str | None = None  # when the search path tells it


@dataclass(frozen=True)
class SnatchBucket:
    name: str
    count: int | None = 0  # None: the tracker's count was missing or unreadable
    red: bool = False  # the tracker marks trouble (hit-and-run) in red
    size_bytes: int = 0
    limit: int | None = None  # only the "unsat" bucket carries a limit


@dataclass(frozen=True)
class AccountStats:
    """What the tracker says about the account at one moment."""

    username: str
    uid: int | None
    class_name: str
    ratio: float | None  # None = infinite (nothing downloaded yet)
    uploaded_bytes: int
    downloaded_bytes: int
    bonus_points: float
    wedges: int = 0
    vip_until: datetime | None = None  # UTC
    connectable: bool | None = None
    buckets: dict[str, SnatchBucket] = field(default_factory=dict)

    @property
    def unsatisfied_count(self) -> int | None:
        """None when the tracker gave no readable count: unknown, never taken as 0."""
        bucket = self.buckets.get("unsat")
        return bucket.count if bucket else None

    @property
    def unsatisfied_limit(self) -> int | None:
        bucket = self.buckets.get("unsat")
        return bucket.limit if bucket else None
