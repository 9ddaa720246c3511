"""The ratio guard and seeding duties as the store keeps them (R4, R5).

Persists the guard's state and every transition, the account snapshots it reads from, and
answers the questions the acquisition side asks before a grab: the guard's current state,
how many more torrents may be snatched, how much can be downloaded paid, and whether a
torrent may stop seeding. Every answer comes from the store, so it is the same in every
process and survives restarts.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.domain import seeding
from mamcrawler.domain.decision import Verdict
from mamcrawler.domain.ratio_guard import GuardState, GuardStep
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.seeding import SeedingPolicy, TorrentDuty
from mamcrawler.store.models import (
    AccountSnapshot,
    RatioGuardEvent,
    RatioGuardState,
    TrackedTorrent,
)

GUARD_ROW_ID = 1


def _guard_row(session: Session) -> RatioGuardState | None:
    return session.get(RatioGuardState, GUARD_ROW_ID)


def current_guard(session: Session) -> GuardState:
    """The guard as last stored; thawed with no history when it has never run."""
    row = _guard_row(session)
    if row is None:
        return GuardState()
    return GuardState(
        frozen=row.frozen, since=row.since, last_ratio=row.last_ratio, last_checked=row.updated_at
    )


def save_guard(session: Session, step: GuardStep, details: dict | None = None) -> None:
    """Store the guard's new state and, when it changed, the transition with its numbers."""
    row = _guard_row(session)
    if row is None:
        row = RatioGuardState(id=GUARD_ROW_ID)
        session.add(row)
    state = step.new_state
    row.frozen, row.since, row.last_ratio = state.frozen, state.since, state.last_ratio
    if state.last_checked is not None:
        row.updated_at = state.last_checked
    if step.transition is not None:
        t = step.transition
        session.add(RatioGuardEvent(
            at=t.at, from_state=t.from_state, to_state=t.to_state, ratio=_finite(t.ratio),
            reason=t.reason, details=details,
        ))  # fmt: skip


def saved_preferences(session: Session) -> dict | None:
    """qBittorrent preferences saved before the guard raised them; None when none are."""
    row = _guard_row(session)
    return dict(row.saved_preferences) if row and row.saved_preferences else None


def set_saved_preferences(session: Session, prefs: dict | None) -> None:
    """Remember (or, with None, forget) the preferences to restore on thaw."""
    row = _guard_row(session)
    if row is None:
        row = RatioGuardState(id=GUARD_ROW_ID, frozen=False)
        session.add(row)
    row.saved_preferences = prefs


def last_transition(session: Session) -> RatioGuardEvent | None:
    """The guard's most recent change of state."""
    query = select(RatioGuardEvent).order_by(RatioGuardEvent.at.desc(), RatioGuardEvent.id.desc())
    return session.scalars(query.limit(1)).first()


def record_snapshot(
    session: Session, stats: AccountStats, at: datetime, upload_rate_bps: float | None
) -> AccountSnapshot:
    """Store what the tracker said about the account, and the client's upload rate then."""
    snapshot = AccountSnapshot(
        taken_at=at,
        ratio=_finite(stats.ratio),
        uploaded_bytes=stats.uploaded_bytes,
        downloaded_bytes=stats.downloaded_bytes,
        bonus_points=stats.bonus_points,
        class_name=stats.class_name,
        vip_until=stats.vip_until,
        unsatisfied_count=stats.unsatisfied_count if "unsat" in stats.buckets else None,
        unsatisfied_limit=stats.unsatisfied_limit,
        wedges=stats.wedges,
        upload_rate_bps=upload_rate_bps,
        raw={name: {"count": b.count, "red": b.red, "size_bytes": b.size_bytes,
                    "limit": b.limit} for name, b in stats.buckets.items()},
    )  # fmt: skip
    session.add(snapshot)
    return snapshot


def latest_snapshot(session: Session) -> AccountSnapshot | None:
    """The newest account snapshot, from whichever job took it."""
    query = select(AccountSnapshot).order_by(AccountSnapshot.taken_at.desc(),
                                             AccountSnapshot.id.desc())
    return session.scalars(query.limit(1)).first()


def may_stop(session: Session, policy: SeedingPolicy, info_hash: str,
             now: datetime) -> Verdict:
    """May this torrent be stopped or removed? `seeding.may_stop` on its stored seeding time.

    A torrent the watch has never stored is refused: its seeding time is unknown.
    """
    row = session.get(TrackedTorrent, info_hash.strip().lower())
    if row is None:
        return Verdict.deny(f"{info_hash}: not tracked yet, its seeding time is unknown")
    duty = TorrentDuty(
        hash=row.info_hash,
        completed_at=row.completed_at,
        seeded_seconds=float(row.seeding_seconds),
        added_at=row.added_at,
    )
    return seeding.may_stop(duty, policy, now)


def _finite(value: float | None) -> float | None:
    """None for an infinite or missing ratio (the store's word for ∞)."""
    return value if value is not None and math.isfinite(value) else None
