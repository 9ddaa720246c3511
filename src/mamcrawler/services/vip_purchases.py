"""Carrying out the VIP keeper's purchases: buy, check what was charged, record it all.

Every purchase is followed by a fresh account read: it tells what the purchase cost (the
store's reply alone may be stale or missing), whether VIP moved, and it becomes the
account snapshot the status pages show. The records are what the keeper is handed back
next time: its recent VIP purchases, and the newest price mismatch.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.adapters.mam import MamClient, TrackerError, TrackerPurchaseUncertain
from mamcrawler.adapters.mam.models import PurchaseResult
from mamcrawler.domain import vip_keeper, vip_purchase
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import (
    BuyUploadCredit,
    BuyVip,
    PriceMismatch,
    Purchase,
    VipPolicy,
    VipPurchase,
)
from mamcrawler.domain.vip_purchase import (
    PRICE_MISMATCH,
    STOPPING,
    UNCLEAR,
    ChargedPrice,
    PriceCheck,
)
from mamcrawler.store.models import AccountDecision

log = logging.getLogger("mamcrawler.account")

DONE = "done"
FAILED = "failed"
# Outcomes after which the site may have taken the points: they count as bought.
BOUGHT_OR_MAYBE = (DONE, vip_purchase.APPLIED, UNCLEAR, *STOPPING)
LOOK_BACK = timedelta(days=180)  # longer than any VIP the store sells


@dataclass(frozen=True)
class PurchaseRecord:
    action: Purchase
    outcome: str  # done, failed, applied, not_applied, unclear, price_mismatch, ...
    detail: str
    points_after: float | None = None
    numbers: dict = field(default_factory=dict)  # expected and charged points, for the record

    @property
    def stops_buying(self) -> bool:
        return self.outcome in STOPPING


@dataclass(frozen=True)
class PurchaseRun:
    records: list[PurchaseRecord]
    account_after: AccountStats | None  # the newest account read after a purchase


def _send(client: MamClient, action: Purchase) -> PurchaseResult:
    if isinstance(action, BuyVip):
        return client.buy_vip(action.weeks)
    if isinstance(action, BuyUploadCredit):
        return client.buy_upload_credit(action.gb)
    raise TypeError(f"the VIP keeper asked for an unknown purchase: {action!r}")


def _reread(client: MamClient) -> tuple[AccountStats | None, str]:
    try:
        return client.account_stats(), ""
    except TrackerError as exc:
        return None, f"could not re-read the account: {exc}"


def carry_out(client: MamClient, actions: tuple[Purchase, ...], before: AccountStats,
              policy: VipPolicy) -> PurchaseRun:
    """Buy in order, each checked against its expected cost; stop at the first failure, lost
    answer or price mismatch. Never repeats a purchase.

    An action of an unknown type is a programming error: TypeError before anything is bought.
    """
    for action in actions:
        if not isinstance(action, BuyVip | BuyUploadCredit):
            raise TypeError(f"the VIP keeper asked for an unknown purchase: {action!r}")
    done: list[PurchaseRecord] = []
    latest: AccountStats | None = None
    for action in actions:
        try:
            result = _send(client, action)
        except TrackerPurchaseUncertain as exc:
            # The answer was lost: read the account back to learn what happened.
            after, error = _reread(client)
            done.append(_lost_answer(action, before, after, policy,
                                     "; ".join(filter(None, [str(exc), error]))))
            latest = after or latest
            break
        except TrackerError as exc:
            done.append(PurchaseRecord(action, FAILED, str(exc)))
            break
        except Exception as exc:
            # Whether it was sent is unknown: record it as such rather than lose it.
            log.exception("VIP keeper purchase %s broke off", action.kind)
            done.append(PurchaseRecord(action, UNCLEAR,
                                       f"unexpected error: {type(exc).__name__}: {exc}"))
            break
        after, error = _reread(client)
        latest = after or latest
        readings = (result.points_left, after.bonus_points if after else None)
        price = vip_purchase.check_price(action, before.bonus_points, readings, policy)
        record = _checked(action, price, error)
        done.append(record)
        if not price.ok:
            break
        before = after or dataclasses.replace(before, bonus_points=record.points_after)
    return PurchaseRun(done, latest)


def _checked(action: Purchase, price: PriceCheck, reread_error: str) -> PurchaseRecord:
    numbers = {"expected_cost": price.expected, "charged": price.charged}
    detail = "; ".join(filter(None, [price.reason, reread_error]))
    if not price.ok:
        _warn(price)
    return PurchaseRecord(action, DONE if price.ok else price.status, detail,
                          price.points_after, numbers)


def _warn(price: PriceCheck) -> None:
    # Notifications do not exist yet: the log and the decision's attention flag tell.
    log.warning("VIP keeper: price %s: %s; all buying stops until VIP_PRICE_CONFIRMED_AT "
                "is set", "not checked" if price.charged is None else "mismatch", price.reason)


def _lost_answer(action: Purchase, before: AccountStats, after: AccountStats | None,
                 policy: VipPolicy, lost: str) -> PurchaseRecord:
    if after is None:
        return PurchaseRecord(action, UNCLEAR, lost)
    outcome = vip_purchase.purchase_outcome(action, before, after)
    detail = f"{lost}; {outcome.reason}"
    if outcome.status == vip_purchase.NOT_APPLIED:
        return PurchaseRecord(action, outcome.status, detail, after.bonus_points)
    # It went through (or points fell): it must have cost what was expected.
    price = vip_purchase.check_price(action, before.bonus_points, (after.bonus_points,), policy)
    numbers = {"expected_cost": price.expected, "charged": price.charged}
    if price.status == PRICE_MISMATCH:
        _warn(price)
        return PurchaseRecord(action, PRICE_MISMATCH, f"{detail}; {price.reason}",
                              after.bonus_points, numbers)
    return PurchaseRecord(action, outcome.status, detail, after.bonus_points, numbers)


def record_decision(session: Session, decision: vip_keeper.VipDecision,
                    purchases: list[PurchaseRecord], stats: AccountStats, decided_at: datetime,
                    done_at: datetime) -> None:
    """One row per action (or one "none" row); purchases are dated `done_at`, after the
    account snapshot they were decided on, so reports put their cost after it."""
    if not decision.actions:
        session.add(AccountDecision(at=decided_at, kind="vip_keeper", action="none",
                                    reason=decision.reason, outcome="nothing_to_do",
                                    points_before=stats.bonus_points,
                                    details={"attention": decision.attention}))
        return
    outcomes = {id(p.action): p for p in purchases}
    for action in decision.actions:
        purchase = outcomes.get(id(action))
        details = {**action.params, **(purchase.numbers if purchase else {}),
                   "attention": decision.attention or bool(purchase and purchase.stops_buying),
                   "detail": purchase.detail if purchase else
                   "an earlier purchase in this run did not complete"}
        if isinstance(action, BuyVip):
            details["expected_vip_until"] = action.expected_until(decided_at).isoformat()
        session.add(AccountDecision(
            at=done_at, kind="vip_keeper", action=action.kind, reason=action.reason,
            outcome=purchase.outcome if purchase else "not_attempted",
            points_before=stats.bonus_points,
            points_after=purchase.points_after if purchase else None, details=details))


def recorded_vip_buys(session: Session, now: datetime) -> tuple[VipPurchase, ...]:
    """The keeper's VIP purchases of the last months that may have gone through."""
    rows = session.scalars(select(AccountDecision).where(
        AccountDecision.kind == "vip_keeper", AccountDecision.action == vip_keeper.BUY_VIP,
        AccountDecision.outcome.in_(BOUGHT_OR_MAYBE), AccountDecision.at >= now - LOOK_BACK))
    return tuple(_vip_purchase(row) for row in rows)


def _vip_purchase(row: AccountDecision) -> VipPurchase:
    details = row.details or {}
    expected = details.get("expected_vip_until")
    # Rows from before `expected_vip_until` was recorded still carry `days_after`.
    until = (datetime.fromisoformat(expected) if expected
             else row.at + timedelta(days=float(details.get("days_after", 0))))
    return VipPurchase(row.at, int(details.get("weeks", 0)), until)


def last_price_mismatch(session: Session) -> PriceMismatch | None:
    """The newest purchase whose cost was wrong or could not be checked."""
    row = session.scalar(select(AccountDecision).where(
        AccountDecision.kind == "vip_keeper", AccountDecision.outcome.in_(STOPPING))
        .order_by(AccountDecision.at.desc(), AccountDecision.id.desc()).limit(1))
    if row is None:
        return None
    return PriceMismatch(row.at, (row.details or {}).get("detail") or row.reason)


def recorded_charges(session: Session, limit: int = 20) -> tuple[ChargedPrice, ...]:
    """The newest price mismatches with what they took, for `confirmed_prices`."""
    rows = session.scalars(select(AccountDecision).where(
        AccountDecision.kind == "vip_keeper", AccountDecision.outcome == PRICE_MISMATCH)
        .order_by(AccountDecision.at.desc(), AccountDecision.id.desc()).limit(limit))
    return tuple(_charge(row) for row in rows)


def _charge(row: AccountDecision) -> ChargedPrice:
    details = row.details or {}
    units = details.get("weeks" if row.action == vip_keeper.BUY_VIP else "gb", 0)
    charged = details.get("charged")
    return ChargedPrice(row.at, row.action, int(units or 0),
                        float(charged) if charged is not None else None)
