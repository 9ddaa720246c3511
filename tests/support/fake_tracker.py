"""An in-memory tracker satisfying the `Tracker` port, for fast acquisition tests.

It keeps an account, a catalogue of releases and the wedges; a wedge download makes the
torrent personal freeleech unless `wedges_take` is False (the case the service must
catch by reading the torrent back). Every call is recorded in `calls`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from mamcrawler.adapters.mam import SearchQuery, TrackerError
from mamcrawler.adapters.mam.models import PurchaseResult, SiteEvent, SiteEvents
from mamcrawler.domain.records import AccountStats, Release, SnatchBucket
from mamcrawler.torrentfile import encode

GIB = 2**30


def account(**overrides) -> AccountStats:
    values = {"username": "reader", "uid": 7, "class_name": "Power User", "ratio": 3.0,
              "uploaded_bytes": 300 * GIB, "downloaded_bytes": 100 * GIB,
              "bonus_points": 20_000.0, "wedges": 0,
              "buckets": {"unsat": SnatchBucket("unsat", count=5, limit=100)}}
    values.update(overrides)
    return AccountStats(**values)


def torrent_bytes(release_id: str, size: int) -> bytes:
    """A real bencoded .torrent (single file) whose info hash depends on the id."""
    piece = 2**18
    pieces = max(1, -(-max(size, 1) // piece))
    info = {b"name": f"release-{release_id}.m4b".encode(), b"length": max(size, 1),
            b"piece length": piece, b"pieces": b"\0" * 20 * pieces}
    return encode({b"announce": b"http://127.0.0.1:1/announce", b"info": info})


@dataclass
class FakeTracker:
    stats: AccountStats = field(default_factory=account)
    releases: list[Release] = field(default_factory=list)
    events: tuple[SiteEvent, ...] = ()
    wedges_take: bool = True
    search_error: TrackerError | None = None
    download_error: TrackerError | None = None
    personal_fl: set[str] = field(default_factory=set)
    calls: list[tuple] = field(default_factory=list)

    def account_stats(self) -> AccountStats:
        self.calls.append(("account_stats",))
        return self.stats

    def search(self, query: SearchQuery) -> list[Release]:
        self.calls.append(("search", query.text))
        if self.search_error is not None:
            raise self.search_error
        words = query.text.casefold().split()
        return [self._as_seen(r) for r in self.releases
                if all(w in f"{r.title} {' '.join(r.authors)}".casefold() for w in words)]

    def release(self, torrent_id: str, title: str) -> Release | None:
        self.calls.append(("release", torrent_id))
        return next((self._as_seen(r) for r in self.releases if r.id == str(torrent_id)), None)

    def _as_seen(self, release: Release) -> Release:
        return replace(release, personal_freeleech=release.personal_freeleech
                       or release.id in self.personal_fl)

    def download_torrent(self, torrent_id, *, use_wedge: bool = False) -> bytes:
        self.calls.append(("download", str(torrent_id), use_wedge))
        if self.download_error is not None:
            raise self.download_error
        release = next(r for r in self.releases if r.id == str(torrent_id))
        if use_wedge:
            if self.stats.wedges < 1:
                raise TrackerError("no wedges left")
            self.stats = replace(self.stats, wedges=self.stats.wedges - 1)
            if self.wedges_take:
                self.personal_fl.add(release.id)
        return torrent_bytes(release.id, release.size_bytes)

    def buy_vip(self, weeks: int) -> PurchaseResult:
        raise AssertionError("acquisition never buys VIP")

    def buy_upload_credit(self, gb: int) -> PurchaseResult:
        raise AssertionError("acquisition never buys upload credit")

    def site_events(self) -> SiteEvents:
        self.calls.append(("site_events",))
        return SiteEvents(status="known", events=self.events)

    def grabs(self) -> list[tuple]:
        return [c for c in self.calls if c[0] == "download"]


@pytest.fixture
def fake_tracker() -> FakeTracker:
    return FakeTracker()
