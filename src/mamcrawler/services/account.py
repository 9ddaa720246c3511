"""The daily account check (R3, R6): read stats, keep VIP alive, refresh rules and events,
walk the VIP-pending list. Every decision is recorded with its reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import MamClient, SearchQuery, TrackerError, TrackerPurchaseUncertain
from mamcrawler.config import Settings
from mamcrawler.domain import ratio_guard, vip_keeper
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import BuyUploadCredit, BuyVip, Purchase
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AccountDecision, VipPending

from . import guard_store, rules
from .wanted import add_wanted

log = logging.getLogger("mamcrawler.account")


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
                outcome = vip_keeper.purchase_outcome(action, before, client.account_stats())
                done.append(PurchaseRecord(action, outcome.status, f"{exc}; {outcome.reason}"))
            except TrackerError as again:
                done.append(PurchaseRecord(action, vip_keeper.UNCLEAR,
                                           f"{exc}; could not re-read the account: {again}"))
            break
        except TrackerError as exc:
            done.append(PurchaseRecord(action, "failed", str(exc)))
            break
    return done


def record_decision(session: Session, decision: vip_keeper.VipDecision,
                    purchases: list[PurchaseRecord], stats: AccountStats, now: datetime) -> None:
    if not decision.actions:
        session.add(AccountDecision(at=now, kind="vip_keeper", action="none",
                                    reason=decision.reason, outcome="nothing_to_do",
                                    points_before=stats.bonus_points,
                                    details={"attention": decision.attention}))
        return
    outcomes = {id(p.action): p for p in purchases}
    for action in decision.actions:
        purchase = outcomes.get(id(action))
        session.add(AccountDecision(
            at=now, kind="vip_keeper", action=action.kind, reason=action.reason,
            outcome=purchase.outcome if purchase else "not_attempted",
            points_before=stats.bonus_points,
            details={**action.params, "detail": purchase.detail if purchase else
                     "an earlier purchase in this run did not complete",
                     "attention": decision.attention}))


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
                  vip: vip_keeper.VipPolicy, now: datetime) -> str:
    """The whole daily check; returns a one-line summary."""
    stats = client.account_stats()
    with session_scope(sessions) as session:
        guard_store.record_snapshot(session, stats, now, upload_rate_bps=None)
        emergency = ratio_emergency(session, stats, settings, now)
    decision = vip_keeper.decide(stats, vip, now, ratio_emergency=emergency)
    purchases = carry_out(client, decision.actions, stats)
    events = client.site_events()
    with session_scope(sessions) as session:
        record_decision(session, decision, purchases, stats, now)
        snapshot = rules.refresh(session, stats, events, now)
        moved = walk_vip_pending(session, client, stats, events.active("freeleech"))
    bought = ", ".join(f"{p.action.kind} {p.outcome}" for p in purchases) or "no purchase"
    return (f"ratio {ratio_guard.ratio_text(stats.ratio)}, {stats.bonus_points:,.0f} points, "
            f"class {stats.class_name}; VIP keeper: {decision.reason} ({bought}); "
            f"rules v{snapshot.version}; {moved} VIP-pending now wanted")
