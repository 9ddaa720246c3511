"""What an acquisition run gathers before it decides: the library's copy of a wanted book,
the downloads in flight with what they may still cost, and the site's events."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.adapters.mam.models import SiteEvents
from mamcrawler.adapters.qbittorrent import TorrentClientError
from mamcrawler.config import Settings
from mamcrawler.domain.acquisition import InFlight
from mamcrawler.domain.freeness import AccountView, Freeness, SiteEvent, freeness
from mamcrawler.domain.quality import HeldEdition
from mamcrawler.domain.records import AccountStats, Release
from mamcrawler.domain.states import ACTIVE_DOWNLOADS
from mamcrawler.domain.text import book_key
from mamcrawler.store.models import Book, Download, TrackedTorrent, WantedBook

from . import library
from .ports import TorrentClient, Tracker

log = logging.getLogger("mamcrawler.acquisition")


def site_events(tracker: Tracker) -> tuple[SiteEvent, ...]:
    """The site's events now, each with its end (the client never raises for these)."""
    return domain_events(tracker.site_events())


def domain_events(events: SiteEvents) -> tuple[SiteEvent, ...]:
    """The tracker's running events as the decisions take them: kind and end."""
    return tuple(SiteEvent(e.kind, ends=e.ends) for e in events.events if e.active)


WEDGE_DISTRUST = timedelta(days=7)


def wedge_failed_recently(session: Session, now: datetime) -> bool:
    """True when a wedge grab of the last week did not verifiably take: wedges stay
    paused until then (the site may have changed how wedges work)."""
    rows = session.scalars(select(Download.release_info).where(
        Download.created_at >= now - WEDGE_DISTRUST, Download.release_source == "mam"))
    return any(((info or {}).get("cost") or {}).get("wedge_unverified") for info in rows)


def held_edition(session: Session, item: WantedBook) -> tuple[Book | None, HeldEdition | None]:
    """The library's copy of the wanted book, if it has one."""
    book = session.get(Book, item.book_id) if item.book_id else None
    if book is None:
        book_id = library.book_keys(session, filed_only=True).get(
            book_key(item.title, item.author))
        book = session.get(Book, book_id) if book_id else None
    if book is None:
        return None, None
    return book, HeldEdition(book.format, book.bitrate_kbps)


def in_flight(session: Session, torrents: TorrentClient, settings: Settings,
              stats: AccountStats, events: tuple[SiteEvent, ...],
              now: datetime) -> tuple[InFlight, ...]:
    """Downloads in progress with the bytes they still need and how soon (qBittorrent's
    view; the last stored one, with no speed, when it cannot be asked)."""
    rows = session.scalars(select(Download).where(Download.state.in_(ACTIVE_DOWNLOADS))).all()
    if not rows:
        return ()
    live = _live_torrents(torrents, settings)
    stored = {t.info_hash: t for t in session.scalars(select(TrackedTorrent).where(
        TrackedTorrent.info_hash.in_([r.info_hash for r in rows if r.info_hash])))}
    out = []
    for row in rows:
        size = max(row.size_bytes or 0, 0)
        remaining, eta = size, None
        if row.info_hash in live:
            t = live[row.info_hash]
            remaining = max(int(t.size * (1 - t.progress)), 0) if t.size else size
            eta = remaining / t.dlspeed if t.dlspeed > 0 else None
        elif row.info_hash in stored:
            remaining = max(int(size * (1 - stored[row.info_hash].progress)), 0)
        out.append(InFlight(row.edition, size, remaining,
                            recorded_freeness(row.release_info, stats, events, now), eta))
    return tuple(out)


def _live_torrents(torrents: TorrentClient, settings: Settings) -> dict:
    try:
        return {t.hash: t for t in torrents.torrents(settings.qb_category or None)}
    except TorrentClientError as exc:
        log.info("downloads in flight judged from the store: %s", exc)
        return {}


def recorded_freeness(info: dict | None, stats: AccountStats, events: tuple[SiteEvent, ...],
                      now: datetime) -> Freeness:
    """A recorded download's freeness as it stands now, from the flags kept at grab time.
    Without them (records from before they were kept) it may end at any time."""
    cost = (info or {}).get("cost")
    if not cost:
        return Freeness(True, "freeness not recorded: may end any time", True, None)
    release = Release(id="", title="", source=cost.get("source") or "mam",
                      free=bool(cost.get("free")),
                      personal_freeleech=bool(cost.get("personal_freeleech")),
                      vip_free=bool(cost.get("vip_free")))
    return freeness(release, AccountView(stats.class_name, stats.vip_until), events, now)
