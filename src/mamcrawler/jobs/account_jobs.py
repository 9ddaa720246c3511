"""Jobs that talk to the tracker about the account."""

from __future__ import annotations

from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.services import account
from mamcrawler.services.tracker import TrackerNotConfigured, shared_client

from .context import JobContext, JobNotConfigured


def tracker_client(ctx: JobContext):
    try:
        return shared_client(ctx.clients, ctx.tracker, ctx.sessions)
    except TrackerNotConfigured as exc:
        raise JobNotConfigured(str(exc)) from None


def account_check(ctx: JobContext) -> JobReport | str:
    """The daily check. A tracker request that failed while the check went on (the
    VIP-pending walk, a purchase whose answer was lost) makes it `partial`; the tracker
    going down makes it `failed` with that error."""
    guard = ctx.guard()
    summary = account.account_check(guard.watch(tracker_client(ctx)), ctx.sessions,
                                    ctx.policies, ctx.clock)
    return guard.judged(guard.by_requests(summary, "tracker requests"))
