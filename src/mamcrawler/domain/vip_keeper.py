"""VIP keeper (R3): keep VIP alive, and spend bonus points before the cap wastes them.

Costs and limits come from reference/mam-api.md: 1,250 points per VIP week, automated
buys of at least one week, total VIP of about 90 days at most, upload credit at 500 points
per GB, points capped at 99,999. No official list exists, so every number is a policy field.

Class rules (assumptions, all policy fields; names compare case-insensitively):
- Only Power User and VIP may buy VIP. The reference does not say who may buy; the site's
  store sells VIP from Power User up, and a lapsed VIP drops back to Power User. "User" and
  "Mouse" are left out: a refused automated buy helps nobody, and they have no VIP to keep.
- Elite VIP, Elite, Supporter and staff classes keep VIP-equivalent status without expiry,
  so they never need a renewal. The staff names (Moderator, Sr. Moderator, Administrator,
  SysOp, Dev) are guesses; the reference only lists "…".
- Any other class, including names the policy does not know, buys nothing; if its VIP is
  about to end the decision asks for the person's attention.
- For class VIP a missing `vip_until` means the expiry is unknown (nothing is bought, the
  person is told); for a Power User it means "not VIP" and VIP is only started when
  `buy_when_not_vip` is set. A `vip_until` in the past is a lapse and is renewed.

The decision is pure: account snapshot, policy and `now` in; actions with reasons out.
The shell carries them out in order, stops at the first that fails, whose answer is lost
or whose cost is not as expected (`vip_purchase`), and records what happened. From those
records it hands back the keeper's recent VIP purchases: the tracker may show one in
`vip_until` late or never, and while one is not shown no more VIP is bought (it counts
towards `max_vip_days`). A recorded price mismatch stops all buying until the person
confirms the prices (`price_confirmed_at`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from mamcrawler.domain.records import AccountStats

BUY_VIP = "buy_vip"
BUY_UPLOAD_CREDIT = "buy_upload_credit"

GIB = 2**30  # the store's "GB" is taken as GiB, the unit the site shows traffic in
WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)


def _class_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in names)


@dataclass(frozen=True)
class VipPolicy:
    """Settings of the VIP keeper. Points are bonus points, days are calendar days."""

    renew_threshold_days: float = 30
    points_reserve: int = 1_000  # never spent by the keeper
    cost_per_week: int = 1_250
    max_vip_days: int = 90  # total VIP left after a buy never exceeds this
    points_cap: int = 99_999
    # Spend upload credit once points reach cap - margin. The margin is room for the points
    # earned while buying is stopped (a price mismatch waits for the person's confirmation,
    # an outage, a bonus event): about 6 days at 4,000 a day. The simulated year lost
    # points at the cap with 5,000 (issue 13).
    cap_margin: int = 25_000
    upload_credit_cost_per_gb: int = 500
    max_upload_gb_per_buy: int = 100
    buy_when_not_vip: bool = False
    reflect_grace_hours: float = 12  # a VIP buy not shown in vip_until after this: attention
    price_tolerance_points: int = 100  # a purchase may cost this much more or less
    price_confirmed_at: datetime | None = None  # price mismatches up to then are resolved
    emergency_upload_credit: bool = True  # in a ratio emergency, buy credit to recover
    emergency_target_ratio: float = 1.05  # keep equal to the ratio guard's recovery level
    buy_classes: frozenset[str] = field(
        default_factory=lambda: _class_set({"Power User", "VIP"})
    )
    timed_vip_classes: frozenset[str] = field(default_factory=lambda: _class_set({"VIP"}))
    permanent_classes: frozenset[str] = field(
        default_factory=lambda: _class_set(
            {"Elite VIP", "Elite", "Supporter", "Moderator", "Sr. Moderator",
             "Administrator", "SysOp", "Dev"}
        )
    )

    def __post_init__(self) -> None:
        for name in ("buy_classes", "timed_vip_classes", "permanent_classes"):
            object.__setattr__(self, name, _class_set(getattr(self, name)))
        if self.cost_per_week <= 0 or self.upload_credit_cost_per_gb <= 0:
            raise ValueError("costs must be positive")
        if self.points_reserve < 0 or self.cap_margin < 0 or self.max_upload_gb_per_buy < 0:
            raise ValueError("reserve, cap margin and upload limit must not be negative")
        if not 0 <= self.renew_threshold_days or self.max_vip_days < 7:
            raise ValueError("threshold must be >= 0 and the VIP maximum at least a week")
        if not 0 <= self.reflect_grace_hours or self.price_tolerance_points < 0:
            raise ValueError("the grace to show a purchase and the price tolerance must not "
                             "be negative")

    def may_buy(self, class_name: str) -> bool:
        return _norm(class_name) in self.buy_classes and not self.is_permanent(class_name)

    def is_permanent(self, class_name: str) -> bool:
        return _norm(class_name) in self.permanent_classes

    @property
    def full_renewal_cost(self) -> int:
        """What the longest allowed buy costs: the points kept back for the next renewal."""
        return (timedelta(days=self.max_vip_days) // WEEK) * self.cost_per_week


def _norm(class_name: str) -> str:
    return class_name.strip().casefold()


@dataclass(frozen=True)
class BuyVip:
    """Buy `weeks` of VIP for `cost` points; `days_after` is the VIP left afterwards."""

    weeks: int
    cost: int
    days_after: float
    reason: str
    kind: ClassVar[str] = BUY_VIP

    @property
    def params(self) -> dict[str, float]:
        """The numbers to record with the decision."""
        return {"weeks": self.weeks, "cost": self.cost, "days_after": self.days_after}

    def expected_until(self, decided_at: datetime) -> datetime:
        """The VIP end the tracker should show once this buy (decided then) is applied."""
        return decided_at + self.days_after * DAY


@dataclass(frozen=True)
class BuyUploadCredit:
    """Buy `gb` GB of upload credit for `cost` points."""

    gb: int
    cost: int
    reason: str
    kind: ClassVar[str] = BUY_UPLOAD_CREDIT

    @property
    def params(self) -> dict[str, float]:
        return {"gb": self.gb, "cost": self.cost}


Purchase = BuyVip | BuyUploadCredit

# The site dates a purchase by its own clock and may round the end it shows.
REFLECT_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class VipPurchase:
    """A VIP purchase the keeper made (or may have made): when, how many weeks, and the VIP
    end the tracker should show once it is applied."""

    at: datetime
    weeks: int
    expected_until: datetime


@dataclass(frozen=True)
class PriceMismatch:
    """A purchase whose cost was not what the keeper expected (or could not be checked)."""

    at: datetime
    detail: str


def purchases_stopped(
    mismatch: PriceMismatch | None, policy: VipPolicy, now: datetime
) -> str | None:
    """Why the keeper must not buy (the newest price mismatch is not confirmed), or None.

    A confirmation counts only for mismatches up to its time, and only once that time has
    come: a date in the future must not switch the check off in advance.
    """
    if mismatch is None:
        return None
    confirmed = policy.price_confirmed_at
    if confirmed is not None and mismatch.at <= confirmed <= now:
        return None
    reason = (f"purchases stopped since {mismatch.at:%Y-%m-%d %H:%M} UTC: {mismatch.detail}. "
              "Check the bonus store prices on the site, then set VIP_PRICE_CONFIRMED_AT "
              "to the time you checked")
    if confirmed is not None and confirmed > now:
        reason += f" (VIP_PRICE_CONFIRMED_AT {confirmed:%Y-%m-%d %H:%M} is in the future)"
    elif confirmed is not None:
        reason += f" (VIP_PRICE_CONFIRMED_AT {confirmed:%Y-%m-%d %H:%M} is before it)"
    return reason


def not_yet_shown(
    vip_until: datetime | None, purchases: Iterable[VipPurchase], now: datetime
) -> tuple[VipPurchase, ...]:
    """The purchases `vip_until` does not show yet, oldest first, leaving out those whose
    VIP would have ended by `now` anyway (they can no longer push VIP past the maximum)."""
    return tuple(sorted(
        (p for p in purchases if p.expected_until > now
         and (vip_until is None or vip_until < p.expected_until - REFLECT_SLACK)),
        key=lambda p: p.at))


@dataclass(frozen=True)
class VipDecision:
    """What to buy now (in order), why, and whether the person must be told."""

    actions: tuple[Purchase, ...]
    reasons: tuple[str, ...]
    attention: bool  # VIP is at risk and the keeper cannot fix it on its own

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def decide(
    account: AccountStats,
    policy: VipPolicy,
    now: datetime,
    *,
    ratio_emergency: bool,
    in_flight: Iterable[VipPurchase] = (),
    price_mismatch: PriceMismatch | None = None,
) -> VipDecision:
    """Decide today's purchases: a VIP renewal if due, then upload credit if worthwhile.

    `in_flight` are the keeper's recent VIP purchases that may have gone through; those
    `vip_until` already shows are ignored. `price_mismatch` is the newest recorded one;
    until it is confirmed nothing is bought and the person is told.

    Promises: VIP is bought in whole weeks (at least one), only when due, never while an
    earlier purchase is not shown yet, never past `max_vip_days` from `now`; purchases
    never take points below `points_reserve` at the expected prices; upload credit also
    leaves the points for the next full renewal. A ratio emergency never blocks a renewal.
    `now` and `account.vip_until` are UTC. Points that are not a finite number of at least
    zero are unreadable: nothing is bought and the person is told.
    """
    if not (math.isfinite(account.bonus_points) and account.bonus_points >= 0):
        return VipDecision((), (
            f"points unreadable ({account.bonus_points!r}): nothing bought until the "
            "tracker reports a real number",), True)
    pending = not_yet_shown(account.vip_until, in_flight, now)
    vip_action, vip_reason, attention = _renewal(account, policy, now, ratio_emergency, pending)
    points_left = account.bonus_points - (vip_action.cost if vip_action else 0)
    upload_action, upload_reason = _upload_credit(
        account, policy, points_left, _keep_back(account.class_name, policy), ratio_emergency
    )
    actions = tuple(a for a in (vip_action, upload_action) if a is not None)
    stopped = purchases_stopped(price_mismatch, policy, now)
    if stopped is not None:
        held = "; ".join(a.reason for a in actions) or vip_reason
        return VipDecision((), (stopped, f"not bought: {held}" if actions else held), True)
    return VipDecision(actions, (vip_reason, upload_reason), attention)


def _renewal(
    account: AccountStats,
    policy: VipPolicy,
    now: datetime,
    ratio_emergency: bool,
    pending: tuple[VipPurchase, ...],
) -> tuple[BuyVip | None, str, bool]:
    cls = account.class_name
    if policy.is_permanent(cls):
        return None, f"class {cls} keeps VIP-equivalent status for good; no renewal needed", False
    remaining = _remaining(account.vip_until, now)
    threshold = timedelta(days=policy.renew_threshold_days)
    if not policy.may_buy(cls):
        at_risk = remaining is not None and remaining <= threshold
        reason = f"class {cls} may not buy VIP; nothing bought"
        if at_risk:
            reason += f" although VIP ends in {_days(remaining)} days"
        return None, reason, at_risk
    if pending:
        return _waiting(pending, account.vip_until, policy, now)
    if remaining is None:
        if _norm(cls) in policy.timed_vip_classes:
            return None, f"class {cls} but no VIP expiry reported; not buying blindly", True
        if not policy.buy_when_not_vip:
            return None, f"class {cls} is not VIP; starting VIP is off by policy", False
        remaining, status = timedelta(0), f"class {cls} is not VIP and policy starts VIP"
    elif account.vip_until is not None and account.vip_until < now:
        status = f"VIP lapsed {_days(now - account.vip_until)} days ago"
    else:
        status = f"VIP has {_days(remaining)} days left"
    if remaining > threshold:
        return None, (
            f"{status} > renewal threshold {policy.renew_threshold_days:g} days; no renewal"
        ), False
    return _renewal_buy(account.bonus_points, remaining, status, policy, ratio_emergency)


def _renewal_buy(
    points: float,
    remaining: timedelta,
    due: str,
    policy: VipPolicy,
    ratio_emergency: bool,
) -> tuple[BuyVip | None, str, bool]:
    room_weeks = (timedelta(days=policy.max_vip_days) - remaining) // WEEK
    spare = points - policy.points_reserve
    affordable_weeks = math.floor(spare / policy.cost_per_week) if spare > 0 else 0
    if room_weeks < 1:
        return None, f"{due}; one more week would pass the {policy.max_vip_days}-day maximum", False
    if affordable_weeks < 1:
        return None, (
            f"{due}, renewal due but points {points:,.0f} minus reserve "
            f"{policy.points_reserve:,} do not cover one week at {policy.cost_per_week:,}"
        ), True
    weeks = min(room_weeks, affordable_weeks)
    cost = weeks * policy.cost_per_week
    days_after = remaining + weeks * WEEK
    reason = (
        f"{due}, within threshold {policy.renew_threshold_days:g} days: buy {weeks} week(s) for "
        f"{cost:,} points ({points:,.0f} → {points - cost:,.0f}, reserve "
        f"{policy.points_reserve:,}), VIP then {_days(days_after)} of max "
        f"{policy.max_vip_days} days"
    )
    if weeks < room_weeks:
        reason += f"; {room_weeks} week(s) would fit but points allow {weeks}"
    if ratio_emergency:
        reason += "; ratio emergency does not block VIP renewal"
    return BuyVip(weeks, cost, days_after / DAY, reason), reason, False


def _waiting(
    pending: tuple[VipPurchase, ...], vip_until: datetime | None, policy: VipPolicy,
    now: datetime,
) -> tuple[None, str, bool]:
    first, last = pending[0], pending[-1]
    shown = f"{vip_until:%Y-%m-%d %H:%M}" if vip_until else "no VIP end"
    reason = (
        f"VIP purchase of {first.weeks} week(s) at {first.at:%Y-%m-%d %H:%M} UTC not yet "
        f"shown (VIP should end {last.expected_until:%Y-%m-%d %H:%M}, tracker shows "
        f"{shown}): no more VIP bought until it shows; it counts towards the "
        f"{policy.max_vip_days}-day maximum"
    )
    if len(pending) > 1:
        reason += f" ({len(pending)} purchases not shown)"
    late = now - first.at
    overdue = late > timedelta(hours=policy.reflect_grace_hours)
    if overdue:
        reason += (f"; still not shown after {late / timedelta(hours=1):.1f} hours: check "
                   "VIP and points on the site")
    return None, reason, overdue


def _keep_back(class_name: str, policy: VipPolicy) -> int:
    """Points upload credit must leave: the reserve, plus a full renewal if VIP is bought."""
    renewal = policy.full_renewal_cost if policy.may_buy(class_name) else 0
    return policy.points_reserve + renewal


def _upload_credit(
    account: AccountStats,
    policy: VipPolicy,
    points: float,
    keep_back: int,
    ratio_emergency: bool,
) -> tuple[BuyUploadCredit | None, str]:
    spare = points - keep_back
    spare_gb = math.floor(spare / policy.upload_credit_cost_per_gb) if spare > 0 else 0
    spend_level = policy.points_cap - policy.cap_margin
    motives: list[str] = []
    wanted_gb = 0
    if points >= spend_level:
        wanted_gb = spare_gb
        motives.append(f"points {points:,.0f} ≥ {spend_level:,} (cap {policy.points_cap:,})")
    if ratio_emergency and policy.emergency_upload_credit:
        shortfall = _shortfall_bytes(account, policy.emergency_target_ratio)
        if shortfall > 0:
            wanted_gb = max(wanted_gb, math.ceil(shortfall / GIB))
            motives.append(
                f"ratio emergency: {shortfall / GIB:,.2f} GiB short of ratio "
                f"{policy.emergency_target_ratio:g}"
            )
    if not motives:
        return None, f"points {points:,.0f} below spend level {spend_level:,}; no upload credit"
    gb = min(wanted_gb, spare_gb, policy.max_upload_gb_per_buy)
    why = " and ".join(motives)
    if gb < 1:
        return None, (
            f"{why}, but only {max(spare, 0):,.0f} points above the {keep_back:,} kept back "
            f"(reserve and next renewal): no whole GB at {policy.upload_credit_cost_per_gb}"
        )
    cost = gb * policy.upload_credit_cost_per_gb
    reason = (
        f"{why}: buy {gb} GB upload credit for {cost:,} points "
        f"({points:,.0f} → {points - cost:,.0f}, {keep_back:,} kept back)"
    )
    return BuyUploadCredit(gb, cost, reason), reason


def _shortfall_bytes(account: AccountStats, target_ratio: float) -> int:
    return math.ceil(target_ratio * account.downloaded_bytes - account.uploaded_bytes)


def _remaining(vip_until: datetime | None, now: datetime) -> timedelta | None:
    if vip_until is None:
        return None
    return max(vip_until - now, timedelta(0))


def _days(span: timedelta) -> str:
    return f"{span / DAY:.1f}"
