"""What the ratio and qBittorrent status endpoints show (R4, R5, R20).

Read-only views over the store (filled by `torrent_watch`), plus a live look at
qBittorrent for the client status. Neither ever raises for a missing or unreachable
system: it says so in the answer instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.qbittorrent import TorrentClientError, base_url
from mamcrawler.config import Settings, parse_schedule
from mamcrawler.domain import ratio_guard, seeding
from mamcrawler.domain.ratio_guard import GuardPolicy, PointsSnapshot, ratio_text
from mamcrawler.domain.seeding import SeedingPolicy
from mamcrawler.policies import Policies
from mamcrawler.services import guard_store, torrent_watch
from mamcrawler.services.clients import ClientCache, JobNotConfigured
from mamcrawler.services.torrent_store import GONE
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    AccountSnapshot,
    AppState,
    TorrentRecoveryAttempt,
    TrackedTorrent,
)

POINTS_WINDOW = timedelta(days=30)
RATE_WINDOW = timedelta(hours=24)  # upload rate from snapshot deltas over this long
MIN_RATE_SPAN = timedelta(hours=1)  # shorter spans are too lumpy (the tracker books in bursts)
STATUS_CLIENT = "qbittorrent.status"
STATUS_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SeedingAllocation:
    seeding: int
    downloading: int
    stalled: int
    paused: int
    other: int
    unsatisfied_count: int | None
    unsatisfied_limit: int | None
    unsat_margin: int
    remaining_capacity: int


@dataclass(frozen=True)
class TransitionView:
    from_state: str
    to_state: str
    ratio: float | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class RatioStatus:
    global_ratio: float | None  # None: infinite, or never read (see last_updated)
    emergency_active: bool
    paid_frozen: bool
    status: str  # normal, warning, emergency
    status_reason: str
    floor: float
    recovery: float
    seeding_allocation: SeedingAllocation
    stalled_count: int
    estimated_recovery_hours: float | None  # 0 when at or above recovery; None = unknown
    upload_rate_bps: float | None
    upload_rate_source: str | None  # "tracker" (snapshot deltas) or "qbittorrent"
    points_earned: float
    points_spent: float
    points_window_days: int
    last_updated: datetime | None
    last_transition: TransitionView | None


def stale_after(settings: Settings) -> timedelta:
    """Account data older than this is stale: three watch intervals (an hour for crontabs)."""
    kind, value = parse_schedule(settings.schedule_torrent_watch)
    return timedelta(seconds=3 * value) if kind == "every" else timedelta(hours=1)


def ratio_status(
    session: Session, settings: Settings, now: datetime, policies: Policies
) -> RatioStatus:
    """The guard, the account and the seeding duties as of the last readings, judged by
    the runtime's `policies`."""
    policy = policies.guard
    guard = guard_store.current_guard(session)
    snapshot = guard_store.latest_snapshot(session)
    allocation = seeding_allocation(session, snapshot, policies.seeding)
    rate, source = upload_rate(session, now, snapshot)
    flow = points_flow(session, now)
    status, why = _status(settings, policy, guard.frozen, snapshot, now)
    event = guard_store.last_transition(session)
    transition = event and TransitionView(event.from_state, event.to_state, event.ratio,
                                          event.reason, event.at)
    return RatioStatus(
        global_ratio=snapshot.ratio if snapshot else None,
        emergency_active=guard.frozen, paid_frozen=guard.frozen, status=status,
        status_reason=why, floor=policy.floor, recovery=policy.recovery,
        seeding_allocation=allocation, stalled_count=allocation.stalled,
        estimated_recovery_hours=_recovery_hours(snapshot, policy, rate),
        upload_rate_bps=rate, upload_rate_source=source,
        points_earned=flow.earned, points_spent=flow.spent,
        points_window_days=POINTS_WINDOW.days,
        last_updated=snapshot.taken_at if snapshot else None, last_transition=transition,
    )  # fmt: skip


def _status(
    settings: Settings, policy: GuardPolicy, frozen: bool, snapshot: AccountSnapshot | None,
    now: datetime,
) -> tuple[str, str]:
    if frozen:
        return "emergency", "ratio guard frozen: paid downloads stopped, seeding pushed"
    if snapshot is None:
        return "warning", "no account reading yet"
    age = now - snapshot.taken_at
    if age > stale_after(settings):
        return "warning", f"account data is stale: last read {age.total_seconds() / 60:.0f} min ago"
    if snapshot.ratio is not None and snapshot.ratio < policy.recovery:
        return "warning", (f"ratio {ratio_text(snapshot.ratio)} below recovery "
                           f"{ratio_text(policy.recovery)}")
    return "normal", f"ratio {ratio_text(snapshot.ratio)}"


def seeding_allocation(
    session: Session, snapshot: AccountSnapshot | None, policy: SeedingPolicy
) -> SeedingAllocation:
    """Watched torrents by state, and the unsatisfied room left on the account."""
    counts = _stored_counts(session)
    named = ("seeding", "downloading", "stalled", "paused")
    count = snapshot.unsatisfied_count if snapshot else None
    limit = snapshot.unsatisfied_limit if snapshot else None
    capacity = seeding.grab_capacity(count, limit, policy)
    return SeedingAllocation(
        seeding=counts.get("seeding", 0), downloading=counts.get("downloading", 0),
        stalled=counts.get("stalled", 0), paused=counts.get("paused", 0),
        other=sum(n for s, n in counts.items() if s not in named),
        unsatisfied_count=count, unsatisfied_limit=limit, unsat_margin=policy.unsat_margin,
        remaining_capacity=capacity,
    )  # fmt: skip


def upload_rate(
    session: Session, now: datetime, latest: AccountSnapshot | None
) -> tuple[float | None, str | None]:
    """Bytes/s of upload: what the tracker credited over the last day when that spans an
    hour or more, else qBittorrent's upload speed at the last watch."""
    oldest = session.scalars(select(AccountSnapshot)
                             .where(AccountSnapshot.taken_at >= now - RATE_WINDOW)
                             .order_by(AccountSnapshot.taken_at).limit(1)).first()  # fmt: skip
    if latest is not None and oldest is not None:
        span = (latest.taken_at - oldest.taken_at).total_seconds()
        gained = latest.uploaded_bytes - oldest.uploaded_bytes
        if span >= MIN_RATE_SPAN.total_seconds() and gained > 0:
            return gained / span, "tracker"
    if latest is not None and latest.upload_rate_bps is not None:
        return latest.upload_rate_bps, "qbittorrent"
    return None, None


def _recovery_hours(
    snapshot: AccountSnapshot | None, policy: GuardPolicy, rate: float | None
) -> float | None:
    if snapshot is None:
        return None
    if snapshot.ratio is None or snapshot.ratio > policy.recovery:
        return 0.0
    return ratio_guard.hours_to_recovery(snapshot.uploaded_bytes, snapshot.downloaded_bytes,
                                         policy.recovery, rate or 0.0)


def points_flow(session: Session, now: datetime) -> ratio_guard.PointsFlow:
    """Points earned and spent over the last POINTS_WINDOW of snapshots.

    Snapshots are minutes apart, so a purchase shows as a fall (spent) between two of them.
    """
    rows = session.execute(select(AccountSnapshot.taken_at, AccountSnapshot.bonus_points)
                           .where(AccountSnapshot.taken_at >= now - POINTS_WINDOW)
                           .order_by(AccountSnapshot.taken_at))  # fmt: skip
    return ratio_guard.points_flow(PointsSnapshot(at, points) for at, points in rows)


@dataclass(frozen=True)
class QbitStatus:
    configured: bool
    connected: bool
    url: str | None
    version: str | None
    torrents_by_state: dict[str, int]  # watched torrents as of the last poll
    download_speed: int | None  # bytes/s
    upload_speed: int | None
    session_downloaded: int | None  # bytes since qBittorrent started
    session_uploaded: int | None
    connection_status: str | None
    last_poll_ok: bool | None  # None before the first watch run
    last_poll_at: datetime | None
    last_poll_error: str | None
    error: str | None  # why not connected
    category: str = ""


def qbittorrent_status(
    settings: Settings, sessions: sessionmaker[Session], clients: ClientCache
) -> QbitStatus:
    """qBittorrent asked live (version, speeds, totals) plus the last watch's counts."""
    with session_scope(sessions) as session:
        counts = _stored_counts(session)
        last = _last_poll(session)
    base = dict(torrents_by_state=counts, last_poll_ok=last.get("ok"),
                last_poll_at=_time(last.get("at")), last_poll_error=last.get("error"),
                category=settings.qb_category)
    try:
        client = clients.get(STATUS_CLIENT, lambda: torrent_watch.make_qbit_client(
            settings, timeout_s=STATUS_TIMEOUT_S))
        version, transfer = client.version(), client.transfer_info()
    except JobNotConfigured as exc:
        return QbitStatus(configured=False, connected=False, url=None, version=None,
                          download_speed=None, upload_speed=None, session_downloaded=None,
                          session_uploaded=None, connection_status=None, error=str(exc), **base)
    except (TorrentClientError, ValueError) as exc:
        clients.drop(STATUS_CLIENT)  # log in afresh next time (qBittorrent may restart)
        return QbitStatus(configured=True, connected=False, url=_url(settings), version=None,
                          download_speed=None, upload_speed=None, session_downloaded=None,
                          session_uploaded=None, connection_status=None, error=str(exc), **base)
    return QbitStatus(configured=True, connected=True, url=client.url, version=version,
                      download_speed=transfer.dl_speed, upload_speed=transfer.up_speed,
                      session_downloaded=transfer.dl_session, session_uploaded=transfer.up_session,
                      connection_status=transfer.connection_status, error=None, **base)


def _url(settings: Settings) -> str | None:
    try:
        return base_url(settings.qb_host, settings.qb_port) if settings.qb_host else None
    except ValueError:
        return None


def _stored_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(TrackedTorrent.state, func.count())
                           .where(TrackedTorrent.state != GONE)
                           .group_by(TrackedTorrent.state))  # fmt: skip
    return {state: n for state, n in rows}


def _last_poll(session: Session) -> dict:
    row = session.get(AppState, torrent_watch.LAST_POLL_KEY)
    if row is None:
        return {}
    try:
        value = json.loads(row.value)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def recovery_attempts(
    session: Session, limit: int, offset: int, info_hash: str | None = None
) -> tuple[list[TorrentRecoveryAttempt], int]:
    """Recovery attempts, newest first, and how many there are in all."""
    where = [] if info_hash is None else [TorrentRecoveryAttempt.info_hash == info_hash.lower()]
    total = session.scalar(select(func.count()).select_from(TorrentRecoveryAttempt).where(*where))
    query = (select(TorrentRecoveryAttempt).where(*where)
             .order_by(TorrentRecoveryAttempt.at.desc(), TorrentRecoveryAttempt.id.desc())
             .limit(limit).offset(offset))  # fmt: skip
    return list(session.scalars(query)), int(total or 0)
