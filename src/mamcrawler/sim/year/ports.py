"""The `Tracker` and `TorrentClient` ports over the simulated world, so the real services
act on it exactly as they act on the site and on qBittorrent.

Every tracker call is counted (requests per day) and fails as the site would while the
world has an outage (TrackerUnavailable) or an expired session (TrackerAuthError); a
grab beyond the unsatisfied limit is refused. Cookie rotations need nothing here: the
real client carries the new cookie on. qBittorrent is unreachable during a restart hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from mamcrawler.adapters.mam import SearchQuery, TrackerError
from mamcrawler.adapters.mam.errors import TrackerAuthError, TrackerUnavailable
from mamcrawler.adapters.mam.models import PurchaseResult, SiteEvent, SiteEvents
from mamcrawler.adapters.qbittorrent import TorrentClientUnavailable, normalise_state
from mamcrawler.domain.records import AccountStats, Release, SnatchBucket
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot, TransferInfo
from mamcrawler.torrentfile import encode
from mamcrawler.torrentfile import info_hash as hash_of

from .world import GIB, Held, World

RAW = {("downloading", False): "downloading", ("downloading", True): "forcedDL",
       ("seeding", False): "uploading", ("seeding", True): "forcedUP",
       ("paused", False): "pausedUP", ("queued", False): "queuedUP"}


def torrent_bytes(release_id: str, size: int) -> bytes:
    info = {b"name": f"release-{release_id}.m4b".encode(), b"length": max(size, 1),
            b"piece length": 2**22, b"pieces": b"\0" * 20}
    return encode({b"announce": b"http://127.0.0.1:1/announce", b"info": info})


class SimTracker:
    """The tracker as one account sees it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.wedged: set[str] = set()

    def _call(self) -> None:
        w = self.world
        w.count_request()
        if w.timeline.tracker_down(w.now):
            raise TrackerUnavailable("simulated outage: the tracker answered 503", status=503)
        if w.timeline.session_expired(w.now):
            raise TrackerAuthError("simulated session expiry")

    def account_stats(self) -> AccountStats:
        self._call()
        w, a = self.world, self.world.account
        unsat = SnatchBucket("unsat", count=w.unsatisfied(), limit=w.unsat_limit())
        return AccountStats(
            username="simulated", uid=1, class_name=w.class_now(),
            ratio=a.ratio if a.downloaded else None, uploaded_bytes=int(a.uploaded),
            downloaded_bytes=int(a.downloaded), bonus_points=round(a.points, 1),
            wedges=a.wedges, vip_until=a.vip_until if a.is_vip(w.now) else None,
            connectable=True, buckets={"unsat": unsat})

    def search(self, query: SearchQuery) -> list[Release]:
        self._call()
        w = self.world
        words = query.text.casefold().split()
        found = []
        for book in w.catalogue.books:
            if all(word in f"{book.title} {book.author}".casefold() for word in words):
                found += [self._seen(r) for r in w.releases_of(book)]
        return found

    def _seen(self, sim) -> Release:
        release = sim.as_seen(self.world.now)
        return replace(release, personal_freeleech=release.personal_freeleech
                       or release.id in self.wedged)

    def release(self, torrent_id: str, title: str) -> Release | None:
        self._call()
        sim = self.world.catalogue.release(str(torrent_id))
        return self._seen(sim) if sim is not None and sim.listed <= self.world.now else None

    def download_torrent(self, torrent_id: int | str, *, use_wedge: bool = False) -> bytes:
        self._call()
        w = self.world
        sim = w.catalogue.release(str(torrent_id))
        if sim is None or sim.listed > w.now:
            raise TrackerError(f"torrent {torrent_id} not found", status=404)
        if sim.id not in w.snatches and w.unsatisfied() >= w.unsat_limit():
            raise TrackerError("unsatisfied limit reached: no more downloads", status=403)
        if use_wedge:
            if w.account.wedges < 1:
                raise TrackerError("no wedges left")
            w.account.wedges -= 1
            self.wedged.add(sim.id)
        w.snatch(sim)
        return torrent_bytes(sim.id, int(sim.size))

    def buy_vip(self, weeks: int) -> PurchaseResult:
        self._call()
        w, a = self.world, self.world.account
        cost = w.vip_price_for(weeks)
        if a.points < cost:
            raise TrackerError("not enough bonus points")
        a.points -= cost
        base = a.vip_until if a.is_vip(w.now) else w.now
        a.vip_until, a.class_name = base + timedelta(weeks=weeks), "VIP"
        return PurchaseResult("VIP", weeks, a.points)

    def buy_upload_credit(self, gb: int) -> PurchaseResult:
        self._call()
        w, a = self.world, self.world.account
        cost = w.credit_gb_price * gb
        if a.points < cost:
            raise TrackerError("not enough bonus points")
        a.points -= cost
        a.uploaded += gb * GIB
        return PurchaseResult("upload", gb, a.points, int(a.uploaded), int(a.downloaded),
                              a.ratio)

    def site_events(self) -> SiteEvents:
        self._call()
        tl, now = self.world.timeline, self.world.now
        events = []
        for kind, spans in (("freeleech", tl.freeleech_spans), ("bonus", tl.bonus_spans)):
            span = tl.running_span(spans, now)
            if span is not None:
                events.append(SiteEvent(kind, True, ends=span[1], title=f"simulated {kind}"))
        return SiteEvents(status="known", events=tuple(events), fetched_at=now)


class SimQbit:
    """qBittorrent holding the world's torrents (one client, one category)."""

    url = "http://simulated-qbittorrent"

    def __init__(self, world: World, category: str = "mamcrawler") -> None:
        self.world, self.category = world, category

    def _check(self, name: str) -> None:
        if self.world.timeline.qbit_down(self.world.now):
            raise TorrentClientUnavailable(f"simulated restart: qBittorrent is down ({name})")

    def add_torrent(self, torrent_bytes: bytes, *, category: str | None = None,
                    tags: Iterable[str] = (), save_path: str | None = None,
                    paused: bool = False) -> str:
        self._check("add_torrent")
        w = self.world
        info_hash = hash_of(torrent_bytes)
        name = torrent_bytes.split(b"release-", 1)[1].split(b".m4b", 1)[0].decode()
        if info_hash not in w.held:
            w.held[info_hash] = Held(info_hash, w.catalogue.release(name), w.now,
                                     raw="paused" if paused else "downloading")
        return info_hash

    def snapshot(self, held: Held) -> TorrentSnapshot:
        raw = RAW.get((held.raw, held.forced), RAW[(held.raw, False)])
        if held.raw == "downloading" and held.release.seeders <= 0:
            raw = "stalledDL"
        if held.raw == "paused" and not held.complete:
            raw = "pausedDL"
        size = int(held.release.size)
        return TorrentSnapshot(
            hash=held.hash, name=held.release.title, state=normalise_state(raw), raw_state=raw,
            category=self.category, tags=("mamcrawler",), progress=min(1.0, held.done / size),
            size=size, downloaded=int(held.done), uploaded=int(held.uploaded),
            ratio=held.uploaded / size, seeding_time=held.seeded_s,
            completion_on=held.completed, added_on=held.added, save_path="/sim",
            content_path=f"/sim/{held.release.title}", forced=held.forced)

    def poll(self) -> ClientSnapshot:
        self._check("poll")
        torrents = tuple(self.snapshot(h) for h in self.world.held.values())
        return ClientSnapshot(self.world.now, torrents, TransferInfo(up_speed=1000), True,
                              frozenset(h.hash for h in torrents))

    def torrents(self, category: str | None = None) -> list[TorrentSnapshot]:
        self._check("torrents")
        return [self.snapshot(h) for h in self.world.held.values()]

    def _each(self, name: str, hashes) -> list[Held]:
        self._check(name)
        wanted = [hashes] if isinstance(hashes, str) else list(hashes)
        return [self.world.held[h] for h in wanted if h in self.world.held]

    def resume(self, hashes: str | Sequence[str]) -> None:
        for held in self._each("resume", hashes):
            if held.raw == "paused":
                held.raw = "seeding" if held.complete else "downloading"

    def force_start(self, hashes: str | Sequence[str], on: bool = True) -> None:
        for held in self._each("force_start", hashes):
            held.forced = on
            if on and held.raw in ("paused", "queued"):
                held.raw = "seeding" if held.complete else "downloading"

    def recheck(self, hashes: str | Sequence[str]) -> None:
        self._each("recheck", hashes)

    def reannounce(self, hashes: str | Sequence[str]) -> None:
        self._each("reannounce", hashes)

    def set_share_limits(self, hashes: str | Sequence[str], *, ratio_limit: float,
                         seeding_time_limit_min: int) -> None:
        for held in self._each("set_share_limits", hashes):
            held.ratio_limit = ratio_limit

    def preferences(self) -> dict[str, Any]:
        self._check("preferences")
        return dict(self.world.qbit_prefs)

    def set_preferences(self, **prefs: Any) -> None:
        self._check("set_preferences")
        self.world.qbit_prefs.update(prefs)
