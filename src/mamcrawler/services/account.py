"""The daily account check (R3, R6): read stats, keep VIP alive, refresh rules and events,
walk the VIP-pending list. Every decision is recorded with its reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import MamClient, SearchQuery, TrackerError, TrackerPurchaseUncertain
from mamcrawler.config import Settings
from mamcrawler.domain import ratio_guard, vip_keeper, vip_purchase
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import BuyUploadCredit, BuyVip, Purchase, VipPurchase
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AccountDecision, VipPending

from . import guard_store, rules
from .wanted import add_wanted

log = logging.getLogger("mamcrawler.account")

# Outcomes after which the site may have applied a purchase: they count as bought.
BOUGHT_OR_MAYBE = ("done", vip_purchase.APPLIED, vip_purchase.UNCLEAR)
LOOK_BACK = timedelta(days=180)  # longer than any VIP the store sells


def ratio_emergency(session: Session, stats: AccountStats, settings: Settings,
                    now: datetime) -> bool:
    """True while the ratio guard is frozen, or when this reading would freeze it."""
    state = guard_store.current_guard(session)
    return ratio_guard.step(state, stats.ratio, now,
                            guard_store.guard_policy(settings)).new_state.frozen


@dataclass(frozen=True)
class PurchaseRecord:
    action: Purchase
    outcome: str  # done, failed, applied, not_applied, unclear
    detail: str


def _send(client: MamClient, action: Purchase):
    if isinstance(action, BuyVip):
        return client.buy_vip(action.weeks)
    if isinstance(action, BuyUploadCredit):
        return client.buy_upload_credit(action.gb)
    raise TypeError(f"the VIP keeper asked for an unknown purchase: {action!r}")


def carry_out(client: MamClient, actions: tuple[Purchase, ...], before: AccountStats,
              ) -> list[PurchaseRecord]:
    """Buy in order; stop at the first failure or lost answer. Never repeats a purchase.

    An action of an unknown type is a programming error: TypeError before anything is bought.
    """
    for action in actions:
        if not isinstance(action, BuyVip | BuyUploadCredit):
            raise TypeError(f"the VIP keeper asked for an unknown purchase: {action!r}")
    done: list[PurchaseRecord] = []
    for action in actions:
        try:
            result = _send(client, action)
            done.append(PurchaseRecord(action, "done", f"{result.points_left} points left"))
        except TrackerPurchaseUncertain as exc:
            # The answer was lost: read the account back to learn what happened.
            try:
                outcome = vip_purchase.purchase_outcome(action, before, client.account_stats())
                done.append(PurchaseRecord(action, outcome.status, f"{exc}; {outcome.reason}"))
            except TrackerError as again:
                done.append(PurchaseRecord(action, vip_purchase.UNCLEAR,
                                           f"{exc}; could not re-read the account: {again}"))
            break
        except TrackerError as exc:
            done.append(PurchaseRecord(action, "failed", str(exc)))
            break
        except Exception as exc:
            # Whether it was sent is unknown: record it as such rather than lose it.
            log.exception("VIP keeper purchase %s broke off", action.kind)
            done.append(PurchaseRecord(action, vip_purchase.UNCLEAR,
                                       f"unexpected error: {type(exc).__name__}: {exc}"))
            break
    return done


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
        details = {**action.params, "attention": decision.attention,
                   "detail": purchase.detail if purchase else
                   "an earlier purchase in this run did not complete"}
        if isinstance(action, BuyVip):
            details["expected_vip_until"] = action.expected_until(decided_at).isoformat()
        session.add(AccountDecision(
            at=done_at, kind="vip_keeper", action=action.kind, reason=action.reason,
            outcome=purchase.outcome if purchase else "not_attempted",
            points_before=stats.bonus_points, details=details))


def walk_vip_pending(session: Session, client: MamClient, stats: AccountStats,
                     site_freeleech: bool) -> int:
    """Pending releases that turned free become wanted. Returns how many moved."""
    moved = 0
    for item in session.scalars(select(VipPending).where(VipPending.status == "pending")):
        text = " ".join(filter(None, [item.title, item.author]))
        try:
            found = client.search(SearchQuery(text=text, fields=("title", "author")))
        except TrackerError as exc:
            log.info("VIP-pending check stopped: %s", exc)
            break
        release = next((r for r in found if r.id == item.release_id), None)
        if release and ratio_guard.is_free(release, stats.class_name, site_freeleech):
            entry, _ = add_wanted(session, {"title": item.title, "author": item.author,
                                            "source": "vip_pending"})
            item.status, item.wanted_id = "wanted", entry.id
            item.reason = "release turned free"
            moved += 1
    return moved


def account_check(client: MamClient, sessions: sessionmaker[Session], settings: Settings,
                  vip: vip_keeper.VipPolicy, clock: Callable[[], datetime]) -> str:
    """The whole daily check; returns a one-line summary."""
    now = clock()
    stats = client.account_stats()
    with session_scope(sessions) as session:
        guard_store.record_snapshot(session, stats, now, upload_rate_bps=None)
        emergency = ratio_emergency(session, stats, settings, now)
        bought = recorded_vip_buys(session, now)
    decision = vip_keeper.decide(stats, vip, now, ratio_emergency=emergency, in_flight=bought)
    purchases = carry_out(client, decision.actions, stats)
    # Recorded at once and on its own: if anything later fails, the next run still knows
    # what was bought and does not buy it again.
    with session_scope(sessions) as session:
        record_decision(session, decision, purchases, stats, now, _after(clock, now))
    events = client.site_events()
    with session_scope(sessions) as session:
        snapshot = rules.refresh(session, stats, events, now)
        moved = walk_vip_pending(session, client, stats, events.active("freeleech"))
    bought_now = ", ".join(f"{p.action.kind} {p.outcome}" for p in purchases) or "no purchase"
    return (f"ratio {ratio_guard.ratio_text(stats.ratio)}, {stats.bonus_points:,.0f} points, "
            f"class {stats.class_name}; VIP keeper: {decision.reason} ({bought_now}); "
            f"rules v{snapshot.version}; {moved} VIP-pending now wanted")


def _after(clock: Callable[[], datetime], earlier: datetime) -> datetime:
    """The clock's time, but strictly after `earlier` even when the clock stands still."""
    return max(clock(), earlier + timedelta(milliseconds=1))
