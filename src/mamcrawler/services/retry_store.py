"""Failed grabs as the store keeps them (R10): retried after 1, 3 and 7 days, then
abandoned, and every failure tallied for good."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select

from mamcrawler.domain import retry
from mamcrawler.domain.states import DownloadState, WantedStatus
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, FailedAttempt, WantedBook

from . import notify

log = logging.getLogger("mamcrawler.acquisition")


def grab_failed(sessions, download_id: int, error: str, now: datetime) -> None:
    """Record a failed grab and when to try again, or abandon after the last try."""
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        before = session.scalar(select(func.count()).select_from(Download).where(
            Download.wanted_id == download.wanted_id, Download.id != download.id,
            Download.state.in_((DownloadState.FAILED, DownloadState.ABANDONED)),
            Download.integrity_state != "failed"))
        decision = retry.after_failure(before or 0, now)
        download.error, download.retries = error, decision.attempts
        item = session.get(WantedBook, download.wanted_id)
        session.add(FailedAttempt(download_id=download.id, title=download.title,
                                  author=download.author, release_id=download.release_id,
                                  stage="grab", reason=error, attempts=decision.attempts, at=now))
        if decision.abandoned:
            download.state, item.status = DownloadState.ABANDONED, WantedStatus.ABANDONED
        else:
            download.state, download.next_retry_at = DownloadState.FAILED, decision.retry_at
            item.status = WantedStatus.WANTED
        item.note = f"grab failed: {error}; {decision.reason}"
    log.warning("grab of download %s failed: %s (%s)", download_id, error, decision.reason)
    notify.download_failed(download.title, error, decision.abandoned, download_id)
