"""qBittorrent in memory: the `TorrentClient` port for fast tests of the watch logic.

States are set by the test (`put`, or qBittorrent's own doings: `pause`, `stop`, `queue`)
and every command is recorded in `calls`. Commands change states the way qbittorrent-nox
4.5 does, as tests/integration/test_qbittorrent_adapter.py and test_torrent_watch.py see
it: resuming runs a torrent auto-managed (not forced), force-starting runs it whatever the
queue says (and resumes a paused one), un-forcing returns it under the queue, pausing
drops the force. The real-qBittorrent tests stay; this one is for exact, quick control.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from mamcrawler.adapters.qbittorrent import TorrentClientUnavailable, normalise_state
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot, TransferInfo
from mamcrawler.torrentfile import info_hash as hash_of

NO_LIMIT = -1


class FakeTorrentClient:
    """Satisfies `mamcrawler.services.ports.TorrentClient`; see the module docstring."""

    url = "http://127.0.0.1:1"

    def __init__(self, category: str = "mamcrawler") -> None:
        self.category = category
        self.held: dict[str, TorrentSnapshot] = {}
        self.prefs: dict[str, Any] = {"max_uploads": 20, "max_uploads_per_torrent": 4,
                                      "up_limit": 0}
        self.share_limits: dict[str, tuple[float, int]] = {}
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.down: str | None = None  # set: every call fails as if qBittorrent were gone
        self.failing: dict[str, Exception] = {}  # command name -> what it raises
        self.queueing = False  # un-forced seeds go back to the queue (queuedUP)
        self.upload_speed = 1000
        self._dirty: set[str] = set()
        self._polled = False

    # What the test (or qBittorrent itself) does.

    def put(self, info_hash: str, raw: str, **fields: Any) -> TorrentSnapshot:
        """Add or change a torrent; `raw` is qBittorrent's state word."""
        old = self.held.get(info_hash)
        base = old or TorrentSnapshot(hash=info_hash, name=f"book {info_hash[:4]}",
                                      state=normalise_state(raw), raw_state=raw,
                                      category=self.category)
        self.held[info_hash] = replace(base, state=normalise_state(raw), raw_state=raw, **fields)
        self._dirty.add(info_hash)
        return self.held[info_hash]

    def remove(self, info_hash: str) -> None:
        del self.held[info_hash]

    def pause(self, info_hash: str) -> None:
        """Paused by hand or by a share limit (qBittorrent 4: pausedUP/pausedDL)."""
        self._hold(info_hash, "paused")

    def stop(self, info_hash: str) -> None:
        """qBittorrent 5's name for paused: stoppedUP/stoppedDL."""
        self._hold(info_hash, "stopped")

    def queue(self, info_hash: str) -> None:
        """Held back by the client's queue limits (only a torrent that is not forced)."""
        self._hold(info_hash, "queued")

    def _hold(self, info_hash: str, word: str) -> None:
        torrent = self.held[info_hash]
        self.put(info_hash, word + ("UP" if torrent.is_complete else "DL"), forced=False)

    def raw_state(self, info_hash: str) -> str:
        return self.held[info_hash].raw_state

    def commands(self, name: str) -> list[tuple[str, ...]]:
        """The hashes of every recorded call of command `name`."""
        return [hashes for called, hashes in self.calls if called == name]

    # The TorrentClient port.

    def add_torrent(self, torrent_bytes: bytes, *, category: str | None = None,
                    tags: Iterable[str] = (), save_path: str | None = None,
                    paused: bool = False) -> str:
        self._check("add_torrent")
        info_hash = hash_of(torrent_bytes)
        self.calls.append(("add_torrent", (info_hash,)))
        self.put(info_hash, "pausedDL" if paused else "stalledDL",
                 category=self.category if category is None else category,
                 tags=tuple(sorted([tags] if isinstance(tags, str) else tags)),
                 save_path=save_path or "")
        self.share_limits[info_hash] = (NO_LIMIT, NO_LIMIT)  # as QbitClient.add_torrent
        return info_hash

    def poll(self) -> ClientSnapshot:
        self._check("poll")
        full, self._polled = not self._polled, True
        changed = set(self.held) if full else self._dirty & set(self.held)
        self._dirty = set()
        return ClientSnapshot(datetime.now(UTC), tuple(self.held.values()),
                              TransferInfo(up_speed=self.upload_speed), full, frozenset(changed))

    def torrents(self, category: str | None = None) -> list[TorrentSnapshot]:
        self._check("torrents")
        return [t for t in self.held.values() if category is None or t.category == category]

    def resume(self, hashes: str | Iterable[str]) -> None:
        for h in self._command("resume", hashes):
            torrent = self.held[h]
            if torrent.raw_state.startswith(("paused", "stopped")):
                self.put(h, "stalledUP" if torrent.is_complete else "stalledDL", forced=False)

    def force_start(self, hashes: str | Iterable[str], on: bool = True) -> None:
        for h in self._command("force_start" if on else "unforce", hashes):
            torrent = self.held[h]
            if on:
                self.put(h, "forcedUP" if torrent.is_complete else "forcedDL", forced=True)
            elif torrent.raw_state.startswith("forced"):
                idle = "queuedUP" if self.queueing else "stalledUP"
                self.put(h, idle if torrent.is_complete else "stalledDL", forced=False)
            else:
                self.put(h, torrent.raw_state, forced=False)

    def recheck(self, hashes: str | Iterable[str]) -> None:
        self._command("recheck", hashes)

    def reannounce(self, hashes: str | Iterable[str]) -> None:
        self._command("reannounce", hashes)

    def set_share_limits(self, hashes: str | Iterable[str], *, ratio_limit: float,
                         seeding_time_limit_min: int) -> None:
        for h in self._command("set_share_limits", hashes):
            self.share_limits[h] = (ratio_limit, seeding_time_limit_min)

    def preferences(self) -> dict[str, Any]:
        self._check("preferences")
        return dict(self.prefs)

    def set_preferences(self, **prefs: Any) -> None:
        self._check("set_preferences")
        self.prefs.update(prefs)

    def _check(self, name: str) -> None:
        if self.down:
            raise TorrentClientUnavailable(f"qBittorrent at {self.url} is not reachable while "
                                           f"trying to {name} ({self.down})")
        if name in self.failing:
            raise self.failing[name]

    def _command(self, name: str, hashes: str | Iterable[str]) -> list[str]:
        self._check(name)
        wanted = [hashes] if isinstance(hashes, str) else list(hashes)
        if wanted:  # like QbitClient: an empty list is a no-op, never "all torrents"
            self.calls.append((name, tuple(wanted)))
        return [h for h in wanted if h in self.held]


@pytest.fixture
def fake_torrent_client() -> FakeTorrentClient:
    return FakeTorrentClient()
