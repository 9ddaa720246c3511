"""Jobs that get books: acquisition (search, choose, grab) and download_watch (verify, file)."""

from __future__ import annotations

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.prowlarr import ProwlarrClient
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.services import acquisition, download_watch
from mamcrawler.services.torrent_watch import NOT_CONFIGURED, make_qbit_client

from .account_jobs import tracker_client
from .context import JobContext, JobNotConfigured

COMMAND_CLIENT = "qbittorrent.commands"


def qbit_commands(ctx: JobContext):
    """The process's qBittorrent client for commands (adds); JobNotConfigured without QB_HOST."""
    if not ctx.settings.qb_host:
        raise JobNotConfigured(NOT_CONFIGURED)
    return ctx.clients.get(COMMAND_CLIENT, lambda: make_qbit_client(ctx.settings))


def prowlarr_client(ctx: JobContext) -> ProwlarrClient | None:
    settings = ctx.settings
    if not settings.prowlarr_url:
        return None
    key = settings.prowlarr_api_key.get_secret_value() if settings.prowlarr_api_key else ""
    return ctx.clients.get("prowlarr", lambda: ProwlarrClient(settings.prowlarr_url, key))


def acquisition_job(ctx: JobContext) -> JobReport | str:
    """Failed searches and grabs make the run `partial`; the tracker or qBittorrent going
    down makes it `failed` with that error, and the books not searched yet wait."""
    guard = ctx.guard()
    ports = acquisition.Ports(tracker=guard.watch(tracker_client(ctx)),
                              torrents=guard.watch(qbit_commands(ctx)),
                              prowlarr=prowlarr_client(ctx))
    return guard.judged(acquisition.run(ports, ctx.sessions, ctx.settings,
                                        ctx.policies.acquisition, ctx.clock(), stop=guard))


def abs_client(ctx: JobContext) -> AbsClient | None:
    settings = ctx.settings
    if not settings.abs_url:
        return None
    token = settings.abs_token.get_secret_value() if settings.abs_token else ""
    return ctx.clients.get("audiobookshelf", lambda: AbsClient(settings.abs_url, token))


def download_watch_job(ctx: JobContext) -> JobReport | str:
    """Downloads that could not be checked or filed make the run `partial`; a stopping
    process ends it after the download it is on."""
    guard = ctx.guard()
    try:
        report = download_watch.run(qbit_commands(ctx), ctx.sessions, ctx.settings,
                                    ctx.clock(), abs_client(ctx), ctx.policies.integrity,
                                    stop=guard)
    except download_watch.DownloadWatchNotConfigured as exc:
        raise JobNotConfigured(str(exc)) from None
    return guard.judged(report.result())
