"""Whether grabbing a release costs ratio now, why, and how long that lasts (R6, R9).

Only what the tracker itself says about a release counts: a release found through another
indexer (Prowlarr) is paid, whatever that indexer claims, because its freeness cannot be
verified. A site-wide event counts only while it runs (`ends` compared with `now`), and
VIP-free only while the account's VIP has not expired. Freeness that can end (an event,
a personal freeleech, VIP) is marked time-limited, so a download still running when it
ends is counted as a possible cost (`possible_cost_bytes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mamcrawler.domain.records import Release

FREELEECH = "freeleech"
VIP_FREE_CLASSES = frozenset({"vip", "elite vip"})  # reference/mam-api.md: fl_vip is free
LASTING_VIP_CLASSES = frozenset({"elite vip"})  # VIP-equivalent without an expiry
TRACKER_SOURCE = "mam"


@dataclass(frozen=True)
class SiteEvent:
    """A site-wide event as read from the tracker: `ends` None means the end is unknown."""

    kind: str  # freeleech, bonus, multiplier
    ends: datetime | None = None
    starts: datetime | None = None

    def running(self, now: datetime) -> bool:
        started = self.starts is None or utc(self.starts) <= utc(now)
        return started and (self.ends is None or utc(now) < utc(self.ends))


@dataclass(frozen=True)
class AccountView:
    """What freeness needs to know of the account."""

    class_name: str
    vip_until: datetime | None = None


@dataclass(frozen=True)
class Freeness:
    free: bool
    reason: str
    time_limited: bool = False  # the freeness can end before the download does
    ends: datetime | None = None  # when it ends, if known (None with time_limited: unknown)


def running_events(events: tuple[SiteEvent, ...], kind: str, now: datetime
                   ) -> tuple[SiteEvent, ...]:
    return tuple(e for e in events if e.kind == kind and e.running(now))


def freeness(release: Release, account: AccountView, events: tuple[SiteEvent, ...],
             now: datetime) -> Freeness:
    """Is `release` free to download at `now`? Lasting reasons are preferred over
    time-limited ones; within those, the one lasting longest."""
    if release.source != TRACKER_SOURCE:
        return Freeness(False, f"found through {release.source}: freeness cannot be verified "
                               "on the tracker, counted paid")
    if release.free:
        return Freeness(True, "freeleech torrent")
    cls = account.class_name.strip().casefold()
    if release.vip_free and cls in LASTING_VIP_CLASSES:
        return Freeness(True, f"VIP-free for a {account.class_name} account")
    options: list[Freeness] = []
    for event in running_events(events, FREELEECH, now):
        until = f"until {event.ends:%Y-%m-%d %H:%M} UTC" if event.ends else "end unknown"
        options.append(Freeness(True, f"site-wide freeleech ({until})", True, event.ends))
    if release.personal_freeleech:
        options.append(Freeness(True, "personal freeleech (time-limited)", True, None))
    if release.vip_free and cls in VIP_FREE_CLASSES:
        if account.vip_until is not None and utc(account.vip_until) > utc(now):
            options.append(Freeness(True, f"VIP-free while VIP lasts (until "
                                          f"{account.vip_until:%Y-%m-%d %H:%M} UTC)",
                                    True, account.vip_until))
        elif not options:
            state = ("VIP expired" if account.vip_until is not None
                     else "VIP expiry unknown")
            return Freeness(False, f"VIP-free release but {state}: counted paid")
    if not options:
        return Freeness(False, "paid: not free on the tracker now")
    known = [o for o in options if o.ends is not None]
    return max(known, key=lambda o: utc(o.ends)) if known else options[0]  # type: ignore[arg-type]


def possible_cost_bytes(free: Freeness, remaining_bytes: int, eta_s: float | None,
                        now: datetime) -> int:
    """Bytes of a free download in progress that may still be charged: all that remain
    when its freeness can end before the download is expected to finish (unknown end,
    unknown finish), otherwise none."""
    if not free.free:
        return max(remaining_bytes, 0)
    if not free.time_limited or remaining_bytes <= 0:
        return 0
    if free.ends is None or eta_s is None:
        return remaining_bytes
    left_s = (utc(free.ends) - utc(now)).total_seconds()
    return 0 if eta_s < left_s else remaining_bytes


def utc(moment: datetime) -> datetime:
    """Records keep UTC; a naive value means UTC, never the machine's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
