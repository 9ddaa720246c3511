"""Ratio guard (R4): freeze paid downloads at the floor, thaw above the recovery level.

A two-state machine with hysteresis. At or below `floor` it freezes; above `recovery` it
thaws; in between it keeps whatever state it is in, so a ratio hovering near the floor
never makes it flap. An unknown-because-infinite ratio (nothing downloaded) is healthy.
The state is a frozen dataclass the shell stores, so it survives restarts.

While frozen, every step asks for the keep-seeding actions (`keep_seeding`);
`torrent_actions` names the torrents they concern in one look at the client.

Also here: whether one paid grab is affordable (`may_grab`), time to recovery, and points
earned vs spent. Whether a release is free at all is `freeness.freeness`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from mamcrawler.domain.decision import Verdict
from mamcrawler.domain.records import Release
from mamcrawler.domain.seeding import ForceStartTorrent, ResumeTorrent
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState


class GuardStatus(StrEnum):
    """The guard's two states (the store keeps the same words in transitions)."""

    FROZEN = "frozen"
    THAWED = "thawed"


FROZEN, THAWED = GuardStatus.FROZEN, GuardStatus.THAWED



@dataclass(frozen=True)
class GuardPolicy:
    floor: float = 1.00
    recovery: float = 1.05
    raised_upload_slots: int = 200  # global upload slots while frozen, to earn upload faster
    paid_size_margin: float = 1.5  # a paid grab needs buffer >= size * margin

    def __post_init__(self) -> None:
        if not 0 < self.floor < self.recovery:
            raise ValueError("need 0 < floor < recovery for hysteresis")
        if self.paid_size_margin < 1:
            raise ValueError("paid_size_margin below 1 would let a grab cross the floor")


@dataclass(frozen=True)
class GuardState:
    """What the guard remembers between runs."""

    frozen: bool = False
    since: datetime | None = None  # when the current state began; None before any change
    last_ratio: float | None = None
    last_checked: datetime | None = None

    @property
    def name(self) -> GuardStatus:
        return FROZEN if self.frozen else THAWED


@dataclass(frozen=True)
class Transition:
    from_state: GuardStatus
    to_state: GuardStatus
    ratio: float | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class ResumeSeeding:
    """Set going every complete torrent the client holds paused, stopped or queued."""

    reason: str


@dataclass(frozen=True)
class RaiseUploadSlots:
    """Raise the client's upload slots to at least `slots` (the old values are kept)."""

    slots: int
    reason: str


@dataclass(frozen=True)
class ForceStartStalled:
    """Force-start every download that makes no progress."""

    reason: str


@dataclass(frozen=True)
class RestoreSettings:
    """Put back the client settings saved when the guard froze."""

    reason: str


GuardAction = ResumeSeeding | RaiseUploadSlots | ForceStartStalled | RestoreSettings


@dataclass(frozen=True)
class GuardStep:
    new_state: GuardState
    transition: Transition | None
    actions: tuple[GuardAction, ...]
    reason: str


def ratio_text(ratio: float | None) -> str:
    """Two decimals when exact, up to six when two would hide the difference."""
    if ratio is None:
        return "∞"
    if not math.isfinite(ratio) or round(ratio, 2) == ratio:
        return f"{ratio:.2f}"
    text = f"{ratio:.6f}"
    return text[: max(len(text.rstrip("0")), text.index(".") + 3)]


def step(
    state: GuardState, ratio: float | None, now: datetime, policy: GuardPolicy
) -> GuardStep:
    """Advance the guard by one ratio reading.

    Promises: frozen after this step iff the last reading outside (floor, recovery] was at
    or below the floor; no transition while the reading stays strictly between floor and
    recovery. While frozen, every step repeats the keep-seeding actions (they are
    idempotent, and torrents may have stalled or paused since the last run).
    """
    shown = ratio_text(ratio)
    if ratio is not None and (math.isnan(ratio) or ratio < 0):
        new_state = replace(state, last_checked=now)
        reason = f"ratio reading {ratio!r} unusable; staying {state.name}"
        return _result(new_state, None, policy, reason)
    if ratio is not None and ratio <= policy.floor:
        target, why = True, f"ratio {shown} ≤ floor {ratio_text(policy.floor)}"
    elif ratio is None or ratio > policy.recovery:
        target, why = False, f"ratio {shown} > recovery {ratio_text(policy.recovery)}"
    else:
        target = state.frozen
        why = (
            f"ratio {shown} between floor {ratio_text(policy.floor)} and recovery "
            f"{ratio_text(policy.recovery)}"
        )
    new_state = GuardState(
        frozen=target,
        since=now if target != state.frozen else state.since,
        last_ratio=ratio,
        last_checked=now,
    )
    if target == state.frozen:
        return _result(new_state, None, policy, f"{why}: stays {new_state.name}")
    reason = f"{why}: {state.name} → {new_state.name}"
    transition = Transition(state.name, new_state.name, ratio, reason, now)
    return _result(new_state, transition, policy, reason)


def _result(
    new_state: GuardState, transition: Transition | None, policy: GuardPolicy, reason: str
) -> GuardStep:
    actions: tuple[GuardAction, ...]
    if new_state.frozen:
        actions = keep_seeding(policy, reason)
    elif transition is not None:
        actions = (RestoreSettings(reason),)
    else:
        actions = ()
    return GuardStep(new_state, transition, actions, reason)


def keep_seeding(policy: GuardPolicy, reason: str) -> tuple[GuardAction, ...]:
    """What a frozen guard asks for on every run (also when no new reading came in)."""
    return (
        ResumeSeeding(reason),
        RaiseUploadSlots(policy.raised_upload_slots, reason),
        ForceStartStalled(reason),
    )


def torrent_actions(
    actions: Iterable[GuardAction], torrents: Iterable[TorrentSnapshot],
    skip: Set[str] = frozenset(),
) -> tuple[ResumeTorrent | ForceStartTorrent, ...]:
    """The torrents the guard's actions concern, each with its own action.

    ResumeSeeding: a complete torrent paused or stopped is resumed, one the client queued
    is force-started (resuming would leave it queued). ForceStartStalled: a download
    that makes no progress is force-started. Torrents in `skip` (already handled this
    run) and the guard's other actions are left out.
    """
    torrents = [t for t in torrents if t.hash not in skip]
    found: list[ResumeTorrent | ForceStartTorrent] = []
    for action in actions:
        why = f"ratio guard frozen, every seed runs ({action.reason})"
        if isinstance(action, ResumeSeeding):
            for t in torrents:
                if t.is_complete and t.state is TorrentState.PAUSED:
                    found.append(ResumeTorrent(t.hash, f"{why}; the client had it {t.raw_state}"))
                elif t.is_complete and t.state is TorrentState.QUEUED:
                    found.append(ForceStartTorrent(
                        t.hash, f"{why}; the client had it {t.raw_state}: force past the queue"))
        elif isinstance(action, ForceStartStalled):
            found += [ForceStartTorrent(t.hash, f"{why}; download {t.raw_state}, no progress")
                      for t in torrents if t.state is TorrentState.STALLED]
    return tuple(found)


def upload_buffer_bytes(uploaded: int, downloaded: int, floor: float) -> int:
    """Bytes that can still be downloaded with the ratio staying at or above `floor`.

    That is floor(uploaded / floor) - downloaded, computed exactly (it may be negative).
    Downloading n <= buffer bytes keeps uploaded / (downloaded + n) >= floor.
    """
    return math.floor(Fraction(uploaded) / Fraction(floor)) - downloaded


def may_grab(
    release: Release,
    *,
    is_free: bool,
    state: GuardState,
    account_upload_buffer_bytes: int,
    policy: GuardPolicy,
) -> Verdict:
    """May this release be grabbed now, as far as the ratio is concerned?

    Free releases always may. A paid one may not while frozen, nor when its size is
    unknown, nor unless the buffer covers size x `paid_size_margin`. The caller passes a
    buffer (see `upload_buffer_bytes`) already reduced by paid downloads still in progress
    and by paid grabs queued earlier in the same run.
    """
    if is_free:
        return Verdict.allow(f"free release {release.id}: costs no ratio")
    if state.frozen:
        return Verdict.deny(f"paid release skipped: {_frozen_why(state, policy)}")
    if release.size_bytes <= 0:
        return Verdict.deny("paid release skipped: size unknown, cannot check the ratio cost")
    needed = math.ceil(release.size_bytes * Fraction(policy.paid_size_margin))
    buffer = account_upload_buffer_bytes
    numbers = (
        f"buffer {_gib(buffer)} GiB vs size {_gib(release.size_bytes)} GiB x "
        f"{policy.paid_size_margin:g} = {_gib(needed)} GiB"
    )
    if buffer >= needed:
        return Verdict.allow(f"paid release affordable: {numbers}")
    return Verdict.deny(f"paid release skipped: {numbers} would risk floor "
                        f"{ratio_text(policy.floor)}")


def _frozen_why(state: GuardState, policy: GuardPolicy) -> str:
    shown = ratio_text(state.last_ratio)
    if state.last_ratio is not None and state.last_ratio <= policy.floor:
        return f"ratio {shown} ≤ floor {ratio_text(policy.floor)}"
    return (
        f"ratio guard frozen, ratio {shown} not yet above recovery "
        f"{ratio_text(policy.recovery)}"
    )


def _gib(n: int) -> str:
    return f"{n / 2**30:,.2f}"


def hours_to_recovery(
    uploaded: int, downloaded: int, target_ratio: float, upload_rate_bytes_per_s: float
) -> float | None:
    """Hours until uploaded / downloaded reaches `target_ratio` at the current upload rate,
    assuming nothing more is downloaded. 0.0 if already there; None if never (no upload)."""
    missing = target_ratio * downloaded - uploaded
    if missing <= 0:
        return 0.0
    if upload_rate_bytes_per_s <= 0:
        return None
    return missing / upload_rate_bytes_per_s / 3600


@dataclass(frozen=True)
class PointsSnapshot:
    """Bonus points at one moment, and what known purchases cost since the snapshot before."""

    at: datetime
    points: float
    spent_since_previous: float = 0


@dataclass(frozen=True)
class PointsFlow:
    earned: float
    spent: float


def points_flow(snapshots: Iterable[PointsSnapshot]) -> PointsFlow:
    """Points earned and spent over chronologically ordered snapshots.

    Between two snapshots, earned = rise in points + known purchases. A fall that known
    purchases do not explain (a purchase made by hand) counts as spent, not as negative
    earning. Points lost to the cap are invisible here and count as neither.
    """
    ordered: Sequence[PointsSnapshot] = list(snapshots)
    earned = spent = 0.0
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.at < before.at:
            raise ValueError("snapshots must be in chronological order")
        explained = after.points - before.points + after.spent_since_previous
        earned += max(explained, 0.0)
        spent += after.spent_since_previous + max(-explained, 0.0)
    return PointsFlow(earned, spent)
