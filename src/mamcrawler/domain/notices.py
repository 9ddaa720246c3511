"""What the service tells the person unasked (R23): the kinds of notice, and when a notice
repeats too soon to be sent again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class NoticeKind(StrEnum):
    RATIO_EMERGENCY = "ratio_emergency"  # the ratio guard froze paid downloads
    RATIO_RECOVERED = "ratio_recovered"  # ... and thawed again
    VIP_RENEWED = "vip_renewed"
    VIP_RENEWAL_FAILED = "vip_renewal_failed"
    VIP_PRICE_MISMATCH = "vip_price_mismatch"  # a purchase cost other than expected: buying stops
    DOWNLOAD_FAILED = "download_failed"
    DOWNLOAD_ABANDONED = "download_abandoned"
    INTEGRITY_FAILED = "integrity_failed"
    PATH_MISSING = "path_missing"  # a completed download is not where its mapped path says
    JOB_FAILED_TWICE = "job_failed_twice"
    TRACKER_SESSION_REJECTED = "tracker_session_rejected"  # a new mam_id is needed


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    title: str
    body: str
    key: str = ""  # what it is about (a job, a download): repeats are counted per kind and key


def parse_kinds(text: str) -> frozenset[NoticeKind]:
    """A comma- or space-separated list of kinds; ValueError naming an unknown one."""
    kinds = set()
    for word in text.replace(",", " ").split():
        try:
            kinds.add(NoticeKind(word.strip().lower()))
        except ValueError:
            known = ", ".join(k.value for k in NoticeKind)
            raise ValueError(f"unknown notification kind {word!r}; kinds are {known}") from None
    return frozenset(kinds)


def too_soon(last_sent: datetime | None, now: datetime, repeat_after: timedelta) -> bool:
    """The same notice (kind and key) sent again within `repeat_after` is held back."""
    return last_sent is not None and now - last_sent < repeat_after
