"""The one registry of scheduled jobs (R2). Names are what the CLI and API use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.services import backups, metadata_jobs, retention
from mamcrawler.store.db import session_scope

from . import account_jobs, acquisition_jobs, discovery_jobs, watch_jobs
from .context import JobContext

# A job returns its summary (it did its work) or a JobReport (items done and failed).
JobFunc = Callable[[JobContext], "str | JobReport"]


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    func: JobFunc
    max_runtime_s: int = 3600  # a lock older than this is treated as abandoned
    default_schedule: str = "0 0 * * *"  # used only when settings have no SCHEDULE_<NAME>


def _retention_cleanup(ctx: JobContext) -> str:
    with session_scope(ctx.sessions) as session:
        result = retention.cleanup(session, ctx.clock(), ctx.settings.retention_days)
    return result.summary()


JOBS: dict[str, JobSpec] = {}


def register(spec: JobSpec) -> JobSpec:
    JOBS[spec.name] = spec
    return spec


for _spec in (
    JobSpec("account_check", "read account stats, VIP keeper, rules/events, VIP-pending list",
            account_jobs.account_check),
    JobSpec("torrent_watch", "read torrent states, run the ratio guard, keep torrents under "
            "seeding duty seeding, recover stalled torrents", watch_jobs.torrent_watch_job,
            max_runtime_s=600),
    JobSpec("acquisition", "search wanted books, choose releases, queue grabs",
            acquisition_jobs.acquisition_job),
    JobSpec("download_watch", "verify and import completed downloads",
            acquisition_jobs.download_watch_job, max_runtime_s=1800),
    JobSpec("category_sync", "new releases in followed categories, top-10 discovery",
            discovery_jobs.category_sync_job),
    JobSpec("completion", "find gaps in followed series and authors",
            discovery_jobs.completion_job, max_runtime_s=4 * 3600),
    JobSpec("metadata_maintenance", "re-check books added in the last 13 days",
            metadata_jobs.maintenance_job),
    JobSpec("metadata_drift", "re-query sources for the whole library",
            metadata_jobs.drift_job, max_runtime_s=6 * 3600),
    JobSpec("retention_cleanup", "delete history past retention", _retention_cleanup),
    JobSpec("backup", "back up the SQLite database into BACKUP_DIR", backups.backup_job),
):
    register(_spec)


class UnknownJob(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown job {self.name!r}; known jobs: {', '.join(sorted(JOBS))}"


def get(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(name) from None
