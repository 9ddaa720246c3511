"""Prometheus metrics: counters this process keeps (job runs, tracker requests) and the
account and download state read from the database at each scrape."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

PROCESS = CollectorRegistry(auto_describe=True)

JOB_RUNS = Counter("mamcrawler_job_runs", "Job runs finished by this process, by outcome",
                   ["job", "outcome"], registry=PROCESS)
JOB_SECONDS = Histogram("mamcrawler_job_duration_seconds", "Duration of job runs", ["job"],
                        buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf")),
                        registry=PROCESS)
TRACKER_REQUESTS = Counter("mamcrawler_tracker_requests",
                           "Requests sent to the tracker, by endpoint and HTTP status "
                           "(error: no answer)", ["endpoint", "status"], registry=PROCESS)


def job_finished(job: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job, outcome).inc()
    JOB_SECONDS.labels(job).observe(max(seconds, 0.0))


def tracker_request(endpoint: str, status: str) -> None:
    TRACKER_REQUESTS.labels(endpoint, status).inc()


class StateCollector:
    """Gauges from the database, so every process of the install shows the same state."""

    def __init__(self, sessions: sessionmaker[Session], vip_policy) -> None:
        self.sessions, self.vip_policy = sessions, vip_policy

    def collect(self):
        from mamcrawler.services import account_reports, guard_store
        from mamcrawler.store.db import session_scope
        from mamcrawler.store.models import Download, TaskRun

        with session_scope(self.sessions) as session:
            snap = guard_store.latest_snapshot(session)
            guard = guard_store.current_guard(session)
            vip = account_reports.vip_status(session, self.vip_policy, datetime.now(UTC))
            downloads = session.execute(select(Download.state, func.count())
                                        .group_by(Download.state)).all()
            runs = session.execute(select(TaskRun.job_name, TaskRun.outcome, func.count())
                                   .group_by(TaskRun.job_name, TaskRun.outcome)).all()
        yield from _account(snap, vip)
        yield _gauge("mamcrawler_ratio_guard_frozen",
                     "1 while the ratio guard has paid downloads frozen", int(guard.frozen))
        family = GaugeMetricFamily("mamcrawler_downloads", "Downloads by state",
                                   labels=["state"])
        for state, count in downloads:
            family.add_metric([str(state)], count)
        yield family
        family = GaugeMetricFamily("mamcrawler_job_runs_recorded",
                                   "Job runs in the history (RETENTION_DAYS), by outcome",
                                   labels=["job", "outcome"])
        for job, outcome, count in runs:
            family.add_metric([job, str(outcome)], count)
        yield family


def _account(snap, vip):
    if snap is None:
        return
    values = {"mamcrawler_ratio": ("Account ratio (absent while infinite)", snap.ratio),
              "mamcrawler_bonus_points": ("Bonus points", snap.bonus_points),
              "mamcrawler_vip_days_left": ("Days of VIP left", vip.days_left),
              "mamcrawler_unsatisfied_torrents": ("Unsatisfied torrents",
                                                  snap.unsatisfied_count),
              "mamcrawler_unsatisfied_limit": ("Unsatisfied torrent limit",
                                               snap.unsatisfied_limit)}
    for name, (text, value) in values.items():
        if value is not None:
            yield _gauge(name, text, value)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def exposition(sessions: sessionmaker[Session], vip_policy) -> bytes:
    """The text format: this process's counters, then the state gauges."""
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(sessions, vip_policy))
    return generate_latest(PROCESS) + generate_latest(state)
