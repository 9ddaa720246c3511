"""Ratio guard and seeding status, qBittorrent status, stuck-torrent recovery (R4, R5, R20)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from mamcrawler.services import compliance

from ..deps import DbSession, PageParams, runtime
from ..envelope import Envelope, Page, ok

router = APIRouter(tags=["compliance"])


class SeedingAllocationOut(BaseModel):
    seeding: int
    downloading: int
    stalled: int
    paused: int
    other: int
    unsatisfied_count: int | None
    unsatisfied_limit: int | None
    unsat_margin: int
    remaining_capacity: int

    model_config = {"from_attributes": True}


class TransitionOut(BaseModel):
    from_state: str
    to_state: str
    ratio: float | None
    reason: str
    at: datetime

    model_config = {"from_attributes": True}


class RatioStatusOut(BaseModel):
    global_ratio: float | None
    emergency_active: bool
    paid_frozen: bool
    status: str
    status_reason: str
    floor: float
    recovery: float
    seeding_allocation: SeedingAllocationOut
    stalled_count: int
    estimated_recovery_hours: float | None
    upload_rate_bps: float | None
    upload_rate_source: str | None
    points_earned: float
    points_spent: float
    points_window_days: int
    last_updated: datetime | None
    last_transition: TransitionOut | None

    model_config = {"from_attributes": True}


class QbitStatusOut(BaseModel):
    configured: bool
    connected: bool
    url: str | None
    version: str | None
    category: str
    torrents_by_state: dict[str, int]
    download_speed: int | None
    upload_speed: int | None
    session_downloaded: int | None
    session_uploaded: int | None
    connection_status: str | None
    last_poll_ok: bool | None
    last_poll_at: datetime | None
    last_poll_error: str | None
    error: str | None

    model_config = {"from_attributes": True}


class RecoveryAttemptOut(BaseModel):
    id: int
    at: datetime
    info_hash: str
    name: str
    attempt: int
    action: str
    torrent_state: str
    raw_state: str | None
    reason: str
    outcome: str
    error: str | None

    model_config = {"from_attributes": True}


@router.get("/api/system/compliance/ratio", response_model=Envelope[RatioStatusOut],
            summary="Ratio guard, seeding allocation, recovery estimate, points flow")
def ratio(request: Request, session: DbSession):
    rt = runtime(request)
    status = compliance.ratio_status(session, rt.settings, rt.scheduler.ctx.clock(),
                                     rt.policies)
    return ok(RatioStatusOut.model_validate(status))


@router.get("/api/qbittorrent/status", response_model=Envelope[QbitStatusOut],
            summary="qBittorrent connection, version, speeds, totals, torrents by state")
def qbittorrent_status(request: Request):
    rt = runtime(request)
    status = compliance.qbittorrent_status(rt.settings, rt.sessions, rt.scheduler.ctx.clients)
    return ok(QbitStatusOut.model_validate(status))


@router.get("/api/qbittorrent/recovery", response_model=Envelope[Page[RecoveryAttemptOut]],
            summary="Recovery attempts on stalled or errored torrents, newest first")
def recovery_attempts(
    session: DbSession,
    page: PageParams,
    info_hash: Annotated[str | None, Query(min_length=40, max_length=64,
                                           pattern=r"^[0-9a-fA-F]+$")] = None,
):
    rows, total = compliance.recovery_attempts(session, page.limit, page.offset, info_hash)
    items = [RecoveryAttemptOut.model_validate(r) for r in rows]
    return ok(Page(items=items, total=total, limit=page.limit, offset=page.offset))
