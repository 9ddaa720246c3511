"""The acquisition job (R6-R10): wanted books → search → plan → grab → read back.

The decisions are `domain.acquisition.plan_run`'s; this module gathers what it needs
(account, events, guard, downloads in flight, search results), carries out its actions
in order and checks what happened. A wedge grab is read back from the tracker: only a
torrent the tracker now shows as personal freeleech is recorded `wedge`; otherwise it is
recorded `paid`, wedges pause, and the remaining books are planned again with that cost
counted. A failed grab is retried after 1, 3 and 7 days, then abandoned and tallied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.prowlarr import ProwlarrClient, ProwlarrError
from mamcrawler.adapters.qbittorrent import TorrentClientError
from mamcrawler.adapters.qbittorrent.errors import TorrentAlreadyPresent
from mamcrawler.config import Settings
from mamcrawler.domain.acquisition import (
    AcquisitionPolicies,
    AddVipPending,
    BookSearch,
    Done,
    Grab,
    InFlight,
    SearchFailed,
    Situation,
    Wait,
    budget,
    run_plans,
)
from mamcrawler.domain.freeness import AccountView, Freeness, SiteEvent
from mamcrawler.domain.matching import BookTarget
from mamcrawler.domain.records import AccountStats, Release
from mamcrawler.domain.release_choice import PAID, WEDGE, candidates_as_json
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.domain.states import ACTIVE_DOWNLOADS, DownloadState, WantedStatus
from mamcrawler.domain.vip_pending import PendingStatus
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, VipPending, WantedBook
from mamcrawler.torrentfile import BencodeError

from . import guard_store, retry_store
from .acquisition_inputs import held_edition, in_flight, site_events, wedge_failed_recently
from .ports import TorrentClient, Tracker
from .reports import never
from .search import SearchRequest, search

log = logging.getLogger("mamcrawler.acquisition")
ACTIVE = tuple(ACTIVE_DOWNLOADS)
RESEARCH_AFTER = timedelta(hours=24)  # a book with no acceptable release is searched daily
GRAB_ERRORS = (TrackerError, ProwlarrError, TorrentClientError, BencodeError)


@dataclass
class Ports:
    """The outside systems one run uses."""

    tracker: Tracker
    torrents: TorrentClient
    prowlarr: ProwlarrClient | None = None


@dataclass
class RunReport:
    searched: int = 0
    grabbed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self, reason: str) -> str:
        text = f"{self.searched} searched, {len(self.grabbed)} grabbed"
        if self.grabbed:
            text += ": " + "; ".join(self.grabbed)
        if self.failed:
            text += f"; {len(self.failed)} grab(s) failed: " + "; ".join(self.failed)
        return "; ".join([text, *self.notes, reason])


def run(ports: Ports, sessions, settings: Settings, policies: AcquisitionPolicies,
        now: datetime, stop: Callable[[], bool] = never) -> JobReport:
    """One acquisition run; `stop` is asked before each search (True: search no more,
    carry out what the books searched so far need)."""
    stats = ports.tracker.account_stats()
    events = site_events(ports.tracker)
    with session_scope(sessions) as session:
        guard_store.record_snapshot(session, stats, now, upload_rate_bps=None)
        situation = _situation(session, ports.torrents, settings, stats, events, now)
        start = budget(situation, policies)
        due = [] if start.free + start.paid == 0 else due_wanted(
            session, now, settings.acquisition_max_searches)
    report = RunReport()
    books = []
    for wanted_id in due:
        if stop():
            break
        books.append(_search(ports, sessions, wanted_id, now, report))
    run_plans(books, situation, policies,
              lambda action: _carry_out(ports, sessions, settings, action, now, report))
    failures = [f"{b.target.title}: {b.search_error}" for b in books if b.search_error]
    failures += report.failed
    return JobReport(report.summary(start.reason), done=max(0, len(books) - len(failures)),
                     failed=len(failures), unit="books", failures=tuple(failures[:3]))


def _situation(session: Session, torrents: TorrentClient, settings: Settings,
               stats: AccountStats, events: tuple[SiteEvent, ...], now: datetime) -> Situation:
    return Situation(
        account=AccountView(stats.class_name, stats.vip_until),
        uploaded_bytes=stats.uploaded_bytes, downloaded_bytes=stats.downloaded_bytes,
        wedges=stats.wedges, unsatisfied_count=stats.unsatisfied_count,
        unsatisfied_limit=stats.unsatisfied_limit, guard=guard_store.current_guard(session),
        now=now, events=events,
        in_flight=in_flight(session, torrents, settings, stats, events, now),
        wedges_trusted=not wedge_failed_recently(session, now))


def due_wanted(session: Session, now: datetime, limit: int) -> list[int]:
    """Wanted books to search now, most important first, at most `limit`.

    Skipped: books with an active download, books searched within a day without result,
    and books whose last failed grab waits for its retry time.
    """
    busy = select(Download.wanted_id).where(Download.state.in_(ACTIVE),
                                            Download.wanted_id.is_not(None))
    waiting = select(Download.wanted_id).where(Download.state == DownloadState.FAILED,
                                               Download.next_retry_at > now,
                                               Download.wanted_id.is_not(None))
    stale = now - RESEARCH_AFTER
    rows = session.scalars(
        select(WantedBook.id).where(
            WantedBook.status == WantedStatus.WANTED, WantedBook.id.not_in(busy),
            WantedBook.id.not_in(waiting),
            (WantedBook.last_searched_at.is_(None)) | (WantedBook.last_searched_at < stale))
        .order_by(WantedBook.priority.desc(), WantedBook.id).limit(limit))
    return list(rows)


def target_of(item: WantedBook) -> BookTarget:
    return BookTarget(
        title=item.title, authors=tuple(filter(None, [item.author])),
        narrators=tuple(filter(None, [item.narrator])), series_name=item.series,
        series_position=item.position, expected_duration_s=item.expected_duration_seconds)


def failed_release_ids(session: Session, wanted_id: int) -> set[str]:
    """Releases of this book that failed integrity or that the person cancelled: never
    chosen again for it."""
    rows = session.scalars(select(Download.release_id).where(
        Download.wanted_id == wanted_id,
        (Download.integrity_state == "failed") | (Download.state == DownloadState.CANCELLED)))
    return {r for r in rows if r}


def _search(ports: Ports, sessions, wanted_id: int, now: datetime,
            report: RunReport) -> BookSearch:
    with session_scope(sessions) as session:
        item = session.get(WantedBook, wanted_id)
        item.status, item.last_searched_at = WantedStatus.SEARCHING, now
        request, target = SearchRequest(item.title, item.author), target_of(item)
    found = search(request, ports.tracker, ports.prowlarr)
    report.searched += 1
    with session_scope(sessions) as session:
        item = session.get(WantedBook, wanted_id)
        if item is None:  # deleted while it was searched: nothing to plan for it
            return BookSearch(wanted_id, target)
        if item.status == WantedStatus.SEARCHING:  # a person may have cancelled it meanwhile
            item.status = WantedStatus.WANTED
        if found.all_failed:
            error = "; ".join(f"{k}: {v}" for k, v in found.errors.items())
            return BookSearch(wanted_id, target, search_error=error)
        excluded = failed_release_ids(session, wanted_id)
        releases = tuple(r for r in found.releases if r.id not in excluded)
        _, held = held_edition(session, item)
        return BookSearch(wanted_id, target, releases, held, wanted_at=item.created_at)


def _carry_out(ports: Ports, sessions, settings: Settings, action, now: datetime,
               report: RunReport) -> InFlight | None:
    """Do one planned action; returns the grab as it really is when it differs from the
    plan (the caller plans the rest again), else None."""
    with session_scope(sessions) as session:
        item = session.get(WantedBook, action.wanted_id)
        if item is None or item.status != WantedStatus.WANTED:
            # Cancelled, declined or deleted since it was searched: the plan is stale for
            # it, and nothing is grabbed or noted for a book nobody wants any more.
            log.info("wanted book %s is no longer wanted (%s): nothing done for it",
                     action.wanted_id, "deleted" if item is None else item.status)
            return None
        if isinstance(action, SearchFailed):
            item.last_searched_at = None  # not a real search: try again next run
            item.note = action.reason
            return None
        item.note = action.reason
        if isinstance(action, Wait):
            return None
        if isinstance(action, Done):
            item.status = WantedStatus.DONE
            return None
        if isinstance(action, AddVipPending):
            _add_vip_pending(session, item, action)
            return None
        assert isinstance(action, Grab)
        book, _ = held_edition(session, item)
        download = _record_download(session, item, action, book)
        session.flush()
        download_id = download.id
    return _grab(ports, sessions, settings, download_id, action, now, report)


def _add_vip_pending(session: Session, item: WantedBook, action: AddVipPending) -> None:
    exists = session.scalar(select(VipPending).where(
        VipPending.release_id == action.release.id))
    if exists is None:
        session.add(VipPending(release_id=action.release.id, title=item.title,
                               author=item.author, size_bytes=action.release.size_bytes,
                               reason=action.pending_reason, wanted_id=item.id))
    elif exists.status != PendingStatus.PENDING:
        # Handed back (or dropped) earlier and refused for the ratio again: on the list
        # again, or the daily walk (which reads only pending ones) would never see it.
        exists.status, exists.reason, exists.wanted_id = (
            PendingStatus.PENDING, action.pending_reason, item.id)


def _record_download(session: Session, item: WantedBook, grab: Grab, book) -> Download:
    chosen, release = grab.candidate, grab.release
    download = Download(
        wanted_id=item.id, title=item.title, author=item.author, release_id=release.id,
        release_title=release.title, release_source=release.source,
        state=DownloadState.GRABBING, reason=grab.reason, quality_score=chosen.quality_score,
        score_breakdown=dict(chosen.score_breakdown),
        candidates=candidates_as_json(grab.choice), edition=chosen.edition,
        size_bytes=release.size_bytes, release_info=release_info(release, chosen),
        replaces_book_id=book.id if book is not None and chosen.replaces_library_copy else None)
    session.add(download)
    item.status = WantedStatus.QUEUED
    return download


def release_info(release: Release, chosen) -> dict:
    """What filing needs later (people, series, format) and what its cost rests on
    (the tracker's free flags, so a later run can tell whether it may still cost ratio)."""
    free: Freeness | None = chosen.freeness
    return {"authors": list(release.authors), "narrators": list(release.narrators),
            "series": [{"name": s.name, "position": s.position} for s in release.series],
            "format": chosen.format, "bitrate_kbps": chosen.bitrate_kbps,
            "category": release.category_name, "language": release.language,
            "cost": {"source": release.source, "free": release.free,
                     "personal_freeleech": release.personal_freeleech,
                     "vip_free": release.vip_free,
                     "reason": free.reason if free else None}}


def _grab(ports: Ports, sessions, settings: Settings, download_id: int, grab: Grab,
          now: datetime, report: RunReport) -> InFlight | None:
    release, use_wedge = grab.release, grab.use_wedge
    try:
        if release.source == "mam":
            data = ports.tracker.download_torrent(release.id, use_wedge=use_wedge)
        elif ports.prowlarr is not None and release.download_url:
            data = ports.prowlarr.download_torrent(release.download_url)
        else:
            raise ProwlarrError(f"no way to download {release.source} release {release.id}")
        try:
            info_hash = ports.torrents.add_torrent(
                data, category=settings.qb_category or None, tags=("mamcrawler",),
                save_path=settings.qb_paths.to_remote_or_none(settings.download_dir))
        except TorrentAlreadyPresent as exc:
            info_hash = exc.info_hash
    except GRAB_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"
        retry_store.grab_failed(sessions, download_id, error, now)
        report.failed.append(f"{release.title}: {error}")
        # A wedge whose answer was lost may have been spent: stop trusting wedges this run.
        return _unverified(release) if use_wedge else None
    edition, note = grab.candidate.edition, ""
    if use_wedge:
        edition, note = _verify_wedge(ports.tracker, release)
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.info_hash, download.state = info_hash, DownloadState.DOWNLOADING
        download.edition = edition
        if use_wedge:  # from now on its cost rests on what the read-back showed
            info = dict(download.release_info or {})
            info["cost"] = {**info.get("cost", {}), "personal_freeleech": edition == WEDGE,
                            "wedge_unverified": edition != WEDGE}
            download.release_info = info
        if note:
            download.reason = f"{download.reason}; {note}"
        session.get(WantedBook, download.wanted_id).status = WantedStatus.DOWNLOADING
    report.grabbed.append(f"{release.title} ({edition if use_wedge else release.source})")
    log.info("grabbed %s (%s)%s", release.title, info_hash, f"; {note}" if note else "")
    if use_wedge and edition != WEDGE:
        report.notes.append(f"{release.title}: {note}")
        return _unverified(release)
    return None


def _verify_wedge(tracker: Tracker, release: Release) -> tuple[str, str]:
    """Read the torrent back: did the wedge make it personal freeleech?"""
    try:
        now_seen = tracker.release(release.id, release.title)
    except TrackerError as exc:
        return PAID, f"wedge not verified (tracker read failed: {exc}); counted paid"
    if now_seen is not None and now_seen.personal_freeleech:
        return WEDGE, "wedge verified: the tracker shows it personal freeleech"
    seen = "not found" if now_seen is None else "not personal freeleech"
    log.warning("wedge on %s did not verifiably take (%s): counted paid", release.title, seen)
    return PAID, f"wedge not verified (the tracker shows it {seen}); counted paid"


def _unverified(release: Release) -> InFlight:
    paid = Freeness(False, "wedge not verified: counted paid")
    return InFlight(PAID, release.size_bytes, release.size_bytes, paid)


__all__: Sequence[str] = ("Ports", "run", "due_wanted", "target_of", "release_info")
