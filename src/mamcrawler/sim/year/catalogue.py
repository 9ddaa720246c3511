"""The simulated catalogue: the books the person will want over the year and their
releases on the tracker, each with its size, swarm, age and what makes it free.

About 500 books are wanted over a year (a few a week by hand, the rest found by
completion), in the order of their `wanted_at`. Most have releases listed long before;
some get one only during the year; a few never do. A release may be site freeleech
for good, free for VIP, personal freeleech, or freeleech for a window of days; the rest
cost ratio. A few fail the integrity check after download.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mamcrawler.domain.records import Release

GIB = 2**30
WANTED_PER_YEAR = 500
DEMAND_DECAY_DAYS = 30.0
ADJECTIVES = ("Amber", "Silent", "Broken", "Hollow", "Iron", "Last", "Northern", "Quiet",
              "Red", "Salt", "Sunken", "Winter", "Golden", "Glass", "Burning", "Distant",
              "Forgotten", "Lantern", "Crimson", "Wandering", "Pale", "Hidden", "Ashen",
              "Bright", "Cold")
NOUNS = ("Orchard", "Harbour", "Crown", "Road", "Tower", "River", "Garden", "Kingdom",
         "Bell", "Archive", "Forest", "Bridge", "Mirror", "Engine", "Lighthouse", "Island",
         "Citadel", "Compass", "Signal", "Meadow")
FIRST = ("Ivo", "Mara", "Tobin", "Elise", "Rowan", "Agnes", "Felix", "Nadia", "Otto",
         "Greta", "Hugo", "Lena", "Silas", "Vera", "Jonah")
LAST = ("Marsh", "Calder", "Voss", "Penhale", "Ashby", "Quill", "Darrow", "Fenwick",
        "Holloway", "Sterne", "Blackwood", "Lisle", "Morrow", "Tallis", "Wren")
ORDINALS = ("", " Returns", " Rising", " Reborn", " Unbound", " Remembered")


@dataclass(frozen=True)
class SimRelease:
    id: str
    book: int
    title: str
    author: str
    size: float
    seeders: int
    base_leechers: float
    burst_leechers: float
    listed: datetime
    free_always: bool = False
    vip_free: bool = False
    personal_fl: bool = False
    free_window: tuple[datetime, datetime] | None = None
    fails_integrity: bool = False
    format: str = "m4b"

    def site_free(self, now: datetime) -> bool:
        if self.free_always:
            return True
        return self.free_window is not None and self.free_window[0] <= now < self.free_window[1]

    def leechers(self, now: datetime) -> float:
        age_days = max(0.0, (now - self.listed).total_seconds() / 86400)
        return self.base_leechers + self.burst_leechers * math.exp(-age_days / DEMAND_DECAY_DAYS)

    def as_seen(self, now: datetime) -> Release:
        """The release as the tracker's search shows it now."""
        return Release(
            id=self.id, title=self.title, authors=(self.author,), format=self.format,
            size_bytes=int(self.size), file_count=1, seeders=self.seeders,
            leechers=round(self.leechers(now)), snatches=self.seeders * 3, added=self.listed,
            free=self.site_free(now), personal_freeleech=self.personal_fl,
            vip_free=self.vip_free, tags="64 kbps" if self.format == "m4b" else "128 kbps",
            language="ENG", category_name="Audiobooks - Fantasy", category_id=41)


@dataclass(frozen=True)
class Book:
    index: int
    title: str
    author: str
    wanted_at: datetime
    releases: tuple[SimRelease, ...] = field(default=())


@dataclass(frozen=True)
class Catalogue:
    books: tuple[Book, ...]

    def release(self, release_id: str) -> SimRelease | None:
        book = self.books[int(release_id) // 10 - 10_000] if release_id.isdigit() else None
        return next((r for r in book.releases if r.id == release_id), None) if book else None


def _title(i: int) -> str:
    adjective, rest = ADJECTIVES[i % len(ADJECTIVES)], i // len(ADJECTIVES)
    noun, again = NOUNS[rest % len(NOUNS)], rest // len(NOUNS)
    return f"The {adjective} {noun}{ORDINALS[again % len(ORDINALS)]}"


def _release(rng: random.Random, book: int, j: int, title: str, author: str,
             start: datetime, wanted_at: datetime, end: datetime) -> SimRelease:
    if rng.random() < 0.9:
        listed = start - timedelta(days=rng.uniform(1, 1500))
    else:  # new on the tracker during the year
        listed = wanted_at + timedelta(days=rng.uniform(0, 60))
    window = None
    kind = rng.random()
    if rng.random() < 0.2:
        opens = start + timedelta(hours=rng.randrange(max(1, (end - start).days * 24)))
        window = (opens, opens + timedelta(days=rng.uniform(3, 14)))
    size = GIB * min(4.0, max(0.1, rng.lognormvariate(math.log(0.6), 0.6)))
    return SimRelease(
        id=str((10_000 + book) * 10 + j), book=book, title=title, author=author, size=size,
        seeders=0 if rng.random() < 0.05 else rng.randint(1, 40),
        base_leechers=rng.uniform(0.0, 0.8), burst_leechers=rng.uniform(0, 10),
        listed=listed, free_always=kind < 0.15, vip_free=0.15 <= kind < 0.35,
        personal_fl=0.35 <= kind < 0.37, free_window=window,
        fails_integrity=rng.random() < 0.04, format="m4b" if rng.random() < 0.7 else "mp3")


def build_catalogue(rng: random.Random, start: datetime, days: int) -> Catalogue:
    count = max(1, round(WANTED_PER_YEAR * days / 365))
    end = start + timedelta(days=days)
    times = sorted(start + timedelta(hours=rng.randrange(days * 24)) for _ in range(count))
    books = []
    for i, wanted_at in enumerate(times):
        author = f"{FIRST[rng.randrange(len(FIRST))]} {LAST[rng.randrange(len(LAST))]}"
        title = _title(i)
        n = 0 if rng.random() < 0.07 else rng.choice((1, 1, 2, 3))
        releases = tuple(_release(rng, i, j, title, author, start, wanted_at, end)
                         for j in range(n))
        books.append(Book(i, title, author, wanted_at, releases))
    return Catalogue(tuple(books))
