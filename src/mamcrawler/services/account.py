"""The daily account check (R3, R6): read stats, keep VIP alive, refresh rules and events,
walk the VIP-pending list. Every decision is recorded with its reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import MamClient, SearchQuery, TrackerError
from mamcrawler.domain import ratio_guard, vip_keeper, vip_pending, vip_purchase
from mamcrawler.domain.freeness import AccountView, SiteEvent, freeness
from mamcrawler.domain.ratio_guard import GuardPolicy, upload_buffer_bytes
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.states import WantedStatus
from mamcrawler.domain.vip_pending import PendingAction, PendingStatus
from mamcrawler.policies import Policies
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import VipPending, WantedBook

from . import guard_store, notify, rules
from .acquisition_inputs import domain_events
from .vip_purchases import (
    carry_out,
    last_price_mismatch,
    record_decision,
    recorded_charges,
    recorded_vip_buys,
)

log = logging.getLogger("mamcrawler.account")


def ratio_emergency(session: Session, stats: AccountStats, guard: GuardPolicy,
                    now: datetime) -> bool:
    """True while the ratio guard is frozen, or when this reading would freeze it."""
    state = guard_store.current_guard(session)
    return ratio_guard.step(state, stats.ratio, now, guard).new_state.frozen


def walk_vip_pending(session: Session, client: MamClient, stats: AccountStats,
                     events: tuple[SiteEvent, ...], now: datetime,
                     guard_policy: GuardPolicy) -> int:
    """Hand back to acquisition the pending releases that turned free (events by their
    end, VIP-free by the VIP expiry) or that the ratio now affords: their wanted entry is
    due at the next acquisition run, which chooses and grabs as always. Books no longer
    wanted leave the list. Returns how many were handed back."""
    account = AccountView(stats.class_name, stats.vip_until)
    guard = guard_store.current_guard(session)
    buffer = upload_buffer_bytes(stats.uploaded_bytes, stats.downloaded_bytes,
                                 guard_policy.floor)
    moved = 0
    for item in session.scalars(select(VipPending).where(
            VipPending.status == PendingStatus.PENDING)):
        entry = session.get(WantedBook, item.wanted_id) if item.wanted_id else None
        status = entry.status if entry is not None else None
        release = None
        if status in vip_pending.ACTIVE_WANTED:
            try:
                found = client.search(SearchQuery(text=" ".join(filter(None, [
                    item.title, item.author])), fields=("title", "author")))
            except TrackerError as exc:
                log.info("VIP-pending check stopped: %s", exc)
                break
            release = next((r for r in found if r.id == item.release_id), None)
        free = freeness(release, account, events, now) if release is not None else None
        verdict = vip_pending.decide(release, free, status, guard, buffer, guard_policy)
        item.reason = verdict.reason
        if verdict.action is PendingAction.DROP:
            item.status = PendingStatus.DROPPED
        elif verdict.action is PendingAction.WANT_NOW and entry is not None:
            item.status = PendingStatus.WANTED
            entry.status, entry.last_searched_at = WantedStatus.WANTED, None
            entry.note = f"VIP-pending: {verdict.reason}"
            moved += 1
    return moved


def account_check(client: MamClient, sessions: sessionmaker[Session], policies: Policies,
                  clock: Callable[[], datetime]) -> str:
    """The whole daily check; returns a one-line summary."""
    now = clock()
    stats = client.account_stats()
    with session_scope(sessions) as session:
        guard_store.record_snapshot(session, stats, now, upload_rate_bps=None)
        emergency = ratio_emergency(session, stats, policies.guard, now)
        bought, mismatch = recorded_vip_buys(session, now), last_price_mismatch(session)
        charges = recorded_charges(session)
    # Prices the person confirmed after a mismatch are the expected ones from then on.
    vip = vip_purchase.confirmed_prices(policies.vip, charges, now)
    decision = vip_keeper.decide(stats, vip, now, ratio_emergency=emergency, in_flight=bought,
                                 price_mismatch=mismatch)
    run = carry_out(client, decision.actions, stats, vip)
    notify.vip_purchases(run.records)
    done_at = _after(clock, now)
    # Recorded at once and on its own: if anything later fails, the next run still knows
    # what was bought and does not buy it again.
    with session_scope(sessions) as session:
        record_decision(session, decision, run.records, stats, now, done_at)
    latest = run.account_after or stats
    events = client.site_events()
    with session_scope(sessions) as session:
        if run.account_after is not None:  # so the status pages show the purchase
            guard_store.record_snapshot(session, latest, done_at, upload_rate_bps=None)
        snapshot = rules.refresh(session, latest, events, now)
        moved = walk_vip_pending(session, client, latest, domain_events(events), now,
                                 policies.guard)
    bought_now = ", ".join(f"{p.action.kind} {p.outcome}" for p in run.records) or "no purchase"
    return (f"ratio {ratio_guard.ratio_text(latest.ratio)}, {latest.bonus_points:,.0f} points, "
            f"class {latest.class_name}; VIP keeper: {decision.reason} ({bought_now}); "
            f"rules v{snapshot.version}; {moved} VIP-pending handed to acquisition")


def _after(clock: Callable[[], datetime], earlier: datetime) -> datetime:
    """The clock's time, but strictly after `earlier` even when the clock stands still."""
    return max(clock(), earlier + timedelta(milliseconds=1))
