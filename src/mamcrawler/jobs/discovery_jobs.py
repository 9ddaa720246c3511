"""Jobs that find books to want: completion (gaps in followed series and authors) and
category_sync (new releases in followed categories, top-10 discovery)."""

from __future__ import annotations

from mamcrawler.adapters.metadata import AudnexusSource, HttpOptions
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.adapters.metadata.hardcover import HardcoverSource
from mamcrawler.adapters.metadata.hardcover_catalog import HardcoverCatalog
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.services import completion, discovery

from .account_jobs import tracker_client
from .context import JobContext

CATALOG_CLIENT = "audible.catalog"
HARDCOVER_CLIENT = "hardcover.catalog"
ONLY = "completion.only"  # ctx.options key: [(SubjectKind, name), …] to check just those


def audible_catalog(ctx: JobContext) -> AudibleCatalog | None:
    """The process's Audible catalog client; None in demo mode, which asks no public
    service (the demo's books exist only in the simulator)."""
    settings = ctx.settings
    if settings.is_demo:
        return None

    def build() -> AudibleCatalog:
        options = HttpOptions(timeout_s=settings.metadata_timeout_s)
        audnexus = AudnexusSource(settings.audnexus_url, settings.audible_catalog_url,
                                  region=settings.audible_region, options=options)
        return AudibleCatalog(settings.audible_catalog_url, audnexus=audnexus, options=options)

    return ctx.clients.get(CATALOG_CLIENT, build)


def hardcover_catalog(ctx: JobContext) -> HardcoverCatalog | None:
    """Hardcover's series and author lists, with HARDCOVER_TOKEN; None without one and in
    demo mode."""
    settings = ctx.settings
    token = settings.hardcover_token.get_secret_value() if settings.hardcover_token else ""
    if settings.is_demo or not token.strip():
        return None

    def build() -> HardcoverCatalog:
        options = HttpOptions(timeout_s=settings.metadata_timeout_s)
        return HardcoverCatalog(HardcoverSource(token, settings.hardcover_url,
                                                options=options))

    return ctx.clients.get(HARDCOVER_CLIENT, build)


def completion_job(ctx: JobContext) -> JobReport | str:
    """A tracker failure ends the run (see services.completion): `failed` with that error,
    the subjects not reached wait; a stopping process ends it after the current one."""
    guard = ctx.guard()
    ports = completion.CompletionPorts(tracker=guard.watch(tracker_client(ctx)),
                                       catalog=audible_catalog(ctx),
                                       hardcover=hardcover_catalog(ctx))
    only = ctx.options.get(ONLY) or ()
    report = completion.run(ports, ctx.sessions, ctx.policies.completion, ctx.clock(),
                            ctx.progress, only=only, stop=guard)  # type: ignore[arg-type]
    error = guard.errors[-1] if report.waiting and guard.errors else None
    return guard.judged(JobReport(report.summary(), done=report.checked, error=error,
                                  unit="followed series and authors"))


def category_sync_job(ctx: JobContext) -> JobReport | str:
    """A tracker failure ends the run with what was found so far: `failed` with it."""
    guard = ctx.guard()
    report = discovery.run(guard.watch(tracker_client(ctx)), ctx.sessions,
                           ctx.policies.completion, ctx.clock(), stop=guard)
    error = guard.errors[-1] if guard.errors else None
    return guard.judged(JobReport(report.summary(), done=report.new_releases + report.top10,
                                  error=error, unit="releases"))
