"""The `torrents` table kept in step with qBittorrent, and stuck-torrent recovery (R5).

`reconcile` stores one poll: new and changed torrents are upserted, torrents that left
the watched category are marked gone (never deleted: their seeding history is ours). On an
incremental poll only the torrents qBittorrent reported as changed are touched.

Recovery works on a torrent that stays stuck (stalled or errored) over two polls: one step
per run, reannounce → recheck → force-start, up to a cap; a torrent that moves again
starts from the first step next time.

Also kept here: the seeding actions carried out (`record_action`) and which torrents
carry a force-start of ours (`forced_by_us`), so it can be taken back later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mamcrawler.domain.seeding import (
    ForceStartTorrent,
    LiftShareLimits,
    ResumeTorrent,
    TorrentAction,
    UnforceTorrent,
)
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot, TorrentState
from mamcrawler.store.models import SeedingAction, TorrentRecoveryAttempt, TrackedTorrent

log = logging.getLogger("mamcrawler.torrents")

GONE = "gone"  # stored state of a torrent no longer in qBittorrent's watched category
RECOVERY_STEPS = ("reannounce", "recheck", "force_start")
_CHUNK = 500  # hashes per IN (...) query, well inside every backend's parameter limit


def in_scope(torrent: TorrentSnapshot, category: str) -> bool:
    """Is the torrent watched? Its category or a sub-category of it; "" watches all."""
    if not category:
        return True
    return torrent.category == category or torrent.category.startswith(category + "/")


def watched(snapshot: ClientSnapshot, category: str) -> list[TorrentSnapshot]:
    """The snapshot's torrents in the watched category."""
    return [t for t in snapshot.torrents if in_scope(t, category)]


def is_stuck(torrent: TorrentSnapshot) -> bool:
    """Not moving and needing help: stalled, errored, or force-started yet still idle.

    qBittorrent reports a forced download as forcedDL even with no peers at all, so a
    forced download at zero speed counts as stuck too.
    """
    if torrent.state in (TorrentState.STALLED, TorrentState.ERRORED):
        return True
    return torrent.state is TorrentState.DOWNLOADING and torrent.forced and torrent.dlspeed == 0


def is_healthy(torrent: TorrentSnapshot) -> bool:
    """Seeding, or downloading with data flowing: the recovery counter can start over."""
    if torrent.state is TorrentState.SEEDING:
        return True
    return torrent.state is TorrentState.DOWNLOADING and torrent.dlspeed > 0


@dataclass
class StoreChanges:
    """What one reconcile did. `previous` holds, for each torrent it wrote, the stored
    state before this poll (None when new or back from gone); a watched torrent missing
    from it did not change, so its stored state is also its previous one."""

    added: int = 0
    updated: int = 0
    gone: list[str] = field(default_factory=list)
    previous: dict[str, str | None] = field(default_factory=dict)


def reconcile(
    session: Session, snapshot: ClientSnapshot, category: str, now: datetime
) -> StoreChanges:
    """Bring `torrents` in line with one poll of qBittorrent (see the module docstring)."""
    current = {t.hash: t for t in watched(snapshot, category)}
    changes = StoreChanges()
    live = set(session.scalars(select(TrackedTorrent.info_hash)
                               .where(TrackedTorrent.state != GONE)))  # fmt: skip
    # Every changed torrent, and any watched one the store does not hold as live yet.
    touch = set(current) if snapshot.full_update else (snapshot.changed & set(current))
    touch |= set(current) - live
    rows = {row.info_hash: row for row in _rows(session, touch)}
    for info_hash in touch:
        row = rows.get(info_hash)
        changes.previous[info_hash] = None if row is None or row.state == GONE else row.state
        if row is None:
            row = TrackedTorrent(info_hash=info_hash, recovery_attempts=0)
            session.add(row)
            changes.added += 1
        else:
            changes.updated += 1
        _copy(current[info_hash], row, now)
    changes.gone = sorted(live - set(current))
    for chunk in _chunks(changes.gone):
        session.execute(update(TrackedTorrent).where(TrackedTorrent.info_hash.in_(chunk))
                        .values(state=GONE), execution_options={"synchronize_session": False})
    session.flush()
    # One statement instead of a row write per unchanged torrent.
    session.execute(update(TrackedTorrent).where(TrackedTorrent.state != GONE)
                    .values(last_seen_at=now), execution_options={"synchronize_session": False})
    if changes.gone:
        log.info("%d torrent(s) no longer in qBittorrent%s, marked gone: %s", len(changes.gone),
                 f" category {category!r}" if category else "", ", ".join(changes.gone[:5]))
    return changes


def _copy(torrent: TorrentSnapshot, row: TrackedTorrent, now: datetime) -> None:
    row.name = torrent.name[:500]
    row.category = torrent.category or None
    row.state = torrent.state.value
    row.raw_state = torrent.raw_state[:30]
    row.progress = torrent.progress
    row.size_bytes = torrent.size
    row.uploaded_bytes = torrent.uploaded
    row.downloaded_bytes = torrent.downloaded
    row.seeding_seconds = torrent.seeding_time
    row.added_at = torrent.added_on
    row.completed_at = torrent.completion_on
    row.last_seen_at = now


def _rows(session: Session, hashes: Iterable[str]) -> list[TrackedTorrent]:
    found: list[TrackedTorrent] = []
    for chunk in _chunks(sorted(hashes)):
        found += session.scalars(select(TrackedTorrent)
                                 .where(TrackedTorrent.info_hash.in_(chunk)))  # fmt: skip
    return found


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass(frozen=True)
class RecoveryStep:
    """One recovery action to take on one torrent, and why."""

    info_hash: str
    name: str
    attempt: int  # 1-based within the current run of trouble
    action: str  # one of RECOVERY_STEPS
    state: str
    raw_state: str
    reason: str


@dataclass
class RecoveryPlan:
    steps: list[RecoveryStep] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)  # healthy again: counters back to 0


def plan_recovery(
    session: Session, torrents: Sequence[TorrentSnapshot], previous: dict[str, str | None],
    max_attempts: int,
) -> RecoveryPlan:
    """Decide this run's recovery steps from the poll and the stored counters.

    A torrent gets its first step only when it was already stuck at the previous poll
    (a fresh download is briefly stalled while it finds peers), then one step per run
    while it stays stuck, until `max_attempts` steps were taken.
    """
    candidates = {t.hash: t for t in torrents if is_stuck(t) or is_healthy(t)}
    rows = {row.info_hash: row for row in _rows(session, candidates)}
    plan = RecoveryPlan()
    for info_hash, torrent in candidates.items():
        row = rows.get(info_hash)
        done = row.recovery_attempts if row is not None else 0
        if is_healthy(torrent):
            if done:
                plan.reset.append(info_hash)
            continue
        if done >= max_attempts:
            continue
        before = previous[info_hash] if info_hash in previous else (row and row.state)
        if done == 0 and before not in _STUCK_STATES:
            continue
        action = RECOVERY_STEPS[done % len(RECOVERY_STEPS)]
        why = (f"{torrent.raw_state} (progress {torrent.progress:.0%}, {torrent.num_seeds} "
               f"seed(s) connected) over two polls: attempt {done + 1} of {max_attempts}")
        plan.steps.append(RecoveryStep(info_hash, torrent.name, done + 1, action,
                                       torrent.state.value, torrent.raw_state, why))
    return plan


# Stored states that count as "already stuck at the previous poll".
_STUCK_STATES = {TorrentState.STALLED.value, TorrentState.ERRORED.value}


def record_attempt(
    session: Session, step: RecoveryStep, now: datetime, error: str | None = None
) -> None:
    """Store one recovery step and advance the torrent's counter (a failed one counts)."""
    session.add(TorrentRecoveryAttempt(
        at=now, info_hash=step.info_hash, name=step.name[:500], attempt=step.attempt,
        action=step.action, torrent_state=step.state, raw_state=step.raw_state[:30],
        reason=step.reason, outcome="failed" if error else "done", error=error,
    ))  # fmt: skip
    row = session.get(TrackedTorrent, step.info_hash)
    if row is not None:
        row.recovery_attempts, row.last_recovery_at = step.attempt, now
        if step.action == "force_start" and error is None:
            row.forced_at = now


def reset_recovery(session: Session, hashes: Sequence[str]) -> None:
    """Healthy again: the next trouble starts from the first step."""
    for chunk in _chunks(list(hashes)):
        session.execute(update(TrackedTorrent).where(TrackedTorrent.info_hash.in_(chunk))
                        .values(recovery_attempts=0),
                        execution_options={"synchronize_session": False})  # fmt: skip


_ACTION_NAMES: dict[type, str] = {
    LiftShareLimits: "lift_share_limits", ResumeTorrent: "resume",
    ForceStartTorrent: "force_start", UnforceTorrent: "unforce",
}


def action_name(action: TorrentAction) -> str:
    """The stored word for a torrent action."""
    return _ACTION_NAMES[type(action)]


def record_action(
    session: Session, action: TorrentAction, torrent: TorrentSnapshot, now: datetime,
    error: str | None = None,
) -> None:
    """Store one seeding action carried out (a failed one with its error), and remember
    a force-start of ours, or forget it once taken back."""
    session.add(SeedingAction(
        at=now, info_hash=action.hash, name=torrent.name[:500], action=action_name(action),
        raw_state=torrent.raw_state[:30], reason=action.reason,
        outcome="failed" if error else "done", error=error,
    ))  # fmt: skip
    if error is not None or not isinstance(action, ForceStartTorrent | UnforceTorrent):
        return
    row = session.get(TrackedTorrent, action.hash)
    if row is not None:
        row.forced_at = now if isinstance(action, ForceStartTorrent) else None


def forced_by_us(session: Session, torrents: Sequence[TorrentSnapshot]) -> set[str]:
    """The watched torrents still carrying a force-start of ours.

    One the client shows as no longer forced (someone un-forced or paused it) is
    forgotten: there is nothing of ours left to take back.
    """
    showing = {t.hash: t.forced for t in torrents}
    ours = set(session.scalars(select(TrackedTorrent.info_hash)
                               .where(TrackedTorrent.forced_at.is_not(None),
                                      TrackedTorrent.state != GONE)))  # fmt: skip
    dropped = sorted(h for h in ours if h in showing and not showing[h])
    for chunk in _chunks(dropped):
        session.execute(update(TrackedTorrent).where(TrackedTorrent.info_hash.in_(chunk))
                        .values(forced_at=None),
                        execution_options={"synchronize_session": False})  # fmt: skip
    return {h for h in ours if showing.get(h)}
