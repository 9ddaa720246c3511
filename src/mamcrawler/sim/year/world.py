"""The simulated world of `mamcrawler sim year`: one account on a tracker, its catalogue
and swarms, a qBittorrent holding its torrents, and a clock that moves an hour at a time.

Everything random comes from one `random.Random(seed)` drawn in a fixed order, so a seed
gives the same year. The world knows nothing of any policy: the ports in `ports.py` let
the real services (or a baseline) act on it, and `advance` moves time: downloads progress,
seeding uploads by the swarm's demand (decaying with the release's age), points accrue per
seeding torrent (capped per torrent, total capped at 99,999), VIP runs out, qBittorrent
pauses torrents that reach a share limit and queues what its queue does not run, and the
tracker's hit-and-run and unsatisfied bookkeeping runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .catalogue import Book, Catalogue, SimRelease, build_catalogue
from .timeline import Timeline, build_timeline

GIB = 2**30
HOUR = timedelta(hours=1)
START = datetime(2026, 1, 5, tzinfo=UTC)
POINTS_CAP = 99_999
POINTS_PER_TORRENT_HOUR = 1.5  # the most one torrent earns an hour
UPLOAD_SHARE = 2.7e-4  # of a torrent's size uploaded per leecher per hour
QUEUE_LIMIT = 60  # qBittorrent runs at most this many un-forced seeds; the rest queue
SATISFIED_S = 72 * 3600
HNR_AFTER = timedelta(days=30)
UNSAT_LIMITS = {"user": 50, "power user": 100, "vip": 150}


@dataclass
class Account:
    class_name: str
    uploaded: float
    downloaded: float
    points: float
    vip_until: datetime | None
    wedges: int = 0

    def is_vip(self, now: datetime) -> bool:
        return self.vip_until is not None and self.vip_until > now

    @property
    def ratio(self) -> float:
        return self.uploaded / self.downloaded if self.downloaded else math.inf


@dataclass
class Snatch:
    """The tracker's record of one grab: what it cost and whether its duty was done."""

    release_id: str
    at: datetime
    seeded_s: int = 0
    paid_bytes: float = 0.0
    hit_and_run: bool = False

    @property
    def satisfied(self) -> bool:
        return self.seeded_s >= SATISFIED_S


@dataclass
class Held:
    """One torrent in qBittorrent."""

    hash: str
    release: SimRelease
    added: datetime
    raw: str = "downloading"  # downloading | seeding | paused | queued
    done: float = 0.0
    uploaded: float = 0.0
    seeded_s: int = 0
    completed: datetime | None = None
    forced: bool = False
    ratio_limit: float = -1.0

    @property
    def complete(self) -> bool:
        return self.done >= self.release.size


@dataclass
class Tally:
    """What the year did to the account, hour by hour, for the table."""

    lowest_ratio: float = math.inf
    floor_days: set[int] = field(default_factory=set)
    vip_lapse_days: set[int] = field(default_factory=set)
    points_lost: float = 0.0
    requests: dict[int, int] = field(default_factory=dict)
    hit_and_runs: int = 0
    vip_days: set[int] = field(default_factory=set)  # days the account was VIP at midnight


class World:
    def __init__(self, seed: int, days: int, *, start_ratio: float = 1.2,
                 points: float = 15_000, class_name: str = "VIP", vip_days: float = 20,
                 floor: float = 1.0, start: datetime = START) -> None:
        self.rng = random.Random(seed)
        self.start, self.now, self.days, self.floor = start, start, days, floor
        self.catalogue: Catalogue = build_catalogue(self.rng, start, days)
        self.timeline: Timeline = build_timeline(self.rng, start, days)
        downloaded = 100 * GIB
        self.account = Account(class_name, start_ratio * downloaded, downloaded, points,
                               start + timedelta(days=vip_days) if vip_days else None)
        self.held: dict[str, Held] = {}
        self.snatches: dict[str, Snatch] = {}
        self.tally = Tally()
        self.vip_week_price = 1_250
        self.credit_gb_price = 500
        self.acquired: dict[int, tuple[datetime, bool]] = {}  # book -> when, free
        self.daily: list[tuple[float, float]] = []  # ratio and points at each midnight
        self.qbit_prefs: dict = {"max_uploads": 20, "max_uploads_per_torrent": 4,
                                 "up_limit": 0}

    # Reading the world.

    @property
    def day(self) -> int:
        return (self.now - self.start) // timedelta(days=1)

    def releases_of(self, book: Book) -> list[SimRelease]:
        return [r for r in book.releases if r.listed <= self.now]

    def free_now(self, release: SimRelease) -> bool:
        """Would a download of this release cost no ratio now?"""
        return (release.site_free(self.now) or release.personal_fl
                or (release.vip_free and self.account.is_vip(self.now))
                or self.timeline.freeleech(self.now))

    def unsatisfied(self) -> int:
        return sum(1 for s in self.snatches.values() if not s.satisfied and not s.hit_and_run)

    def unsat_limit(self) -> int:
        return UNSAT_LIMITS.get(self.class_now().casefold(), 50)

    def class_now(self) -> str:
        if self.account.class_name == "VIP" and not self.account.is_vip(self.now):
            return "Power User"
        return self.account.class_name

    def count_request(self) -> None:
        self.tally.requests[self.day] = self.tally.requests.get(self.day, 0) + 1

    def vip_price_for(self, weeks: int) -> float:
        return self.vip_week_price * weeks

    # Moving time.

    def advance(self) -> None:
        """One hour passes."""
        now = self.now
        bonus = 2.0 if self.timeline.bonus(now) else 1.0
        earned = 0.0
        running = self._running()
        for held in self.held.values():
            if held.hash not in running:
                continue
            if not held.complete:
                self._download(held)
                continue
            up = held.release.size * UPLOAD_SHARE * held.release.leechers(now)
            held.uploaded += up
            self.account.uploaded += up
            held.seeded_s += 3600
            snatch = self.snatches.get(held.release.id)
            if snatch is not None:
                snatch.seeded_s += 3600
            earned += min(POINTS_PER_TORRENT_HOUR, 0.3 + 0.4 * held.release.size / GIB)
            if 0 <= held.ratio_limit <= held.uploaded / held.release.size:
                held.raw, held.forced = "paused", False
        self._earn(earned * bonus)
        self.now = now + HOUR
        self._tracker_bookkeeping()
        self._events_of_the_hour()
        self._sample()

    def _running(self) -> set[str]:
        """Hashes qBittorrent runs this hour: forced ones and un-forced ones up to its
        queue limit (oldest first); the rest of the complete ones wait as queued."""
        run, seeds = set(), 0
        for held in sorted(self.held.values(), key=lambda h: h.added):
            if held.raw == "paused":
                continue
            if held.forced or not held.complete:
                run.add(held.hash)
            elif seeds < QUEUE_LIMIT:
                run.add(held.hash)
                seeds += 1
                held.raw = "seeding"
            else:
                held.raw = "queued"
        return run

    def _download(self, held: Held) -> None:
        release = held.release
        speed = 0 if release.seeders <= 0 else GIB * 0.25 * min(4.0, 1 + release.seeders / 8)
        got = min(speed, release.size - held.done)
        held.done += got
        if not self.free_now(release):
            self.account.downloaded += got
            snatch = self.snatches.get(release.id)
            if snatch is not None:
                snatch.paid_bytes += got
        if held.complete:
            held.completed, held.raw = self.now + HOUR, "seeding"

    def _earn(self, points: float) -> None:
        total = self.account.points + points
        if total > POINTS_CAP:
            self.tally.points_lost += total - POINTS_CAP
            total = POINTS_CAP
        self.account.points = total

    def _tracker_bookkeeping(self) -> None:
        for snatch in self.snatches.values():
            if (not snatch.satisfied and not snatch.hit_and_run
                    and self.now - snatch.at >= HNR_AFTER):
                snatch.hit_and_run = True
                self.tally.hit_and_runs += 1

    def _events_of_the_hour(self) -> None:
        tl = self.timeline
        if self.now in tl.vip_price_changes:
            self.vip_week_price = tl.vip_price_changes[self.now]
        if self.now in tl.credit_price_changes:
            self.credit_gb_price = tl.credit_price_changes[self.now]
        if self.now in tl.qbit_restarts:
            # After a restart qBittorrent forgets force-starts: everything under the queue.
            for held in self.held.values():
                held.forced = False
        if self.now in tl.ratio_limit_days:
            # The person (or an old script) sets "pause at ratio 2" on some torrents.
            for held in sorted(self.held.values(), key=lambda h: h.added):
                if self.rng.random() < 0.3:
                    held.ratio_limit = 2.0

    def _sample(self) -> None:
        ratio = self.account.ratio
        if self.now.hour == 0:
            self.daily.append((ratio, self.account.points))
            if self.account.is_vip(self.now):
                self.tally.vip_days.add(self.day)
        self.tally.lowest_ratio = min(self.tally.lowest_ratio, ratio)
        if ratio < self.floor:
            self.tally.floor_days.add(self.day)
        if (self.now.hour == 0 and not self.account.is_vip(self.now)
                and self.account.points >= self.vip_price_for(4) + 1_000):
            self.tally.vip_lapse_days.add(self.day)

    # What grabbing does on the tracker's side (the ports call these).

    def snatch(self, release: SimRelease) -> None:
        self.snatches.setdefault(release.id, Snatch(release.id, self.now))

    def acquire(self, book: int, release: SimRelease) -> None:
        """The book reached the library through this release (free: it cost no ratio)."""
        snatch = self.snatches.get(release.id)
        free = snatch is None or snatch.paid_bytes == 0
        self.acquired.setdefault(book, (self.now, free))

    def ever_free(self, book: Book) -> bool:
        """Was some release of the book free at some time after it was wanted, to the end
        of the year (also after it reached the library, and whether or not the release
        could be downloaded at all)?"""
        return self._free_between(book, self.start + timedelta(days=self.days),
                                  obtainable_only=False)

    def free_while_wanted(self, book: Book) -> bool:
        """Could the book have been taken free while it was still wanted: from when it was
        wanted (or its release listed) until it reached the library (or the year ended),
        was some release that can be taken (it has seeders) and kept (it passes the
        integrity check) free — for good, by personal freeleech, VIP-free on a day the
        account was VIP, or in a freeleech window or site event?"""
        end = self.start + timedelta(days=self.days)
        got = self.acquired.get(book.index)
        return self._free_between(book, min(end, got[0]) if got else end,
                                  obtainable_only=True)

    def _free_between(self, book: Book, until: datetime, *, obtainable_only: bool) -> bool:
        for release in book.releases:
            if obtainable_only and (release.seeders <= 0 or release.fails_integrity):
                continue
            begin = max(book.wanted_at, release.listed)
            if begin >= until:
                continue
            if release.free_always or release.personal_fl:
                return True
            if release.vip_free and (not obtainable_only or self._vip_on_some_day(begin, until)):
                return True
            spans = list(self.timeline.freeleech_spans)
            spans += [release.free_window] if release.free_window else []
            if any(a < until and b > begin for a, b in spans):
                return True
        return False

    def _vip_on_some_day(self, begin: datetime, until: datetime) -> bool:
        first = (begin - self.start) // timedelta(days=1)
        last = (until - self.start) // timedelta(days=1)
        return any(d in self.tally.vip_days for d in range(first, last + 1))
