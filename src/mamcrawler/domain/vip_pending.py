"""The VIP-pending list (R7): what becomes of a release refused only for the ratio. Pure.

Acquisition puts a release on the list when it is the right book but costs ratio the
account cannot spend. The daily account check walks the list: a release that turned free
(VIP freeleech, a site event, personal freeleech) or that the ratio can now afford is
handed back to acquisition at once (its wanted entry becomes due now, not after the daily
re-search wait); a book the person cancelled or that arrived another way leaves the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mamcrawler.domain.freeness import Freeness
from mamcrawler.domain.ratio_guard import GuardPolicy, GuardState, may_grab
from mamcrawler.domain.records import Release
from mamcrawler.domain.states import WantedStatus


class PendingStatus(StrEnum):
    PENDING = "pending"  # still waiting
    WANTED = "wanted"  # handed back to acquisition
    DROPPED = "dropped"  # the book is cancelled, downloaded or gone from the wanted list


class PendingAction(StrEnum):
    WAIT = "wait"
    WANT_NOW = "want_now"
    DROP = "drop"


ACTIVE_WANTED = frozenset({WantedStatus.WANTED, WantedStatus.SEARCHING, WantedStatus.QUEUED,
                           WantedStatus.DOWNLOADING})


@dataclass(frozen=True)
class PendingVerdict:
    action: PendingAction
    reason: str


def decide(release: Release | None, free: Freeness | None, wanted_status: str | None,
           guard: GuardState, upload_buffer_bytes: int, policy: GuardPolicy) -> PendingVerdict:
    """One pending release: `release` as the tracker shows it now (None: not found by this
    check), `free` its freeness for the account now, `wanted_status` its wanted entry's
    status (None: the entry is gone)."""
    if wanted_status is None or wanted_status == WantedStatus.CANCELLED:
        return PendingVerdict(PendingAction.DROP, "the book is no longer wanted")
    if wanted_status == WantedStatus.DONE:
        return PendingVerdict(PendingAction.DROP, "the book arrived another way")
    if wanted_status not in ACTIVE_WANTED:
        return PendingVerdict(PendingAction.WAIT, f"its wanted entry is {wanted_status}")
    if release is None:
        return PendingVerdict(PendingAction.WAIT, "not found on the tracker by this check")
    if free is not None and free.free:
        return PendingVerdict(PendingAction.WANT_NOW, f"turned free: {free.reason}")
    verdict = may_grab(release, is_free=False, state=guard,
                       account_upload_buffer_bytes=upload_buffer_bytes, policy=policy)
    if verdict.allowed:
        return PendingVerdict(PendingAction.WANT_NOW, f"the ratio allows it now: "
                              f"{verdict.reason}")
    return PendingVerdict(PendingAction.WAIT, f"still not free; {verdict.reason}")
