"""Jobs that talk to the tracker about the account."""

from __future__ import annotations

from mamcrawler.services import account
from mamcrawler.services.tracker import TrackerNotConfigured, shared_client

from .context import JobContext, JobNotConfigured


def tracker_client(ctx: JobContext):
    try:
        return shared_client(ctx.clients, ctx.tracker, ctx.sessions)
    except TrackerNotConfigured as exc:
        raise JobNotConfigured(str(exc)) from None


def account_check(ctx: JobContext) -> str:
    return account.account_check(tracker_client(ctx), ctx.sessions, ctx.policies, ctx.clock)
