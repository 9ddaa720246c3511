"""State of one simulated tracker: session, account, catalogue, events and test faults.

All mutation goes through one lock, so the ASGI handlers and tests calling these methods
directly from another thread see consistent state.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mamcrawler.sim.account import Account
from mamcrawler.sim.catalogue import (
    AUDIOBOOKS,
    CatalogueEntry,
    seed_catalogue,
)
from mamcrawler.sim.torrents import TorrentContent, build_torrent, directory_content

BANNER = "MAMcrawler tracker simulator"


@dataclass(frozen=True)
class SimConfig:
    """How to build a simulator. `mam_id` is the first valid session cookie."""

    mam_id: str
    announce_url: str = "http://127.0.0.1:6969/announce"
    seed: int = 1
    points_per_hour: float = 0.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)


@dataclass
class Fault:
    """An injected failure for the next `count` tracker requests matching `path`."""

    status: int | str  # HTTP status, or "html" for the login page
    count: int = 1
    retry_after: str | None = None
    path: str = ""


@dataclass
class Events:
    freeleech: dict = field(default_factory=lambda: {"active": False, "ends": None, "title": ""})
    bonus: dict = field(
        default_factory=lambda: {"active": False, "ends": None, "percent": 0, "title": ""})
    multiplier: dict = field(
        default_factory=lambda: {"active": False, "ends": None, "factor": 1.0, "title": ""})
    endpoint_enabled: bool = True


class TrackerSimulator:
    """Everything the simulated tracker knows; the ASGI app in tracker.py serves it."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._torrent_cache: dict[int, tuple[bytes, str]] = {}
        self.reset()

    def now(self) -> datetime:
        return self.config.clock()

    def reset(self) -> None:
        """Back to the seeded state: first cookie valid again, no faults, no events."""
        with self.lock:
            self.cookie = self.config.mam_id
            self.cookies_issued = 0
            self.account = Account(now=self.now(), points_per_hour=self.config.points_per_hour)
            self.catalogue: dict[int, CatalogueEntry] = {
                e.id: e for e in seed_catalogue(self.config.seed)
            }
            self.personal_fl: set[int] = set()
            self.events = Events()
            self.layout = "nested"
            self.malformed = False
            self.broken_every = 0
            self.faults: list[Fault] = []
            self.delays: list[dict] = []
            self.lose_purchase_answers = 0
            self.seedbox = {"allowed": True, "ip": None, "changed_at": None}
            self.purchases: list[dict] = []
            self.requests: dict[str, int] = {}
            self._torrent_cache = {k: v for k, v in self._torrent_cache.items()
                                   if k in self.catalogue}

    def set_session(self, value: str | None = None) -> str:
        """Make `value` (or a fresh random one) the only valid cookie, like a new session."""
        with self.lock:
            self.cookie = value or secrets.token_urlsafe(32)
            return self.cookie

    def rotate(self) -> str:
        """Issue the next cookie; from now on only it is accepted."""
        with self.lock:
            self.cookie = secrets.token_urlsafe(32)
            self.cookies_issued += 1
            return self.cookie

    def take_fault(self, path: str) -> Fault | None:
        """The next injected failure for `path`, consuming one use of it."""
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def take_delay(self, path: str) -> float:
        with self.lock:
            for delay in self.delays:
                if path.startswith(delay.get("path", "")):
                    delay["count"] -= 1
                    if delay["count"] <= 0:
                        self.delays.remove(delay)
                    return float(delay["seconds"])
            return 0.0

    def take_lost_answer(self) -> bool:
        with self.lock:
            if self.lose_purchase_answers > 0:
                self.lose_purchase_answers -= 1
                return True
            return False

    def count_request(self, path: str) -> None:
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1

    def add_entry(self, entry: CatalogueEntry) -> int:
        """Add (or replace) a catalogue entry; returns its id."""
        with self.lock:
            self.catalogue[entry.id] = entry
            self._torrent_cache.pop(entry.id, None)
            return entry.id

    def next_id(self) -> int:
        with self.lock:
            return max(self.catalogue) + 1

    def add_torrent_from_directory(
        self, path: str | Path, *, title: str, authors: tuple[str, ...] = (),
        narrators: tuple[str, ...] = (), series: tuple[tuple[str, str | None], ...] = (),
        category: int = 41, language: int = 1, filetype: str | None = None,
        free: bool = False, vip: bool = False, seeders: int = 10, leechers: int = 0,
        tags: str = "", description: str = "",
    ) -> int:
        """Register real files (a directory, or a single file) as a new torrent."""
        content = directory_content(Path(path))
        fmt = filetype or _guess_format(content)
        with self.lock:
            entry = CatalogueEntry(
                id=self.next_id(), title=title, authors=tuple(authors),
                narrators=tuple(narrators), series=tuple(series), category=category,
                main_category=AUDIOBOOKS, language=language, filetype=fmt, content=content,
                added=self.now().replace(microsecond=0), seeders=seeders, leechers=leechers,
                free=free, vip=vip, tags=tags, description=description,
            )
            return self.add_entry(entry)

    def entry(self, torrent_id: int) -> CatalogueEntry:
        with self.lock:
            return self.catalogue[torrent_id]

    def content(self, torrent_id: int) -> TorrentContent:
        return self.entry(torrent_id).content

    def content_for(self, torrent_id: int) -> dict[str, bytes]:
        """The bytes of each file, keyed by path relative to a client's save directory."""
        return self.content(torrent_id).content()

    def write_content(self, torrent_id: int, directory: str | Path) -> Path:
        """Write the torrent's files under `directory` so a client can seed them."""
        return self.content(torrent_id).write_to(Path(directory))

    def torrent(self, torrent_id: int) -> tuple[bytes, str]:
        """The .torrent bytes and hex info hash for `torrent_id` (cached)."""
        with self.lock:
            cached = self._torrent_cache.get(torrent_id)
            entry = self.catalogue[torrent_id]
        if cached is None:
            cached = build_torrent(
                entry.content, self.config.announce_url,
                created=int(entry.added.timestamp()),
                comment=f"{BANNER}: torrent {torrent_id} (not MyAnonamouse)",
            )
            with self.lock:
                self._torrent_cache[torrent_id] = cached
        return cached

    def info_hash(self, torrent_id: int) -> str:
        return self.torrent(torrent_id)[1]

    def record_purchase(self, kind: str, amount: object) -> None:
        with self.lock:
            self.purchases.append({"type": kind, "amount": amount,
                                   "at": self.now().isoformat()})

    def events_reply(self) -> dict:
        """The machine-readable event status (format documented in tracker.py)."""
        now = self.now()
        with self.lock:
            reply: dict = {"simulator": BANNER, "updated": _text(now)}
            for kind in ("freeleech", "bonus", "multiplier"):
                event = dict(getattr(self.events, kind))
                ends = event.get("ends")
                event["active"] = bool(event.get("active")) and (ends is None or ends > now)
                event["ends"] = _text(ends)
                reply[kind] = event
            return reply

    def snapshot(self) -> dict:
        """Everything a test may want to assert on, as JSON-ready data."""
        now = self.now()
        with self.lock:
            account = self.account
            return {
                "simulator": BANNER,
                "mam_id": self.cookie,
                "cookies_issued": self.cookies_issued,
                "account": account.stats(now, layout="nested", with_buckets=True)
                | {"points_exact": account.current_points(now), "base_class": account.base_class,
                   "vip_until_actual": _text(account.vip_until)},
                "events": self.events_reply(),
                "layout": self.layout,
                "malformed": self.malformed,
                "purchases": list(self.purchases),
                "personal_freeleech": sorted(self.personal_fl),
                "requests": dict(self.requests),
                "catalogue_size": len(self.catalogue),
                "pending_faults": len(self.faults),
            }


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _guess_format(content: TorrentContent) -> str:
    for ext in ("m4b", "m4a", "mp3", "flac", "opus", "ogg"):
        if any(path.lower().endswith("." + ext) for path, _ in content.files):
            return ext
    return "other"
