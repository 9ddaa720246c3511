"""Watching torrents (R4, R5): poll qBittorrent, read the ratio, run the ratio guard, keep
every torrent under its seeding duty seeding, recover stuck torrents.

The job entry point is `mamcrawler.jobs.watch_jobs`; `watch` here takes explicit ports.
The client keeps its incremental poll position between runs, so each run moves only
what changed; the job drops the client after any failure and the next run starts with a
full update. The guard only moves on a fresh tracker reading: without one it keeps its
state (never thaws on missing data), and a frozen guard keeps its torrents seeding anyway.
Whatever the guard says, a complete torrent under its seeding duty that qBittorrent paused,
stopped or queued is set going again (`seeding.keep_duty`). Nothing here ever stops or
removes a torrent; the one thing taken back is a force-start of ours, once allowed.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientError
from mamcrawler.config import Settings
from mamcrawler.domain import ratio_guard, seeding
from mamcrawler.domain.ratio_guard import (
    GuardAction,
    GuardPolicy,
    GuardState,
    GuardStep,
    RaiseUploadSlots,
    RestoreSettings,
    ratio_text,
)
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.seeding import (
    ForceStartTorrent,
    LiftShareLimits,
    ResumeTorrent,
    TorrentAction,
    UnforceTorrent,
)
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot
from mamcrawler.policies import Policies
from mamcrawler.services import guard_store, notify, torrent_store
from mamcrawler.services.clients import JobNotConfigured
from mamcrawler.services.ports import TorrentClient
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AppState

log = logging.getLogger("mamcrawler.torrent_watch")

WATCH_CLIENT = "qbittorrent.watch"  # the cached client whose poller keeps the rid
LAST_POLL_KEY = "qbittorrent.last_poll"
SLOT_PREFERENCES = ("max_uploads", "max_uploads_per_torrent")
NO_LIMIT = -1  # the TorrentClient port's "no share limit"
NOT_CONFIGURED = (
    "not configured: set QB_HOST (and QB_PORT, QB_USERNAME, QB_PASSWORD) to qBittorrent's "
    "WebUI address to watch torrents and run the ratio guard"
)


class TorrentWatchFailed(Exception):
    """qBittorrent could not be polled or refused a command; what the run still did is in
    the message."""


class AccountReader(Protocol):
    """The part of the tracker the watch reads."""

    def account_stats(self) -> AccountStats: ...


def make_qbit_client(settings: Settings, timeout_s: float = 30.0) -> QbitClient:
    """A client for the configured WebUI; JobNotConfigured when QB_HOST is not set."""
    if not settings.qb_host:
        raise JobNotConfigured(NOT_CONFIGURED)
    password = settings.qb_password.get_secret_value() if settings.qb_password else ""
    return QbitClient(settings.qb_host, settings.qb_port, settings.qb_username or "", password,
                      timeout_s=timeout_s)


@dataclass
class GuardOutcome:
    state: GuardState
    actions: tuple[GuardAction, ...]
    note: str  # how the guard got here, for the summary


@dataclass
class ActionResults:
    done: Counter[str] = field(default_factory=Counter)  # torrent actions by stored name
    slots_raised: bool = False
    restored: bool = False


def watch(
    client: TorrentClient, sessions: sessionmaker[Session], settings: Settings,
    policies: Policies, now: datetime, tracker: AccountReader | None,
) -> str:
    """One watch cycle; returns a one-line summary. Raises TorrentWatchFailed when
    qBittorrent is unreachable (after the account reading and the guard were stored) or
    refuses a command (after recording it). `tracker` None: no tracker configured."""
    snapshot, poll_error = _poll(client, sessions, now)
    stats, tracker_note = read_account(tracker)
    upload_rate = snapshot.transfer.up_speed if snapshot else None
    with session_scope(sessions) as session:
        guard = update_guard(session, policies.guard, stats, tracker_note, now, upload_rate)
    if snapshot is None:
        raise TorrentWatchFailed(f"{poll_error}. The ratio guard was still updated: "
                                 f"{guard.note}") from poll_error
    return _watch_torrents(client, sessions, settings, policies, snapshot, guard, now)


def _poll(
    client: TorrentClient, sessions: sessionmaker[Session], now: datetime
) -> tuple[ClientSnapshot | None, TorrentClientError | None]:
    try:
        snapshot, error = client.poll(), None
    except TorrentClientError as exc:
        snapshot, error = None, exc
    with session_scope(sessions) as session:
        record_poll(session, now, None if error is None else str(error))
    return snapshot, error


def record_poll(session: Session, at: datetime, error: str | None) -> None:
    """Remember the last poll's outcome for the status API (any process can read it)."""
    value = json.dumps({"ok": error is None, "at": at.isoformat(), "error": error})
    row = session.get(AppState, LAST_POLL_KEY)
    if row is None:
        session.add(AppState(key=LAST_POLL_KEY, value=value, updated_at=at))
    else:
        row.value, row.updated_at = value, at


def read_account(tracker: AccountReader | None) -> tuple[AccountStats | None, str]:
    """The account from the tracker, or None and why not."""
    if tracker is None:
        return None, "tracker not configured (set MAM_ID)"
    try:
        return tracker.account_stats(), ""
    except TrackerError as exc:
        return None, f"tracker read failed: {exc}"


def update_guard(
    session: Session, policy: GuardPolicy, stats: AccountStats | None, tracker_note: str,
    now: datetime, upload_rate_bps: float | None,
) -> GuardOutcome:
    """Store the account reading, step the guard on it, store the guard; return the
    actions to carry out. Without a reading the state stays as stored."""
    state = guard_store.current_guard(session)
    if stats is None:
        note = f"guard stays {state.name}: {tracker_note}"
        actions = ratio_guard.keep_seeding(policy, note) if state.frozen else ()
        return GuardOutcome(state, _with_pending_restore(session, state, actions, note), note)
    guard_store.record_snapshot(session, stats, now, upload_rate_bps)
    step = ratio_guard.step(state, stats.ratio, now, policy)
    guard_store.save_guard(session, step, _numbers(stats, policy, upload_rate_bps))
    if step.transition is not None:
        log.warning("ratio guard %s → %s: %s", step.transition.from_state,
                    step.transition.to_state, step.reason)
        notify.guard_changed(step.transition.to_state, step.reason)
    actions = _with_pending_restore(session, step.new_state, step.actions, step.reason)
    return GuardOutcome(step.new_state, actions, _guard_note(step, stats))


def _numbers(stats: AccountStats, policy: GuardPolicy, upload_rate_bps: float | None) -> dict:
    return {
        "ratio": stats.ratio, "uploaded_bytes": stats.uploaded_bytes,
        "downloaded_bytes": stats.downloaded_bytes, "floor": policy.floor,
        "recovery": policy.recovery, "upload_rate_bps": upload_rate_bps,
        "bonus_points": stats.bonus_points,
    }  # fmt: skip


def _guard_note(step: GuardStep, stats: AccountStats) -> str:
    changed = " (changed)" if step.transition is not None else ""
    return f"ratio {ratio_text(stats.ratio)}, guard {step.new_state.name}{changed}"


def _with_pending_restore(
    session: Session, state: GuardState, actions: tuple[GuardAction, ...], reason: str
) -> tuple[GuardAction, ...]:
    # A thaw whose restore failed (qBittorrent down) leaves the saved preferences behind;
    # they are restored on the next run that can reach qBittorrent.
    pending = not state.frozen and guard_store.saved_preferences(session) is not None
    if pending and not any(isinstance(a, RestoreSettings) for a in actions):
        return (*actions, RestoreSettings(f"pending restore: {reason}"))
    return actions


def _watch_torrents(
    client: TorrentClient, sessions: sessionmaker[Session], settings: Settings,
    policies: Policies, snapshot: ClientSnapshot, guard: GuardOutcome, now: datetime,
) -> str:
    torrents = torrent_store.watched(snapshot, settings.qb_category)
    with session_scope(sessions) as session:
        changes = torrent_store.reconcile(session, snapshot, settings.qb_category, now)
        ours = torrent_store.forced_by_us(session, torrents)
    duties = {t.hash: seeding.duty_of(t) for t in torrents}
    plan = seeding.keep_duty(torrents, duties, policies.seeding, now, guard.state.frozen, ours)
    planned = {a.hash for a in plan}
    plan += ratio_guard.torrent_actions(guard.actions, torrents, skip=planned)
    results = ActionResults()
    results.done = carry_out_torrents(client, sessions, plan, torrents, now)
    carry_out_guard(client, sessions, guard.actions, results)
    recovered = recover(client, sessions, torrents, changes.previous, now,
                        settings.stalled_recovery_max_attempts)
    return _summary(torrents, changes, guard, results, recovered)


# Batched in this order: share limits before the resume they protect.
_COMMAND_ORDER = (LiftShareLimits, UnforceTorrent, ResumeTorrent, ForceStartTorrent)


def carry_out_torrents(
    client: TorrentClient, sessions: sessionmaker[Session], actions: Sequence[TorrentAction],
    torrents: Sequence[TorrentSnapshot], now: datetime,
) -> Counter[str]:
    """Do the torrent actions, one client call per kind; record and log each one.

    A refused call is recorded as failed for every torrent in it and fails the run.
    """
    by_hash = {t.hash: t for t in torrents}
    done: Counter[str] = Counter()
    for kind in _COMMAND_ORDER:
        batch = [a for a in actions if isinstance(a, kind)]
        if not batch:
            continue
        error = None
        try:
            _command(client, kind, [a.hash for a in batch])
        except TorrentClientError as exc:
            error = str(exc)
        with session_scope(sessions) as session:
            for action in batch:
                torrent_store.record_action(session, action, by_hash[action.hash], now, error)
        name = torrent_store.action_name(batch[0])
        for action in batch:
            log.info("seeding: %s %s %r: %s%s", name, action.hash, by_hash[action.hash].name,
                     action.reason, f"; failed: {error}" if error else "")
        if error is not None:
            raise TorrentWatchFailed(f"{name} of {len(batch)} torrent(s) failed: {error}")
        done[name] += len(batch)
    return done


def _command(client: TorrentClient, kind: type, hashes: list[str]) -> None:
    if kind is LiftShareLimits:
        client.set_share_limits(hashes, ratio_limit=NO_LIMIT, seeding_time_limit_min=NO_LIMIT)
    elif kind is ResumeTorrent:
        client.resume(hashes)
    elif kind is ForceStartTorrent:
        client.force_start(hashes)
    elif kind is UnforceTorrent:
        client.force_start(hashes, on=False)


def carry_out_guard(
    client: TorrentClient, sessions: sessionmaker[Session], actions: Sequence[GuardAction],
    results: ActionResults,
) -> None:
    """The guard's settings changes; its torrent actions went through `carry_out_torrents`."""
    for action in actions:
        if isinstance(action, RaiseUploadSlots):
            results.slots_raised = raise_upload_slots(client, sessions, action.slots)
        elif isinstance(action, RestoreSettings):
            results.restored = restore_preferences(client, sessions, action.reason)


def raise_upload_slots(
    client: TorrentClient, sessions: sessionmaker[Session], slots: int
) -> bool:
    """Raise qBittorrent's upload slots to at least `slots`, saving the old values first
    (once per freeze) so the thaw can put them back. True when something was changed."""
    prefs = client.preferences()
    current = {name: int(prefs[name]) for name in SLOT_PREFERENCES if name in prefs}
    with session_scope(sessions) as session:
        if guard_store.saved_preferences(session) is None:
            guard_store.set_saved_preferences(session, current)
    # A negative value is qBittorrent's "unlimited": already as high as it goes.
    raise_to = {name: slots for name, value in current.items() if 0 <= value < slots}
    if raise_to:
        client.set_preferences(**raise_to)
        log.info("ratio guard: upload slots raised to %d (were %s)", slots, current)
    return bool(raise_to)


def restore_preferences(
    client: TorrentClient, sessions: sessionmaker[Session], reason: str
) -> bool:
    """Put back the preferences saved when the guard froze, then forget them."""
    with session_scope(sessions) as session:
        saved = guard_store.saved_preferences(session)
    if not saved:
        return False
    client.set_preferences(**saved)
    with session_scope(sessions) as session:
        guard_store.set_saved_preferences(session, None)
    log.info("ratio guard: qBittorrent preferences restored to %s (%s)", saved, reason)
    return True


def recover(
    client: TorrentClient, sessions: sessionmaker[Session], torrents: Sequence[TorrentSnapshot],
    previous: dict[str, str | None], now: datetime, cap: int,
) -> Counter[str]:
    """Take this run's recovery steps; each is recorded, a failed one with its error."""
    with session_scope(sessions) as session:
        plan = torrent_store.plan_recovery(session, torrents, previous, cap)
        torrent_store.reset_recovery(session, plan.reset)
    for info_hash in plan.reset:
        log.info("torrent %s is moving again; recovery attempts reset", info_hash)
    taken: Counter[str] = Counter()
    for step in plan.steps:
        command = {"reannounce": client.reannounce, "recheck": client.recheck,
                   "force_start": client.force_start}[step.action]
        error = None
        try:
            command(step.info_hash)
        except TorrentClientError as exc:
            error = str(exc)
        with session_scope(sessions) as session:
            torrent_store.record_attempt(session, step, now, error)
        last = " (last attempt)" if step.attempt >= cap else ""
        log.info("recovering %s %r: %s, %s%s%s", step.info_hash, step.name, step.action,
                 step.reason, last, f"; failed: {error}" if error else "")
        if error is not None:
            raise TorrentWatchFailed(f"recovery {step.action} of {step.info_hash} failed: "
                                     f"{error}")
        taken[step.action] += 1
    return taken


_DONE_WORDS = {"resume": "resumed", "force_start": "force-started", "unforce": "un-forced",
               "lift_share_limits": "share limits lifted on"}


def _summary(
    torrents: Sequence[TorrentSnapshot], changes: torrent_store.StoreChanges,
    guard: GuardOutcome, results: ActionResults, recovered: Counter[str],
) -> str:
    counts = Counter(t.state.value for t in torrents)
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    parts = [f"{len(torrents)} torrent(s) ({states}); {changes.added} new, "
             f"{len(changes.gone)} gone", guard.note]
    done = [f"{_DONE_WORDS[name]} {results.done[name]}" for name in _DONE_WORDS
            if results.done[name]]
    if results.slots_raised:
        done.append("upload slots raised")
    if results.restored:
        done.append("preferences restored")
    if recovered:
        done.append("recovery " + ", ".join(f"{n} {a}" for a, n in sorted(recovered.items())))
    if done:
        parts.append("; ".join(done))
    return "; ".join(parts)
