"""The daily account check (R3, R6): read stats, keep VIP alive, refresh rules and events,
walk the VIP-pending list. Every decision is recorded with its reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import MamClient, SearchQuery, TrackerError
from mamcrawler.domain import ratio_guard, vip_keeper
from mamcrawler.domain.freeness import AccountView, SiteEvent, freeness
from mamcrawler.domain.ratio_guard import GuardPolicy
from mamcrawler.domain.records import AccountStats
from mamcrawler.policies import Policies
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import VipPending

from . import guard_store, notify, rules
from .acquisition_inputs import domain_events
from .vip_purchases import carry_out, last_price_mismatch, record_decision, recorded_vip_buys
from .wanted import add_wanted

log = logging.getLogger("mamcrawler.account")


def ratio_emergency(session: Session, stats: AccountStats, guard: GuardPolicy,
                    now: datetime) -> bool:
    """True while the ratio guard is frozen, or when this reading would freeze it."""
    state = guard_store.current_guard(session)
    return ratio_guard.step(state, stats.ratio, now, guard).new_state.frozen


def walk_vip_pending(session: Session, client: MamClient, stats: AccountStats,
                     events: tuple[SiteEvent, ...], now: datetime) -> int:
    """Pending releases that turned free now (events by their end, VIP-free by the VIP
    expiry) become wanted. Returns how many moved."""
    moved = 0
    for item in session.scalars(select(VipPending).where(VipPending.status == "pending")):
        text = " ".join(filter(None, [item.title, item.author]))
        try:
            found = client.search(SearchQuery(text=text, fields=("title", "author")))
        except TrackerError as exc:
            log.info("VIP-pending check stopped: %s", exc)
            break
        release = next((r for r in found if r.id == item.release_id), None)
        account = AccountView(stats.class_name, stats.vip_until)
        if release and freeness(release, account, events, now).free:
            entry, _ = add_wanted(session, {"title": item.title, "author": item.author,
                                            "source": "vip_pending"})
            item.status, item.wanted_id = "wanted", entry.id
            item.reason = "release turned free"
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
    vip = policies.vip
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
        moved = walk_vip_pending(session, client, latest, domain_events(events), now)
    bought_now = ", ".join(f"{p.action.kind} {p.outcome}" for p in run.records) or "no purchase"
    return (f"ratio {ratio_guard.ratio_text(latest.ratio)}, {latest.bonus_points:,.0f} points, "
            f"class {latest.class_name}; VIP keeper: {decision.reason} ({bought_now}); "
            f"rules v{snapshot.version}; {moved} VIP-pending now wanted")


def _after(clock: Callable[[], datetime], earlier: datetime) -> datetime:
    """The clock's time, but strictly after `earlier` even when the clock stands still."""
    return max(clock(), earlier + timedelta(milliseconds=1))
