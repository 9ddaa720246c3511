"""The lifecycles of a wanted book and of a download, with the moves allowed between states.

Values are the strings the store keeps, so a state compares equal to its stored text. The
shell moves a record only through `move`, which refuses a transition not listed here: a
download can never jump to `imported` without passing verification and import.
"""

from __future__ import annotations

from enum import StrEnum


class WantedStatus(StrEnum):
    WANTED = "wanted"
    SEARCHING = "searching"
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    DONE = "done"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"


class DownloadState(StrEnum):
    QUEUED = "queued"
    GRABBING = "grabbing"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"
    ABANDONED = "abandoned"
    REMOVED = "removed"
    CANCELLED = "cancelled"


W, D = WantedStatus, DownloadState

WANTED_MOVES: dict[WantedStatus, frozenset[WantedStatus]] = {
    W.WANTED: frozenset({W.SEARCHING, W.QUEUED, W.DONE, W.CANCELLED, W.ABANDONED}),
    W.SEARCHING: frozenset({W.WANTED, W.QUEUED, W.DONE, W.CANCELLED}),
    W.QUEUED: frozenset({W.DOWNLOADING, W.WANTED, W.ABANDONED, W.CANCELLED, W.DONE}),
    W.DOWNLOADING: frozenset({W.WANTED, W.DONE, W.ABANDONED, W.CANCELLED}),
    W.DONE: frozenset({W.WANTED}),  # a better edition, or the book vanished
    W.ABANDONED: frozenset({W.WANTED, W.CANCELLED}),
    W.CANCELLED: frozenset({W.WANTED}),
}

DOWNLOAD_MOVES: dict[DownloadState, frozenset[DownloadState]] = {
    D.QUEUED: frozenset({D.GRABBING, D.CANCELLED}),
    D.GRABBING: frozenset({D.DOWNLOADING, D.FAILED, D.ABANDONED, D.CANCELLED}),
    D.DOWNLOADING: frozenset({D.VERIFYING, D.FAILED, D.REMOVED, D.CANCELLED}),
    D.VERIFYING: frozenset({D.IMPORTING, D.DOWNLOADING, D.FAILED, D.CANCELLED}),
    D.IMPORTING: frozenset({D.IMPORTED, D.VERIFYING, D.DOWNLOADING, D.FAILED}),
    D.IMPORTED: frozenset(),
    D.FAILED: frozenset({D.GRABBING, D.ABANDONED, D.CANCELLED}),
    D.ABANDONED: frozenset({D.GRABBING, D.CANCELLED}),
    D.REMOVED: frozenset(),
    D.CANCELLED: frozenset(),
}

# Downloads that still hold their wanted book (it is not searched again meanwhile).
ACTIVE_DOWNLOADS = frozenset({D.GRABBING, D.DOWNLOADING, D.VERIFYING, D.IMPORTING})


class IllegalTransition(ValueError):
    """A state change the lifecycle does not allow."""


def move(current: str, target: str, moves: dict) -> str:
    """`target` when the lifecycle allows `current` → `target` (or they are equal)."""
    kind = type(next(iter(moves)))
    here, there = kind(current), kind(target)
    if here != there and there not in moves[here]:
        allowed = ", ".join(sorted(moves[here])) or "nothing (final)"
        raise IllegalTransition(f"{kind.__name__} {here} → {there} is not allowed; "
                                f"from {here}: {allowed}")
    return there


def move_download(current: str, target: str) -> DownloadState:
    return DownloadState(move(current, target, DOWNLOAD_MOVES))


def move_wanted(current: str, target: str) -> WantedStatus:
    return WantedStatus(move(current, target, WANTED_MOVES))
