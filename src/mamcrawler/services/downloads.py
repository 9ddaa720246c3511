"""Commands on a download, the only way a person changes one: cancel and retry.

The jobs move downloads along their lifecycle (acquisition grabs, download_watch verifies
and imports); a person may stop one that is not imported yet, or have the book of a failed
one searched again. Neither command touches qBittorrent: a torrent under its seeding duty
is never stopped or removed, so a cancelled download keeps seeding and is only no longer
imported. While a command runs it holds the locks of the jobs that move downloads (the
rows a run takes), so no run can overwrite the change halfway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.domain.release_choice import PAID, WEDGE
from mamcrawler.domain.states import (
    ACTIVE_DOWNLOADS,
    DownloadState,
    IllegalTransition,
    WantedStatus,
    move_download,
    move_wanted,
)
from mamcrawler.store import locks
from mamcrawler.store.db import session_scope
from mamcrawler.store.liveness import Owner
from mamcrawler.store.models import Download, WantedBook

log = logging.getLogger("mamcrawler.downloads")
JOBS_THAT_MOVE_DOWNLOADS = ("acquisition", "download_watch")
HOLD_SECONDS = 60  # a command that hangs frees the jobs after this
D, W = DownloadState, WantedStatus
WHY_NOT_CANCELLED = {
    D.IMPORTING: "it is being filed into the library right now",
    D.IMPORTED: "it is already imported",
    D.REMOVED: "its torrent is gone, so there is nothing left to import",
    D.CANCELLED: "it is already cancelled",
}


class DownloadNotFound(LookupError):
    """No download has this id."""


class DownloadCommandRefused(Exception):
    """The download's state (or a running job) does not allow the command now."""


@dataclass(frozen=True)
class CommandResult:
    download_id: int
    state: str
    wanted_id: int | None
    wanted_status: str | None
    message: str


def cancel(sessions: sessionmaker[Session], download_id: int, *, requeue: bool,
           now: datetime) -> CommandResult:
    """Stop importing a download that is not imported yet; its torrent is left as it is.

    Its wanted book becomes `wanted` again (searched at the next acquisition run) when
    `requeue`, else `cancelled` (declined). A wanted book that another download is getting,
    or that is already done, is left alone.
    """
    with _holding_jobs(sessions, now), session_scope(sessions) as session:
        download = _load(session, download_id)
        try:
            if download.state == D.CANCELLED:
                raise IllegalTransition("already cancelled")
            download.state = move_download(download.state, D.CANCELLED)
        except IllegalTransition:
            why = WHY_NOT_CANCELLED.get(D(download.state), f"it is {download.state}")
            raise DownloadCommandRefused(
                f"download {download_id} cannot be cancelled: {why}. Only a download that "
                "is not imported yet can be cancelled") from None
        download.next_retry_at = None
        wanted_note = _release_wanted(session, download, W.WANTED if requeue else W.CANCELLED)
        wanted = session.get(WantedBook, download.wanted_id) if download.wanted_id else None
        message = (f"download {download_id} cancelled: it will not be imported. Its torrent "
                   "stays in qBittorrent and keeps seeding; remove it there only once its "
                   f"seeding duty is met. {wanted_note}")
        log.info("%s", message)
        return CommandResult(download_id, download.state, download.wanted_id,
                             wanted.status if wanted else None, message)


def retry(sessions: sessionmaker[Session], download_id: int, *,
          now: datetime) -> CommandResult:
    """Have the book of a failed or abandoned download searched at the next acquisition
    run, without waiting for its retry time. The download stays in the history as it is."""
    with _holding_jobs(sessions, now), session_scope(sessions) as session:
        download = _load(session, download_id)
        if download.state not in (D.FAILED, D.ABANDONED):
            raise DownloadCommandRefused(
                f"download {download_id} is {download.state}: only a failed or abandoned "
                "download can be retried")
        wanted = session.get(WantedBook, download.wanted_id) if download.wanted_id else None
        if wanted is None:
            raise DownloadCommandRefused(
                f"download {download_id} has no wanted book to search for again; add the "
                "book to the wanted list instead")
        busy = _active_download(session, download)
        if busy is not None:
            raise DownloadCommandRefused(
                f"wanted book {wanted.id} is already being downloaded by download {busy}")
        if wanted.status == W.DONE:
            raise DownloadCommandRefused(
                f"wanted book {wanted.id} is done: it is in the library (book "
                f"{wanted.book_id}); nothing to retry")
        # No run is going (we hold the locks), so searching/queued/downloading are stale.
        wanted.status = move_wanted(wanted.status, W.WANTED)
        wanted.last_searched_at = None
        wanted.note = f"retry of download {download_id} asked for by hand"
        download.next_retry_at = None
        for waiting in session.scalars(select(Download).where(
                Download.wanted_id == wanted.id, Download.state == D.FAILED)):
            waiting.next_retry_at = None  # their retry waits would keep the book back
        message = (f"wanted book {wanted.id} is searched again at the next acquisition run; "
                   f"download {download_id} stays {download.state} in the history")
        log.info("%s", message)
        return CommandResult(download_id, download.state, wanted.id, wanted.status, message)


def _load(session: Session, download_id: int) -> Download:
    download = session.get(Download, download_id)
    if download is None:
        raise DownloadNotFound(f"download {download_id}")
    return download


def _active_download(session: Session, download: Download) -> int | None:
    """Another download in flight for the same wanted book, if any."""
    return session.scalar(select(Download.id).where(
        Download.wanted_id == download.wanted_id, Download.id != download.id,
        Download.state.in_(tuple(ACTIVE_DOWNLOADS))).limit(1))


def _release_wanted(session: Session, download: Download, target: WantedStatus) -> str:
    """Moves the cancelled download's wanted book to `target`; says what happened."""
    wanted = session.get(WantedBook, download.wanted_id) if download.wanted_id else None
    if wanted is None:
        return "It has no wanted book."
    busy = _active_download(session, download)
    if busy is not None:
        return f"Wanted book {wanted.id} stays {wanted.status}: download {busy} is getting it."
    if wanted.status == W.DONE:
        return f"Wanted book {wanted.id} stays done: it is already in the library."
    wanted.status = move_wanted(wanted.status, target)
    if target == W.WANTED:
        wanted.last_searched_at = None
        wanted.note = f"download {download.id} cancelled by hand; searched again"
        return (f"Wanted book {wanted.id} is wanted again and searched at the next "
                "acquisition run.")
    wanted.note = f"download {download.id} cancelled by hand; declined"
    return f"Wanted book {wanted.id} is cancelled (declined)."


@contextmanager
def _holding_jobs(sessions: sessionmaker[Session], now: datetime) -> Iterator[None]:
    """Holds the job locks of the jobs that move downloads; refuses when one is running.

    The locks name this process, so a command killed half-way frees them at once."""
    owner = Owner.current()
    holder = f"api command {locks.new_holder(owner)}"
    taken: list[str] = []
    try:
        for job in JOBS_THAT_MOVE_DOWNLOADS:
            if not locks.acquire(sessions, job, holder, owner, now, HOLD_SECONDS):
                running = locks.holder_of(sessions, job) or "a holder that just let go"
                raise DownloadCommandRefused(
                    f"the {job} job is running right now ({running}); try again when it "
                    "has finished")
            taken.append(job)
        yield
    finally:
        for job in taken:
            locks.release(sessions, job, holder)


def release_facts(download: Download) -> dict:
    """The facts of the release a download grabbed, as stored with it: size, format,
    bitrate, category, language, and what made it free (`freeleech`) with the reason."""
    info = download.release_info or {}
    cost = info.get("cost") or {}
    return {"size_bytes": download.size_bytes, "format": info.get("format"),
            "bitrate_kbps": info.get("bitrate_kbps"), "category": info.get("category"),
            "language": info.get("language"), "freeleech": freeleech_kind(download.edition, cost),
            "cost_reason": cost.get("reason")}


# How the recorded reason (domain/freeness.py) starts, and the kind of freeleech it names.
_REASON_KINDS = (("freeleech torrent", "torrent"), ("site-wide freeleech", "site_event"),
                 ("personal freeleech", "personal"), ("vip-free", "vip"))


def freeleech_kind(edition: str, cost: dict) -> str | None:
    """What made a grab free: torrent (a freeleech torrent), site_event, personal, vip, or
    wedge (one we spent); none for a paid grab; None when the grab recorded nothing."""
    if edition == WEDGE:
        return "wedge"
    if edition == PAID:
        return "none"
    if not cost:
        return None
    reason = str(cost.get("reason") or "").lower()
    for start, kind in _REASON_KINDS:
        if reason.startswith(start):
            return kind
    flags = (("free", "torrent"), ("personal_freeleech", "personal"), ("vip_free", "vip"))
    return next((kind for flag, kind in flags if cost.get(flag)), "site_event")
