"""The acquisition job (R7-R10): wanted books → search → choose → grab, within the rate.

Every grab passes the pure gates: the release choice (which calls the ratio guard's
`may_grab` for anything paid), the rate's free and paid budgets, and the seeding-duty
capacity. A failed grab is retried after 1, 3 and 7 days, then abandoned and tallied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamcrawler.adapters.mam import MamClient, TrackerError
from mamcrawler.adapters.prowlarr import ProwlarrClient, ProwlarrError
from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientError
from mamcrawler.adapters.qbittorrent.errors import TorrentAlreadyPresent
from mamcrawler.config import Settings
from mamcrawler.domain import rate, retry
from mamcrawler.domain.matching import BookTarget, grade_rank
from mamcrawler.domain.quality import HeldEdition
from mamcrawler.domain.records import AccountStats, Release
from mamcrawler.domain.release_choice import (
    DUPLICATE,
    PAID,
    Candidate,
    Choice,
    ChoiceContext,
    ChoicePolicy,
    candidates_as_json,
    choose,
)
from mamcrawler.domain.text import book_key
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, Download, FailedAttempt, VipPending, WantedBook
from mamcrawler.torrentfile import BencodeError

from . import guard_store, rules
from .search import SearchRequest, search

log = logging.getLogger("mamcrawler.acquisition")
ACTIVE = ("grabbing", "downloading", "verifying", "importing")
RESEARCH_AFTER = timedelta(hours=24)  # a book with no acceptable release is searched daily
GRAB_ERRORS = (TrackerError, ProwlarrError, TorrentClientError, BencodeError)


@dataclass
class Budget:
    free: int
    paid: int
    upload_buffer: int
    reason: str
    grabbed: list[str] = field(default_factory=list)


@dataclass
class Paths:
    """The outside systems one run uses."""

    tracker: MamClient
    qbit: QbitClient
    prowlarr: ProwlarrClient | None = None


def run(paths: Paths, sessions, settings: Settings, now: datetime) -> str:
    """One acquisition run; returns a one-line summary."""
    stats = paths.tracker.account_stats()
    with session_scope(sessions) as session:
        guard_store.record_snapshot(session, stats, now, upload_rate_bps=None)
        session.flush()
        budget = plan_budget(session, settings, stats)
        due = due_wanted(session, now, settings.acquisition_max_searches)
    searched = 0
    for wanted_id in due:
        if budget.free <= 0 and budget.paid <= 0:
            break
        searched += 1
        acquire_one(paths, sessions, settings, stats, budget, wanted_id, now)
    return (f"{searched} searched, {len(budget.grabbed)} grabbed"
            f"{': ' + '; '.join(budget.grabbed) if budget.grabbed else ''}; {budget.reason}")


def plan_budget(session: Session, settings: Settings, stats: AccountStats) -> Budget:
    """This run's free and paid grab budgets (R6), net of downloads already active."""
    guard = guard_store.current_guard(session)
    snapshot = rules.latest(session)
    capacity = guard_store.seeding_capacity(session, settings)
    active = dict(session.execute(select(Download.edition, func.count()).where(
        Download.state.in_(ACTIVE)).group_by(Download.edition)).all())
    slots = rate.slots(
        rate.RatePolicy(base_slots=settings.grab_slots, paid_slots=settings.paid_grab_slots),
        freeleech_event=bool(snapshot and snapshot.freeleech_active),
        bonus_event=bool(snapshot and snapshot.bonus_active),
        guard_frozen=guard.frozen, seeding_capacity=capacity)
    in_flight_paid = session.scalar(select(func.coalesce(func.sum(Download.size_bytes), 0))
                                    .where(Download.state.in_(ACTIVE), Download.edition == PAID))
    buffer = (guard_store.upload_buffer(session, settings) or 0) - int(in_flight_paid or 0)
    free = max(0, slots.free - active.get("free", 0) - active.get("wedge", 0))
    paid = max(0, slots.paid - active.get(PAID, 0))
    return Budget(free, paid, buffer, f"slots: {slots.reason}; {sum(active.values())} active")


def due_wanted(session: Session, now: datetime, limit: int) -> list[int]:
    """Wanted books to search now, most important first, at most `limit`.

    Skipped: books with an active download, books searched within a day without result,
    and books whose last failed grab waits for its retry time.
    """
    busy = select(Download.wanted_id).where(Download.state.in_(ACTIVE),
                                            Download.wanted_id.is_not(None))
    waiting = select(Download.wanted_id).where(Download.state == "failed",
                                               Download.next_retry_at > now,
                                               Download.wanted_id.is_not(None))
    stale = now - RESEARCH_AFTER
    rows = session.scalars(
        select(WantedBook.id).where(
            WantedBook.status == "wanted", WantedBook.id.not_in(busy),
            WantedBook.id.not_in(waiting),
            (WantedBook.last_searched_at.is_(None)) | (WantedBook.last_searched_at < stale))
        .order_by(WantedBook.priority.desc(), WantedBook.id).limit(limit))
    return list(rows)


def target_of(item: WantedBook) -> BookTarget:
    return BookTarget(
        title=item.title, authors=tuple(filter(None, [item.author])),
        narrators=tuple(filter(None, [item.narrator])), series_name=item.series,
        series_position=item.position, expected_duration_s=item.expected_duration_seconds)


def held_edition(session: Session, item: WantedBook) -> tuple[Book | None, HeldEdition | None]:
    """The library's copy of the wanted book, if it has one."""
    book = session.get(Book, item.book_id) if item.book_id else None
    if book is None:
        key = book_key(item.title, item.author)
        for candidate in session.scalars(select(Book).where(Book.library_path.is_not(None))):
            first = candidate.authors[0].author.name if candidate.authors else None
            if book_key(candidate.title, first) == key:
                book = candidate
                break
    if book is None:
        return None, None
    return book, HeldEdition(book.format, book.bitrate_kbps)


def failed_release_ids(session: Session, wanted_id: int) -> set[str]:
    """Releases of this book that already failed integrity: never chosen again."""
    rows = session.scalars(select(Download.release_id).where(
        Download.wanted_id == wanted_id, Download.integrity_state == "failed"))
    return {r for r in rows if r}


def acquire_one(paths: Paths, sessions, settings: Settings, stats: AccountStats,
                budget: Budget, wanted_id: int, now: datetime) -> None:
    with session_scope(sessions) as session:
        item = session.get(WantedBook, wanted_id)
        item.status, item.last_searched_at = "searching", now
        request, target = SearchRequest(item.title, item.author), target_of(item)
    found = search(request, paths.tracker, paths.prowlarr)
    with session_scope(sessions) as session:
        item = session.get(WantedBook, wanted_id)
        item.status = "wanted"
        if found.all_failed:
            item.last_searched_at = None  # not a real search: try again next run
            item.note = "search failed: " + "; ".join(f"{k}: {v}" for k, v in found.errors.items())
            return
        excluded = failed_release_ids(session, wanted_id)
        releases = [r for r in found.releases if r.id not in excluded]
        book, held = held_edition(session, item)
        snapshot = rules.latest(session)
        ctx = ChoiceContext(
            account_class=stats.class_name,
            site_freeleech=bool(snapshot and snapshot.freeleech_active),
            wedges_available=stats.wedges if settings.use_wedges else 0,
            guard_state=guard_store.current_guard(session),
            guard_policy=guard_store.guard_policy(settings),
            upload_buffer_bytes=budget.upload_buffer, library_copy=held, now=now)
        choice = choose(target, releases, ctx, ChoicePolicy(wedges_enabled=settings.use_wedges))
        item.note = choice.reason
        if choice.chosen is None:
            _no_choice(session, item, choice, held)
            return
        if not _fits_budget(choice.chosen, budget, item):
            return
        download = _record_download(session, item, choice, book)
        session.flush()
        download_id, release = download.id, choice.chosen.release
    _grab(paths, sessions, settings, budget, download_id, release, choice.use_wedge, now)


def _no_choice(session: Session, item: WantedBook, choice: Choice,
               held: HeldEdition | None) -> None:
    """Nothing to grab: done when the library copy is as good, VIP-pending when only the
    ratio stood in the way, otherwise wait for the next search."""
    if held is not None and any(_right_book(c) and DUPLICATE in c.rejection_codes
                                for c in choice.candidates):
        item.status = "done"
        return
    refused = _paid_refused(choice)
    if refused is not None:
        exists = session.scalar(select(VipPending).where(
            VipPending.release_id == refused.release_id))
        if exists is None:
            session.add(VipPending(release_id=refused.release_id, title=item.title,
                                   author=item.author, size_bytes=refused.release.size_bytes,
                                   reason="; ".join(refused.rejections), wanted_id=item.id))


def _right_book(candidate: Candidate) -> bool:
    return grade_rank(candidate.match.grade) <= grade_rank("medium")


def _paid_refused(choice: Choice) -> Candidate | None:
    """The best candidate that is the right book and was refused only for costing ratio."""
    for candidate in choice.candidates:
        if (candidate.edition == PAID and _right_book(candidate) and not candidate.accepted
                and len(candidate.rejections) == 1):
            return candidate
    return None


def _fits_budget(chosen: Candidate, budget: Budget, item: WantedBook) -> bool:
    if chosen.edition == PAID:
        if budget.paid <= 0:
            item.note = f"{item.note}; waiting: no paid slot this run ({budget.reason})"
            return False
        budget.paid -= 1
        budget.upload_buffer -= chosen.release.size_bytes
        return True
    if budget.free <= 0:
        item.note = f"{item.note}; waiting: no free slot this run ({budget.reason})"
        return False
    budget.free -= 1
    return True


def _record_download(session: Session, item: WantedBook, choice: Choice,
                     book: Book | None) -> Download:
    chosen, release = choice.chosen, choice.chosen.release
    download = Download(
        wanted_id=item.id, title=item.title, author=item.author, release_id=release.id,
        release_title=release.title, release_source=release.source, state="grabbing",
        reason=choice.reason, quality_score=chosen.quality_score,
        score_breakdown=dict(chosen.score_breakdown), candidates=candidates_as_json(choice),
        edition=chosen.edition, size_bytes=release.size_bytes,
        release_info=release_info(release, chosen),
        replaces_book_id=book.id if book is not None and chosen.replaces_library_copy else None)
    session.add(download)
    item.status = "queued"
    return download


def release_info(release: Release, chosen: Candidate) -> dict:
    """What filing needs later: people, series, format (JSON-ready)."""
    return {"authors": list(release.authors), "narrators": list(release.narrators),
            "series": [{"name": s.name, "position": s.position} for s in release.series],
            "format": chosen.format, "bitrate_kbps": chosen.bitrate_kbps,
            "category": release.category_name, "language": release.language}


def _grab(paths: Paths, sessions, settings: Settings, budget: Budget, download_id: int,
          release: Release, use_wedge: bool, now: datetime) -> None:
    try:
        if release.source == "mam":
            data = paths.tracker.download_torrent(release.id, use_wedge=use_wedge)
        elif paths.prowlarr is not None and release.download_url:
            data = paths.prowlarr.download_torrent(release.download_url)
        else:
            raise ProwlarrError(f"no way to download {release.source} release {release.id}")
        try:
            info_hash = paths.qbit.add_torrent(
                data, category=settings.qb_category or None, tags=("mamcrawler",),
                save_path=str(settings.download_dir) if settings.download_dir else None)
        except TorrentAlreadyPresent as exc:
            info_hash = exc.info_hash
    except GRAB_ERRORS as exc:
        _grab_failed(sessions, download_id, f"{type(exc).__name__}: {exc}", now)
        return
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.info_hash, download.state = info_hash, "downloading"
        session.get(WantedBook, download.wanted_id).status = "downloading"
    budget.grabbed.append(f"{release.title} ({'wedge' if use_wedge else release.source})")
    log.info("grabbed %s (%s)", release.title, info_hash)


def _grab_failed(sessions, download_id: int, error: str, now: datetime) -> None:
    """Record a failed grab and when to try again (R10), or abandon after the last try."""
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        before = session.scalar(select(func.count()).select_from(Download).where(
            Download.wanted_id == download.wanted_id, Download.id != download.id,
            Download.state.in_(("failed", "abandoned")), Download.integrity_state != "failed"))
        decision = retry.after_failure(before or 0, now)
        download.error, download.retries = error, decision.attempts
        item = session.get(WantedBook, download.wanted_id)
        session.add(FailedAttempt(download_id=download.id, title=download.title,
                                  author=download.author, release_id=download.release_id,
                                  stage="grab", reason=error, attempts=decision.attempts, at=now))
        if decision.abandoned:
            download.state, item.status = "abandoned", "abandoned"
        else:
            download.state, download.next_retry_at = "failed", decision.retry_at
            item.status = "wanted"
        item.note = f"grab failed: {error}; {decision.reason}"
    log.warning("grab of download %s failed: %s (%s)", download_id, error, decision.reason)
