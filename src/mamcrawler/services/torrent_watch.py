"""The `torrent_watch` job (R4, R5): poll qBittorrent, read the ratio, run the ratio guard,
carry out its actions, recover stuck torrents.

One incremental qBittorrent poller lives in the process's client cache, so each run moves
only what changed since the last one; any failure drops it and the next run starts with a
full update. The guard only moves on a fresh tracker reading: without one it keeps its
state (never thaws on missing data), and a frozen guard keeps its torrents seeding anyway.
Nothing here ever stops or removes a torrent.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientError
from mamcrawler.config import Settings
from mamcrawler.domain import ratio_guard
from mamcrawler.domain.ratio_guard import (
    ForceStartStalled,
    GuardAction,
    GuardPolicy,
    GuardState,
    GuardStep,
    RaiseUploadSlots,
    RestoreSettings,
    ResumeSeeding,
    ratio_text,
)
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot, TorrentState
from mamcrawler.jobs.context import JobContext, JobNotConfigured
from mamcrawler.services import guard_store, torrent_store
from mamcrawler.services.tracker import shared_client
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AppState

log = logging.getLogger("mamcrawler.torrent_watch")

WATCH_CLIENT = "qbittorrent.watch"  # the cached client whose poller keeps the rid
LAST_POLL_KEY = "qbittorrent.last_poll"
SLOT_PREFERENCES = ("max_uploads", "max_uploads_per_torrent")
NOT_CONFIGURED = (
    "not configured: set QB_HOST (and QB_PORT, QB_USERNAME, QB_PASSWORD) to qBittorrent's "
    "WebUI address to watch torrents and run the ratio guard"
)


class TorrentWatchFailed(Exception):
    """qBittorrent could not be polled; what the run still did is in the message."""


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
    resumed: int = 0
    forced: int = 0
    slots_raised: bool = False
    restored: bool = False


def run(ctx: JobContext) -> str:
    """One watch cycle; returns a one-line summary, raises when qBittorrent is unreachable
    (after the account reading and the guard were stored)."""
    settings = ctx.settings
    if not settings.qb_host:
        raise JobNotConfigured(NOT_CONFIGURED)
    now = ctx.clock()
    client: QbitClient = ctx.clients.get(WATCH_CLIENT, lambda: make_qbit_client(settings))
    snapshot, poll_error = _poll(ctx, client, now)
    stats, tracker_note = read_account(ctx)
    upload_rate = snapshot.transfer.up_speed if snapshot else None
    with session_scope(ctx.sessions) as session:
        guard = update_guard(session, settings, stats, tracker_note, now, upload_rate)
    if snapshot is None:
        raise TorrentWatchFailed(f"{poll_error}. The ratio guard was still updated: "
                                 f"{guard.note}") from poll_error
    try:
        return _watch_torrents(ctx, client, snapshot, guard, now)
    except Exception:
        # Changes reported by this poll may not be stored: start over with a full update.
        ctx.clients.drop(WATCH_CLIENT)
        raise


def _poll(
    ctx: JobContext, client: QbitClient, now: datetime
) -> tuple[ClientSnapshot | None, TorrentClientError | None]:
    try:
        snapshot, error = client.poll(), None
    except TorrentClientError as exc:
        ctx.clients.drop(WATCH_CLIENT)
        snapshot, error = None, exc
    with session_scope(ctx.sessions) as session:
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


def read_account(ctx: JobContext) -> tuple[AccountStats | None, str]:
    """The account from the tracker, or None and why not."""
    if ctx.tracker is None:
        return None, "tracker not configured (set MAM_ID)"
    try:
        # The process's one tracker client: building one costs ~40 ms of TLS set-up.
        return shared_client(ctx.clients, ctx.tracker, ctx.sessions).account_stats(), ""
    except TrackerError as exc:
        return None, f"tracker read failed: {exc}"


def update_guard(
    session: Session, settings: Settings, stats: AccountStats | None, tracker_note: str,
    now: datetime, upload_rate_bps: float | None,
) -> GuardOutcome:
    """Store the account reading, step the guard on it, store the guard; return the
    actions to carry out. Without a reading the state stays as stored."""
    policy = guard_store.guard_policy(settings)
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
    ctx: JobContext, client: QbitClient, snapshot: ClientSnapshot, guard: GuardOutcome,
    now: datetime,
) -> str:
    settings = ctx.settings
    torrents = torrent_store.watched(snapshot, settings.qb_category)
    with session_scope(ctx.sessions) as session:
        changes = torrent_store.reconcile(session, snapshot, settings.qb_category, now)
    results = carry_out(ctx, client, guard.actions, torrents)
    recovered = recover(ctx, client, torrents, changes.previous, now)
    return _summary(torrents, changes, guard, results, recovered)


def carry_out(
    ctx: JobContext, client: QbitClient, actions: Sequence[GuardAction],
    torrents: Sequence[TorrentSnapshot],
) -> ActionResults:
    """Do what the guard asked. Only resumes, force-starts and preference changes."""
    results = ActionResults()
    for action in actions:
        if isinstance(action, ResumeSeeding):
            paused = [t.hash for t in torrents
                      if t.state is TorrentState.PAUSED and t.is_complete]
            client.resume(paused)
            results.resumed = len(paused)
        elif isinstance(action, ForceStartStalled):
            stalled = [t.hash for t in torrents if t.state is TorrentState.STALLED]
            client.force_start(stalled)
            results.forced = len(stalled)
        elif isinstance(action, RaiseUploadSlots):
            results.slots_raised = raise_upload_slots(ctx, client, action.slots)
        elif isinstance(action, RestoreSettings):
            results.restored = restore_preferences(ctx, client, action.reason)
    if results.resumed or results.forced:
        log.info("ratio guard: resumed %d paused seeding torrent(s), force-started %d stalled",
                 results.resumed, results.forced)
    return results


def raise_upload_slots(ctx: JobContext, client: QbitClient, slots: int) -> bool:
    """Raise qBittorrent's upload slots to at least `slots`, saving the old values first
    (once per freeze) so the thaw can put them back. True when something was changed."""
    prefs = client.preferences()
    current = {name: int(prefs[name]) for name in SLOT_PREFERENCES if name in prefs}
    with session_scope(ctx.sessions) as session:
        if guard_store.saved_preferences(session) is None:
            guard_store.set_saved_preferences(session, current)
    # A negative value is qBittorrent's "unlimited": already as high as it goes.
    raise_to = {name: slots for name, value in current.items() if 0 <= value < slots}
    if raise_to:
        client.set_preferences(**raise_to)
        log.info("ratio guard: upload slots raised to %d (were %s)", slots, current)
    return bool(raise_to)


def restore_preferences(ctx: JobContext, client: QbitClient, reason: str) -> bool:
    """Put back the preferences saved when the guard froze, then forget them."""
    with session_scope(ctx.sessions) as session:
        saved = guard_store.saved_preferences(session)
    if not saved:
        return False
    client.set_preferences(**saved)
    with session_scope(ctx.sessions) as session:
        guard_store.set_saved_preferences(session, None)
    log.info("ratio guard: qBittorrent preferences restored to %s (%s)", saved, reason)
    return True


def recover(
    ctx: JobContext, client: QbitClient, torrents: Sequence[TorrentSnapshot],
    previous: dict[str, str | None], now: datetime,
) -> Counter[str]:
    """Take this run's recovery steps; each is recorded, a failed one with its error."""
    cap = ctx.settings.stalled_recovery_max_attempts
    with session_scope(ctx.sessions) as session:
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
        with session_scope(ctx.sessions) as session:
            torrent_store.record_attempt(session, step, now, error)
        last = " (last attempt)" if step.attempt >= cap else ""
        log.info("recovering %s %r: %s, %s%s%s", step.info_hash, step.name, step.action,
                 step.reason, last, f"; failed: {error}" if error else "")
        if error is not None:
            raise TorrentWatchFailed(f"recovery {step.action} of {step.info_hash} failed: "
                                     f"{error}")
        taken[step.action] += 1
    return taken


def _summary(
    torrents: Sequence[TorrentSnapshot], changes: torrent_store.StoreChanges,
    guard: GuardOutcome, results: ActionResults, recovered: Counter[str],
) -> str:
    counts = Counter(t.state.value for t in torrents)
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    parts = [f"{len(torrents)} torrent(s) ({states}); {changes.added} new, "
             f"{len(changes.gone)} gone", guard.note]
    done = []
    if results.resumed:
        done.append(f"resumed {results.resumed}")
    if results.forced:
        done.append(f"force-started {results.forced}")
    if results.slots_raised:
        done.append("upload slots raised")
    if results.restored:
        done.append("preferences restored")
    if recovered:
        done.append("recovery " + ", ".join(f"{n} {a}" for a, n in sorted(recovered.items())))
    if done:
        parts.append("; ".join(done))
    return "; ".join(parts)
