"""What each dashboard page shows, gathered from the same services and routes the API uses.

Every function takes the request (for the runtime) and an open database session and returns
plain data for a template. Nothing here changes state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.api.routers import account as account_api
from mamcrawler.api.routers import compliance as compliance_api
from mamcrawler.api.routers.acquisition import download_out
from mamcrawler.api.routers.scheduler import RunOut, scheduler_view
from mamcrawler.config import DEFAULT_ENV_FILE, describe_sources
from mamcrawler.domain.states import DownloadState, WantedStatus
from mamcrawler.services import compliance
from mamcrawler.services.acquisition import RESEARCH_AFTER
from mamcrawler.services.vip_purchases import last_price_mismatch
from mamcrawler.store.models import (
    AccountDecision,
    Download,
    RatioGuardEvent,
    TaskRun,
    TrackedTorrent,
    WantedBook,
)

from .library_view import library_page

OPEN_WANTED = (WantedStatus.WANTED, WantedStatus.SEARCHING, WantedStatus.QUEUED,
               WantedStatus.DOWNLOADING)
IN_PROGRESS = (DownloadState.QUEUED, DownloadState.GRABBING, DownloadState.DOWNLOADING,
               DownloadState.VERIFYING, DownloadState.IMPORTING)


def _rt(request: Request):
    return request.app.state.runtime


def overview(request: Request, session: Session) -> dict:
    vip = account_api.vip_status(request, session).data
    ratio = compliance_api.ratio(request, session).data
    events = account_api.events(request, session).data
    jobs = scheduler_view(request)
    cap = _rt(request).policies.vip.points_cap
    days_to_cap = None
    if vip.points is not None and vip.points_per_day:
        days_to_cap = max(cap - vip.points, 0) / vip.points_per_day
    return {"vip": vip, "ratio": ratio, "events": events, "jobs": jobs.jobs,
            "autonomous": jobs.autonomous, "points_cap": cap, "days_to_cap": days_to_cap,
            "alerts": alerts(request, session, jobs.jobs, ratio)}


def alerts(request: Request, session: Session, jobs, ratio) -> list[str]:
    """What needs the person: warnings, stopped purchases, failing jobs and downloads."""
    found = list(_rt(request).settings.startup_warnings())
    if ratio.emergency_active:
        found.append(f"Ratio emergency: paid downloads are frozen ({ratio.status_reason}).")
    mismatch = last_price_mismatch(session)
    if mismatch is not None:
        found.append(f"VIP purchase price check: {mismatch.detail}")
    for job in jobs:
        if job.last_run and job.last_run.outcome == "failed":
            found.append(f"Job {job.name} failed last time: {job.last_run.error or ''}")
    failed = session.scalars(select(Download).where(
        Download.state.in_((DownloadState.FAILED, DownloadState.ABANDONED)),
        Download.updated_at > datetime.now(UTC) - timedelta(days=7))).all()
    for download in failed:
        found.append(f"Download {download.state}: {download.title} ({download.error or ''})")
    return found


def queue(request: Request, session: Session) -> dict:
    wanted = session.scalars(select(WantedBook).where(WantedBook.status.in_(OPEN_WANTED))
                             .order_by(WantedBook.priority.desc(), WantedBook.id)).all()
    downloads = [download_out(d) for d in session.scalars(
        select(Download).order_by(Download.id.desc()).limit(100))]
    hashes = [d.info_hash for d in downloads if d.info_hash]
    tracked = {t.info_hash: t for t in session.scalars(
        select(TrackedTorrent).where(TrackedTorrent.info_hash.in_(hashes)))} if hashes else {}
    live = _live_torrents(request)
    return {"wanted": [(w, _next_search(w)) for w in wanted],
            "active": [d for d in downloads if d.state in IN_PROGRESS],
            "downloads": downloads, "progress": _progress(downloads, tracked, live)}


def _next_search(item: WantedBook) -> str:
    if item.status != WantedStatus.WANTED:
        return item.status
    if item.last_searched_at is None:
        return "next acquisition run"
    due = item.last_searched_at + RESEARCH_AFTER
    return f"after {due:%Y-%m-%d %H:%M} UTC"


def _live_torrents(request: Request) -> dict:
    """The client's torrents now (speeds); empty when qBittorrent cannot be asked."""
    rt = _rt(request)
    if not rt.settings.qb_host:
        return {}
    try:
        from mamcrawler.services.torrent_watch import make_qbit_client

        client = rt.scheduler.ctx.clients.get(compliance.STATUS_CLIENT, lambda: make_qbit_client(
            rt.settings, timeout_s=compliance.STATUS_TIMEOUT_S))
        return {t.hash: t for t in client.torrents(rt.settings.qb_category or None)}
    except Exception:  # the page shows what the last watch stored instead
        return {}


def _progress(downloads, tracked: dict, live: dict) -> dict:
    rows = {}
    for d in downloads:
        now, stored = live.get(d.info_hash), tracked.get(d.info_hash)
        progress = now.progress if now else (stored.progress if stored else None)
        speed = now.dlspeed if now else None
        eta = None
        if now and now.dlspeed and now.size:
            eta = timedelta(seconds=int(now.size * (1 - now.progress) / now.dlspeed))
        rows[d.id] = {"progress": progress, "speed": speed, "eta": eta}
    return rows


def history(request: Request, session: Session) -> dict:
    from mamcrawler.store.models import AccountSnapshot

    since = datetime.now(UTC) - timedelta(days=90)
    snaps = session.scalars(select(AccountSnapshot).where(AccountSnapshot.taken_at >= since)
                            .order_by(AccountSnapshot.taken_at)).all()
    series = {"t": [int(s.taken_at.replace(tzinfo=UTC).timestamp()) for s in snaps],
              "ratio": [s.ratio for s in snaps],
              "uploaded": [round(s.uploaded_bytes / 2**30, 3) for s in snaps],
              "downloaded": [round(s.downloaded_bytes / 2**30, 3) for s in snaps],
              "points": [s.bonus_points for s in snaps]}
    guard = session.scalars(select(RatioGuardEvent).where(RatioGuardEvent.at >= since)
                            .order_by(RatioGuardEvent.at)).all()
    vip = session.scalars(select(AccountDecision).where(
        AccountDecision.at >= since, AccountDecision.kind == "vip_keeper",
        AccountDecision.action != "none").order_by(AccountDecision.at)).all()
    marks = ([{"t": _ts(e.at), "label": f"guard {e.from_state} → {e.to_state}",
               "kind": "guard"} for e in guard]
             + [{"t": _ts(d.at), "label": f"VIP {d.action} ({d.outcome})", "kind": "vip"}
                for d in vip])
    return {"series": series, "marks": sorted(marks, key=lambda m: m["t"]),
            "guard_events": guard, "vip_decisions": vip, "snapshots": len(snaps)}


def _ts(at: datetime) -> int:
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())


def jobs(request: Request, session: Session) -> dict:
    runs = [RunOut.model_validate(r) for r in session.scalars(
        select(TaskRun).order_by(TaskRun.id.desc()).limit(50))]
    return {"scheduler": scheduler_view(request), "runs": runs}


def settings(request: Request, session: Session) -> dict:
    rt = _rt(request)
    rows = describe_sources(rt.settings, DEFAULT_ENV_FILE)
    return {"rows": rows, "api_key_file": rt.api_key_file,
            "qbit": compliance_api.qbittorrent_status(request).data}


__all__ = ["history", "jobs", "library_page", "overview", "queue", "settings"]
