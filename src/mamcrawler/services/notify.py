"""Notices to the person (R23) through the `Notifier` port.

The places where things happen call `send(kind, title, body)` (or a helper below) in one
line. The notifier in use is the running job's (`using`, set by the job runner from its
JobContext), so services need no extra parameter. Switched-off kinds are dropped, the
same notice is not repeated within NOTIFY_REPEAT_MINUTES, and a notice that cannot be sent
is logged: it never stops the job that noticed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol

from mamcrawler.domain.notices import Notice, NoticeKind, parse_kinds, too_soon

log = logging.getLogger("mamcrawler.notify")


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


class NullNotifier:
    """No NOTIFY_URLS: every notice is dropped."""

    def send(self, notice: Notice) -> None:
        return None


class Gate:
    """Wraps a notifier with the per-kind switches and the repeat limit."""

    def __init__(self, inner: Notifier, off: frozenset[NoticeKind] = frozenset(),
                 repeat_after: timedelta = timedelta(hours=1),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.inner, self.off, self.repeat_after, self.clock = inner, off, repeat_after, clock
        self._last: dict[tuple[NoticeKind, str], datetime] = {}
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        if notice.kind in self.off:
            return
        now = self.clock()
        with self._lock:
            if too_soon(self._last.get((notice.kind, notice.key)), now, self.repeat_after):
                log.debug("notification %s held back: sent less than %s ago", notice.kind,
                          self.repeat_after)
                return
            self._last[(notice.kind, notice.key)] = now
        self.inner.send(notice)


def from_settings(settings) -> Notifier:
    """The Apprise notifier for NOTIFY_URLS behind the switches and the repeat limit."""
    urls = settings.notify_urls.get_secret_value() if settings.notify_urls else ""
    if not urls.strip():
        return NullNotifier()
    from mamcrawler.adapters.notify import AppriseSender, split_urls

    return Gate(AppriseSender(split_urls(urls)), parse_kinds(settings.notify_off),
                timedelta(minutes=settings.notify_repeat_minutes))


_current: ContextVar[Notifier | None] = ContextVar("mamcrawler_notifier", default=None)


@contextmanager
def using(notifier: Notifier) -> Iterator[Notifier]:
    """Notices sent in this block (this thread) go to `notifier`."""
    token = _current.set(notifier)
    try:
        yield notifier
    finally:
        _current.reset(token)


def send(kind: NoticeKind, title: str, body: str, key: str = "",
         notifier: Notifier | None = None) -> None:
    """Send a notice; never raises."""
    target = notifier or _current.get()
    if target is None:
        return
    try:
        target.send(Notice(kind, f"MAMcrawler: {title}", body, key))
    except Exception:  # a notice must never stop a job
        log.warning("notification %s could not be sent", kind, exc_info=True)


def guard_changed(to_state: str, reason: str) -> None:
    if to_state == "frozen":
        send(NoticeKind.RATIO_EMERGENCY, "ratio emergency",
             f"Paid downloads are frozen and every complete torrent seeds: {reason}")
    else:
        send(NoticeKind.RATIO_RECOVERED, "ratio recovered",
             f"The ratio guard thawed; paid downloads are allowed again: {reason}")


def vip_purchases(records) -> None:
    """One notice per VIP purchase the keeper made or tried (upload credit is routine)."""
    for record in records:
        if record.stops_buying:
            send(NoticeKind.VIP_PRICE_MISMATCH, "VIP purchase cost other than expected",
                 f"{record.detail}. All buying stops until you check the bonus store "
                 "prices and set VIP_PRICE_CONFIRMED_AT.")
        elif getattr(record.action, "kind", "") != "buy_vip":
            continue
        elif record.outcome == "done":
            send(NoticeKind.VIP_RENEWED, "VIP renewed", record.detail or "VIP was bought.")
        else:
            send(NoticeKind.VIP_RENEWAL_FAILED, "VIP renewal failed",
                 f"{record.outcome}: {record.detail}")


def download_failed(title: str, error: str, abandoned: bool, download_id: int) -> None:
    if abandoned:
        send(NoticeKind.DOWNLOAD_ABANDONED, f"download abandoned: {title}",
             f"Given up after the last try: {error}. Retry it on the dashboard's queue page.",
             key=str(download_id))
    else:
        send(NoticeKind.DOWNLOAD_FAILED, f"download failed: {title}", error,
             key=str(download_id))


def job_failed_twice(job: str, error: str | None, notifier: Notifier | None) -> None:
    send(NoticeKind.JOB_FAILED_TWICE, f"job {job} failed twice in a row",
         error or "see the job history", key=job, notifier=notifier)


def tracker_session_rejected(detail: str) -> None:
    send(NoticeKind.TRACKER_SESSION_REJECTED, "tracker session rejected", detail)
