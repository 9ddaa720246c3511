"""The `torrent_watch` job: qBittorrent, the ratio guard and seeding duties (R4, R5)."""

from __future__ import annotations

from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.services import torrent_watch
from mamcrawler.services.torrent_watch import NOT_CONFIGURED, WATCH_CLIENT, make_qbit_client
from mamcrawler.services.tracker import shared_client

from .context import JobContext, JobNotConfigured


def torrent_watch_job(ctx: JobContext) -> JobReport | str:
    """One watch cycle with the process's clients. The qBittorrent client keeps its
    incremental poll position between runs; after any failure it is dropped, so the next
    run starts with a full update (changes this run saw may not be stored). A failed
    account reading (the guard then keeps its state) makes the run `partial`."""
    settings = ctx.settings
    if not settings.qb_host:
        raise JobNotConfigured(NOT_CONFIGURED)
    client = ctx.clients.get(WATCH_CLIENT, lambda: make_qbit_client(settings))
    # The process's one tracker client: building one costs ~40 ms of TLS set-up.
    guard = ctx.guard()
    tracker = None if ctx.tracker is None else guard.watch(
        shared_client(ctx.clients, ctx.tracker, ctx.sessions))
    try:
        summary = torrent_watch.watch(client, ctx.sessions, settings, ctx.policies,
                                      ctx.clock(), tracker)
    except Exception:
        ctx.clients.drop(WATCH_CLIENT)
        raise
    if not guard.errors:
        return summary
    # qBittorrent's part was done (its failures raise): one of the two systems failed.
    return JobReport(summary, done=1, failed=1, unit="systems", failures=(guard.errors[0],))
