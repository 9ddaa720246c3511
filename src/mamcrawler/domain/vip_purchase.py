"""After a purchase: did it go through, and did it cost what the keeper expected?

Pure judgements from the account read before a purchase and the numbers after it (the
store's reply or a fresh account read). The shell records what they say.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import (
    BUY_UPLOAD_CREDIT,
    BUY_VIP,
    GIB,
    BuyUploadCredit,
    BuyVip,
    Purchase,
    VipPolicy,
)

APPLIED = "applied"
NOT_APPLIED = "not_applied"
UNCLEAR = "unclear"
PRICE_OK = "price_ok"
PRICE_MISMATCH = "price_mismatch"
PRICE_UNCHECKED = "price_unchecked"
STOPPING = (PRICE_MISMATCH, PRICE_UNCHECKED)  # outcomes that stop the keeper buying


@dataclass(frozen=True)
class PriceCheck:
    """What a purchase cost against what the keeper expected, with the numbers."""

    status: str  # PRICE_OK, PRICE_MISMATCH or PRICE_UNCHECKED
    expected: int
    charged: float | None
    points_after: float | None  # the reading judged by
    reason: str

    @property
    def ok(self) -> bool:
        return self.status == PRICE_OK


def check_price(
    action: Purchase, points_before: float, points_after: Iterable[float | None],
    policy: VipPolicy,
) -> PriceCheck:
    """Compare the points a purchase took with its expected cost.

    `points_after` are readings taken after it (the store's reply, a fresh account read),
    unknown ones as None; the first within `policy.price_tolerance_points` of the expected
    fall counts (points earned or a stale reading in between make a single number
    unreliable). None readable: PRICE_UNCHECKED. Points are never believed to have fallen
    by more or less than the tolerance allows.
    """
    known = [p for p in points_after if p is not None and math.isfinite(p)]
    units, unit, price = (
        (action.weeks, "week", policy.cost_per_week) if isinstance(action, BuyVip)
        else (action.gb, "GB", policy.upload_credit_cost_per_gb))
    what = f"{action.kind} {units} {unit}(s)"
    if not known:
        return PriceCheck(PRICE_UNCHECKED, action.cost, None, None, (
            f"{what}: points after the purchase unknown, so its cost ({action.cost:,} "
            "expected) could not be checked"))
    for after in known:
        charged = points_before - after
        if abs(charged - action.cost) <= policy.price_tolerance_points:
            return PriceCheck(PRICE_OK, action.cost, charged, after, (
                f"{what} cost {charged:,.0f} points as expected ({action.cost:,}); "
                f"points {points_before:,.0f} → {after:,.0f}"))
    after = known[-1]
    charged = points_before - after
    return PriceCheck(PRICE_MISMATCH, action.cost, charged, after, (
        f"{what} took {charged:,.0f} points, expected {action.cost:,} "
        f"({charged / units:,.0f} per {unit}, expected {price:,}; tolerance "
        f"{policy.price_tolerance_points:,}); points {points_before:,.0f} → {after:,.0f}"))


@dataclass(frozen=True)
class ChargedPrice:
    """A recorded price mismatch: when, which purchase, how many units, what it took."""

    at: datetime
    action: str  # BUY_VIP or BUY_UPLOAD_CREDIT
    units: int  # weeks or GB
    charged: float | None  # None: the cost could not be checked


_PRICE_FIELDS = {BUY_VIP: "cost_per_week", BUY_UPLOAD_CREDIT: "upload_credit_cost_per_gb"}


def confirmed_prices(
    policy: VipPolicy, mismatches: Iterable[ChargedPrice], now: datetime
) -> VipPolicy:
    """The policy with the store prices the person has confirmed.

    Once `price_confirmed_at` has come and is at or after a price mismatch, the price that
    purchase was charged (per week or per GB) is the expected price from then on: the
    person checked the store and accepted it. For each kind of purchase the newest such
    mismatch with a known, positive charge counts; mismatches after the confirmation (not
    confirmed yet) and unchecked ones teach nothing, so a price that changes again still
    stops buying. Times without a zone are UTC.
    """
    confirmed = policy.price_confirmed_at
    if confirmed is None or _utc(confirmed) > _utc(now):
        return policy
    learned: dict[str, int] = {}
    for m in sorted(mismatches, key=lambda m: _utc(m.at)):
        name = _PRICE_FIELDS.get(m.action)
        if (name is None or _utc(m.at) > _utc(confirmed) or m.units < 1 or m.charged is None
                or not math.isfinite(m.charged)):
            continue
        per_unit = round(m.charged / m.units)
        if per_unit > 0:
            learned[name] = per_unit  # newest last
    return dataclasses.replace(policy, **learned) if learned else policy


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PurchaseOutcome:
    """Whether a purchase whose answer was lost went through."""

    status: str  # APPLIED, NOT_APPLIED or UNCLEAR
    reason: str

    @property
    def may_retry(self) -> bool:
        """Only a purchase that clearly did not happen may be tried again now."""
        return self.status == NOT_APPLIED


def purchase_outcome(
    action: Purchase, before: AccountStats, after: AccountStats
) -> PurchaseOutcome:
    """Judge from the account read before the purchase and re-read after it.

    VIP counts as bought when `vip_until` moved later; upload credit when points fell by at
    least half its cost and uploaded bytes rose by at least half the credit (points earned
    and bytes seeded in between make exact matches unreliable). Mixed signals are UNCLEAR:
    the shell must not repeat, and the next daily decision starts from fresh numbers.
    """
    if not isinstance(action, BuyVip | BuyUploadCredit):
        raise TypeError(f"not a purchase: {action!r}")
    cost = action.cost
    points_drop = before.bonus_points - after.bonus_points
    paid = points_drop >= cost / 2
    points = f"points {before.bonus_points:,.0f} → {after.bonus_points:,.0f} (cost {cost:,})"
    if isinstance(action, BuyVip):
        extended = after.vip_until is not None and (
            before.vip_until is None or after.vip_until > before.vip_until
        )
        vip = f"VIP until {before.vip_until} → {after.vip_until}"
        if extended:
            return PurchaseOutcome(APPLIED, f"VIP buy went through: {vip}, {points}")
        if not paid:
            return PurchaseOutcome(NOT_APPLIED, f"VIP buy did not happen: {vip}, {points}")
        return PurchaseOutcome(UNCLEAR, f"VIP buy unclear, points fell but {vip}; {points}")
    credit = action.gb * GIB
    gained = after.uploaded_bytes - before.uploaded_bytes
    credited = gained >= credit / 2
    upload = f"uploaded +{gained / GIB:,.2f} GiB (bought {action.gb} GB)"
    if paid and credited:
        return PurchaseOutcome(APPLIED, f"upload credit went through: {upload}, {points}")
    if not paid and not credited:
        return PurchaseOutcome(NOT_APPLIED, f"upload credit did not happen: {upload}, {points}")
    return PurchaseOutcome(UNCLEAR, f"upload credit unclear: {upload}, {points}")
