"""The two baselines the table compares with, acting on the same world through the same
ports: "grab everything" (every wanted book, the first result, no guard) and "free only"
(the common practice of the best-known MAM auto-grabber: free releases only, keep 10
unsatisfied slots free). Neither keeps VIP, spends points or looks after seeding: what
qBittorrent pauses or queues stays so. Both search each wanted book at most once a day
and try the next release after a failed integrity check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mamcrawler.adapters.mam import SearchQuery, TrackerError
from mamcrawler.adapters.qbittorrent import TorrentClientError

from .ours import ACQUISITION_EVERY_H
from .ports import SimQbit, SimTracker
from .world import World

UNSAT_SLOTS_KEPT = 10


class Baseline:
    def __init__(self, world: World, name: str, free_only: bool) -> None:
        self.world, self.name, self.free_only = world, name, free_only
        self.tracker, self.qbit = SimTracker(world), SimQbit(world)
        self.next_book = 0
        self.wanted: dict[int, datetime | None] = {}  # book -> last searched
        self.in_flight: dict[int, str] = {}  # book -> torrent hash
        self.tried: dict[int, set[str]] = {}

    def close(self) -> None:
        return None

    def hour(self, h: int) -> None:
        books = self.world.catalogue.books
        while self.next_book < len(books) and books[self.next_book].wanted_at <= self.world.now:
            self.wanted[self.next_book] = None
            self.next_book += 1
        self._finish()
        if h % ACQUISITION_EVERY_H == 0:
            try:
                self._acquire()
            except (TrackerError, TorrentClientError):
                pass

    def _finish(self) -> None:
        for book, info_hash in list(self.in_flight.items()):
            held = self.world.held[info_hash]
            if not held.complete:
                continue
            del self.in_flight[book]
            if held.release.fails_integrity:
                self.tried.setdefault(book, set()).add(held.release.id)
                self.wanted[book] = None
            else:
                self.world.acquire(book, held.release)

    def _acquire(self) -> None:
        w = self.world
        unsat = limit = 0
        if self.free_only:
            stats = self.tracker.account_stats()
            unsat, limit = stats.unsatisfied_count or 0, stats.unsatisfied_limit or 0
        for book, searched in list(self.wanted.items()):
            if searched is not None and w.now - searched < timedelta(days=1):
                continue
            if self.free_only and unsat >= limit - UNSAT_SLOTS_KEPT:
                return
            self.wanted[book] = w.now
            info = w.catalogue.books[book]
            found = self.tracker.search(SearchQuery(text=f"{info.title} {info.author}",
                                                    fields=("title", "author")))
            tried = self.tried.get(book, set())
            choices = [r for r in found if r.id not in tried and r.title == info.title
                       and r.seeders > 0]
            if self.free_only:
                vip = w.account.is_vip(w.now)
                event = w.timeline.freeleech(w.now)
                choices = [r for r in choices if r.free or r.personal_freeleech
                           or (r.vip_free and vip) or event]
            if not choices:
                continue
            data = self.tracker.download_torrent(choices[0].id)
            self.in_flight[book] = self.qbit.add_torrent(data)
            del self.wanted[book]
            unsat += 1
