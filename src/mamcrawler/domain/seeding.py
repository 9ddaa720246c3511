"""Seeding duties (R5): no torrent stops before its duty is met; unsatisfied stays capped.

The tracker's rule (reference/mam-api.md): every snatched torrent seeds 72 hours within
30 days, or it becomes a hit-and-run; the number of unsatisfied torrents is capped by the
account's class (User 50 … higher 200), and the live limit is read from the tracker.

`keep_duty` turns one look at the client into the actions that keep every torrent under
duty seeding, whatever qBittorrent itself paused, stopped or queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from mamcrawler.domain.decision import Verdict
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SeedingPolicy:
    min_seed_hours: float = 72
    window_days: float = 30
    unsat_margin: int = 10  # keep this many unsatisfied slots free below the tracker's limit

    def __post_init__(self) -> None:
        if self.min_seed_hours < 0 or self.window_days <= 0:
            raise ValueError("seed hours must be >= 0 and the window positive")
        if self.unsat_margin < 0:
            raise ValueError("the unsatisfied margin must not be negative")


@dataclass(frozen=True)
class TorrentDuty:
    """One torrent as far as its seeding duty is concerned. Datetimes are UTC.

    `snatched`: the tracker has registered a snatch (the download started from it). A
    torrent that never completed is still snatched and counts as unsatisfied, so it is
    protected too; pass True when unsure. `seeded_seconds` is the client's seeding time
    since completion. `seeded_in_window_seconds`, when the store tracks it, is the part of
    that time inside the duty window. `tracker_unsatisfied` is the tracker's own view, if
    known (the torrent is listed among the unsatisfied or hit-and-run snatches).
    """

    hash: str
    completed_at: datetime | None
    seeded_seconds: float
    snatched: bool = True
    added_at: datetime | None = None  # when the grab started
    seeded_in_window_seconds: float | None = None
    tracker_unsatisfied: bool | None = None


def duty_window_end(torrent: TorrentDuty, policy: SeedingPolicy) -> datetime | None:
    """When the window closes. It opens at the earliest known of added/completed, which is
    never later than the tracker's start, so the window assumed is never too long."""
    starts = [t for t in (torrent.added_at, torrent.completed_at) if t is not None]
    if not starts:
        return None
    return min(starts) + timedelta(days=policy.window_days)


def seeded_in_window(torrent: TorrentDuty, policy: SeedingPolicy, now: datetime) -> float:
    """Seconds of seeding that surely fell inside the window.

    The store's own count when given. Otherwise all seeding so far while the window is
    open; after it closes, a lower bound: seeding time minus the time since it closed.
    """
    if torrent.seeded_in_window_seconds is not None:
        return torrent.seeded_in_window_seconds
    end = duty_window_end(torrent, policy)
    if end is None or now <= end:
        return torrent.seeded_seconds
    return max(0.0, torrent.seeded_seconds - (now - end).total_seconds())


def may_stop(torrent: TorrentDuty, policy: SeedingPolicy, now: datetime) -> Verdict:
    """May the torrent be stopped or removed?

    Promises: never for a snatched torrent with less than `min_seed_hours` seeded inside
    its window, nor one still downloading, nor one the tracker still lists as unsatisfied.
    A torrent that missed its window stays a hit-and-run; it keeps seeding unless the
    store proves enough seeding inside the window.
    """
    if not torrent.snatched:
        return Verdict.allow(f"{torrent.hash}: never snatched, no seeding duty")
    if torrent.completed_at is None:
        return Verdict.deny(
            f"{torrent.hash}: snatched but not complete; must finish and seed "
            f"{policy.min_seed_hours:g} h"
        )
    if torrent.tracker_unsatisfied:
        return Verdict.deny(f"{torrent.hash}: the tracker still lists it as unsatisfied")
    seeded_h = seeded_in_window(torrent, policy, now) / 3600
    if seeded_h < policy.min_seed_hours:
        return Verdict.deny(
            f"{torrent.hash}: seeded {seeded_h:.1f} h < {policy.min_seed_hours:g} h "
            f"required {_window_note(torrent, policy, now)}"
        )
    return Verdict.allow(
        f"{torrent.hash}: seeding duty met, {seeded_h:.1f} h ≥ {policy.min_seed_hours:g} h "
        f"within {policy.window_days:g} days"
    )


def _window_note(torrent: TorrentDuty, policy: SeedingPolicy, now: datetime) -> str:
    end = duty_window_end(torrent, policy)
    assert end is not None  # only asked about completed torrents, which have a window
    if now <= end:
        return f"(window closes in {(end - now) / HOUR / 24:.1f} days)"
    return f"(window closed {(now - end) / HOUR / 24:.1f} days ago: hit-and-run, keep seeding)"


def grab_capacity(unsat_count: int | None, unsat_limit: int | None,
                  policy: SeedingPolicy) -> int:
    """How many more torrents may be snatched: limit - margin - count, never negative.

    `unsat_count` must include grabs queued since the tracker was read. An unknown count
    or limit (an unreadable answer) leaves no room: acquisition and the status pages judge
    with the same numbers.
    """
    if unsat_count is None or unsat_limit is None:
        return 0
    if unsat_count < 0:
        raise ValueError("unsatisfied count cannot be negative")
    return max(0, unsat_limit - policy.unsat_margin - unsat_count)


@dataclass(frozen=True)
class LiftShareLimits:
    """Set the torrent's own share limits to "no limit", so a global "pause at ratio X"
    or "at seeding time Y" in the client cannot stop it again."""

    hash: str
    reason: str


@dataclass(frozen=True)
class ResumeTorrent:
    """Resume (qBittorrent 5: start) a paused or stopped torrent."""

    hash: str
    reason: str


@dataclass(frozen=True)
class ForceStartTorrent:
    """Force-start a torrent, so it runs whatever the client's queue limits say."""

    hash: str
    reason: str


@dataclass(frozen=True)
class UnforceTorrent:
    """Take back a force-start of ours: the torrent returns under the client's queue."""

    hash: str
    reason: str


TorrentAction = LiftShareLimits | ResumeTorrent | ForceStartTorrent | UnforceTorrent


def duty_of(torrent: TorrentSnapshot) -> TorrentDuty:
    """The torrent's seeding duty as the client's own figures show it. Snatched is
    assumed (a watched torrent came from the tracker), so the doubt protects it."""
    return TorrentDuty(
        hash=torrent.hash,
        completed_at=torrent.completion_on,
        seeded_seconds=float(torrent.seeding_time),
        added_at=torrent.added_on,
    )


def keep_duty(
    torrents: Iterable[TorrentSnapshot],
    duties: Mapping[str, TorrentDuty],
    policy: SeedingPolicy,
    now: datetime,
    guard_frozen: bool,
    forced_by_us: Set[str] = frozenset(),
) -> tuple[TorrentAction, ...]:
    """What keeps every complete torrent under its seeding duty seeding.

    Promises, for a complete torrent that `may_stop` refuses (one missing from `duties`
    counts as under duty), whatever `guard_frozen` says: paused or stopped → its share
    limits lifted, then resumed; queued by the client → share limits lifted, then
    force-started. A torrent in `forced_by_us` that is still forced is un-forced only
    when the guard is thawed and `may_stop` allows. Incomplete torrents are left to the
    download side. Nothing here ever pauses, stops or removes a torrent.
    """
    actions: list[TorrentAction] = []
    for torrent in torrents:
        verdict = _duty_verdict(torrent, duties, policy, now)
        if torrent.is_complete and not verdict.allowed:
            actions += _keep_going(torrent, verdict)
        elif (torrent.hash in forced_by_us and torrent.forced and verdict.allowed
              and not guard_frozen):
            actions.append(UnforceTorrent(torrent.hash, (
                f"{verdict.reason}; ratio guard thawed: our force-start is no longer "
                "needed, back under the client's queue")))
    return tuple(actions)


def _duty_verdict(
    torrent: TorrentSnapshot, duties: Mapping[str, TorrentDuty], policy: SeedingPolicy,
    now: datetime,
) -> Verdict:
    duty = duties.get(torrent.hash)
    if duty is None:
        return Verdict.deny(f"{torrent.hash}: seeding duty unknown, kept seeding")
    return may_stop(duty, policy, now)


def _keep_going(torrent: TorrentSnapshot, verdict: Verdict) -> list[TorrentAction]:
    held = f"under seeding duty ({verdict.reason}) but the client had it {torrent.raw_state}"
    if torrent.state is TorrentState.PAUSED:
        return [LiftShareLimits(torrent.hash, f"{held}: no share limit may stop it again"),
                ResumeTorrent(torrent.hash, f"{held}: resume")]
    if torrent.state is TorrentState.QUEUED:
        return [LiftShareLimits(torrent.hash, f"{held}: no share limit may stop it again"),
                ForceStartTorrent(torrent.hash, f"{held}: force-start past the queue")]
    return []
