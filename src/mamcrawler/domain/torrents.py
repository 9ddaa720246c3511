"""Neutral records of what the torrent client holds, for the pure ratio and seeding rules.

The qBittorrent adapter fills these in; decisions only read them. All are frozen so a
snapshot can be handed to a decision, stored and replayed later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class TorrentState(StrEnum):
    """Our torrent states; the adapter maps the client's many raw states onto these.

    A complete torrent that nobody is downloading from right now (qBittorrent's
    ``stalledUP``) is SEEDING: it is announced and available, which is what the tracker
    counts as seeding time. STALLED is only a download that makes no progress — the case
    that needs recovery (reannounce, recheck, force-start).
    """

    DOWNLOADING = "downloading"
    SEEDING = "seeding"
    STALLED = "stalled"
    PAUSED = "paused"
    ERRORED = "errored"
    CHECKING = "checking"
    MISSING_FILES = "missing_files"
    QUEUED = "queued"
    MOVING = "moving"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TorrentSnapshot:
    """One torrent as the client reported it at one moment.

    Sizes and byte counts are bytes, speeds bytes per second, times UTC.
    """

    hash: str  # v1 info-hash, lower-case hex: the client's id for the torrent
    name: str
    state: TorrentState
    raw_state: str  # the client's own word, kept for logs and for states we do not model
    category: str = ""
    tags: tuple[str, ...] = ()
    progress: float = 0.0  # 0.0 .. 1.0
    size: int = 0  # bytes selected for download
    downloaded: int = 0  # lifetime bytes downloaded
    uploaded: int = 0  # lifetime bytes uploaded
    ratio: float = 0.0  # math.inf when the client reports an unbounded ratio
    seeding_time: int = 0  # seconds spent complete and active
    completion_on: datetime | None = None  # None until the download completed
    added_on: datetime | None = None
    save_path: str = ""
    content_path: str = ""
    num_seeds: int = 0  # seeds we are connected to
    num_leechs: int = 0  # leechers we are connected to
    dlspeed: int = 0
    upspeed: int = 0
    forced: bool = False  # force-started: runs regardless of queue limits

    @property
    def is_complete(self) -> bool:
        """True when every selected byte is on disk (a paused torrent can be complete)."""
        return self.progress >= 1.0


# The name the rest of the code was promised for a listed torrent; same record.
TorrentInfo = TorrentSnapshot


@dataclass(frozen=True)
class TransferInfo:
    """Whole-client transfer figures. Lifetime totals are None when the source lacks them."""

    dl_speed: int = 0  # bytes/s
    up_speed: int = 0  # bytes/s
    dl_session: int = 0  # bytes downloaded since the client started
    up_session: int = 0  # bytes uploaded since the client started
    dl_limit: int = 0  # bytes/s, 0 = unlimited
    up_limit: int = 0  # bytes/s, 0 = unlimited
    connection_status: str = "unknown"  # connected / firewalled / disconnected / unknown
    alltime_dl: int | None = None
    alltime_ul: int | None = None


@dataclass(frozen=True)
class ClientSnapshot:
    """Everything one poll of the client saw: all torrents plus transfer figures.

    ``changed`` and ``removed`` describe the difference from the previous poll by the same
    poller; on a full update every torrent counts as changed.
    """

    taken_at: datetime  # UTC
    torrents: tuple[TorrentSnapshot, ...]
    transfer: TransferInfo
    full_update: bool  # the client sent its whole state, not a difference
    changed: frozenset[str] = field(default_factory=frozenset)
    removed: frozenset[str] = field(default_factory=frozenset)

    def by_hash(self) -> dict[str, TorrentSnapshot]:
        """Torrents keyed by info-hash."""
        return {t.hash: t for t in self.torrents}

    def count_by_state(self) -> dict[TorrentState, int]:
        """How many torrents are in each of our states (states with none are left out)."""
        return dict(Counter(t.state for t in self.torrents))
