"""After a purchase: did it go through, and did it cost what the keeper expected?

Pure judgements from the account read before a purchase and the numbers after it (the
store's reply or a fresh account read). The shell records what they say.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import GIB, BuyUploadCredit, BuyVip, Purchase

APPLIED = "applied"
NOT_APPLIED = "not_applied"
UNCLEAR = "unclear"


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
