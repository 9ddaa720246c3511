"""The ports services talk through: what they need from the tracker and the torrent
client, as Protocols. `MamClient` and `QbitClient` satisfy them structurally; the tests
have in-memory fakes (tests/support/fake_tracker.py and fake_torrent_client.py) so
acquisition and watch logic run fast without a network, and the same services still run
end to end against the real parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from mamcrawler.adapters.mam.models import PurchaseResult, SearchQuery, SiteEvents
from mamcrawler.domain.records import AccountStats, Release
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot

Hashes = str | Sequence[str]


class Tracker(Protocol):
    def account_stats(self) -> AccountStats: ...

    def search(self, query: SearchQuery) -> list[Release]: ...

    def release(self, torrent_id: str, title: str) -> Release | None:
        """The release with this id as the tracker shows it now (None: not found)."""
        ...

    def download_torrent(self, torrent_id: int | str, *, use_wedge: bool = False) -> bytes: ...

    def buy_vip(self, weeks: int) -> PurchaseResult: ...

    def buy_upload_credit(self, gb: int) -> PurchaseResult: ...

    def site_events(self) -> SiteEvents: ...


class TorrentClient(Protocol):
    def add_torrent(self, torrent_bytes: bytes, *, category: str | None = None,
                    tags: Iterable[str] = (), save_path: str | None = None,
                    paused: bool = False) -> str: ...

    def poll(self) -> ClientSnapshot: ...

    def torrents(self, category: str | None = None) -> list[TorrentSnapshot]: ...

    def resume(self, hashes: Hashes) -> None: ...

    def force_start(self, hashes: Hashes, on: bool = True) -> None: ...

    def recheck(self, hashes: Hashes) -> None: ...

    def reannounce(self, hashes: Hashes) -> None: ...

    def set_share_limits(self, hashes: Hashes, *, ratio_limit: float,
                         seeding_time_limit_min: int) -> None:
        """Per-torrent share limits; -1 means "no limit" for both (overrides the global)."""
        ...

    def preferences(self) -> dict[str, Any]: ...

    def set_preferences(self, **prefs: Any) -> None: ...
