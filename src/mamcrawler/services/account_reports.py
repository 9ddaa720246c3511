"""What the API shows about the account: VIP status, rules, events, the monthly report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamcrawler.domain import rate, vip_keeper, vip_purchase
from mamcrawler.domain.ratio_guard import PointsSnapshot, points_flow
from mamcrawler.domain.vip_keeper import VipPolicy
from mamcrawler.store.models import AccountDecision, AccountSnapshot, RatioGuardEvent, RulesSnapshot

from . import guard_store
from .vip_purchases import last_price_mismatch, recorded_charges

STALE_AFTER = timedelta(days=2)  # the check runs daily; older data is itself a warning
# Purchases the site went through with (a wrong price is still paid).
BOUGHT = ("done", vip_purchase.APPLIED, vip_purchase.PRICE_MISMATCH)


def _spent_by_purchases(session: Session, start: datetime, end: datetime) -> list[tuple]:
    rows = session.execute(select(AccountDecision.at, AccountDecision.details).where(
        AccountDecision.at >= start, AccountDecision.at < end,
        AccountDecision.outcome.in_(BOUGHT)))
    return [(at, _spent(details or {})) for at, details in rows]


def _spent(details: dict) -> float:
    # What the site charged when it was checked, else what the purchase should cost.
    charged = details.get("charged")
    return float(charged if charged is not None else details.get("cost", 0))


def points_between(session: Session, start: datetime, end: datetime) -> tuple[float, float]:
    """(earned, spent) points from the snapshots and the purchases recorded in [start, end)."""
    snaps = session.execute(select(AccountSnapshot.taken_at, AccountSnapshot.bonus_points).where(
        AccountSnapshot.taken_at >= start, AccountSnapshot.taken_at < end)
        .order_by(AccountSnapshot.taken_at)).all()
    purchases = _spent_by_purchases(session, start, end)
    series, previous = [], None
    for at, points in snaps:
        spent = sum(c for t, c in purchases if previous is None or previous < t <= at)
        series.append(PointsSnapshot(at=at, points=points,
                                     spent_since_previous=0 if previous is None else spent))
        previous = at
    flow = points_flow(series)
    return flow.earned, flow.spent


@dataclass(frozen=True)
class VipStatus:
    active: bool
    class_name: str | None
    expires: datetime | None
    days_left: float | None
    permanent: bool
    points: float | None
    points_per_day: float | None
    renewal_threshold_days: float
    renewal_cost_per_week: int
    status: str  # healthy, warning, critical
    reason: str
    last_updated: datetime | None


def vip_status(session: Session, policy: VipPolicy, now: datetime) -> VipStatus:
    policy = vip_purchase.confirmed_prices(policy, recorded_charges(session), now)
    snap = guard_store.latest_snapshot(session)
    if snap is None:
        return VipStatus(False, None, None, None, False, None, None,
                         policy.renew_threshold_days, policy.cost_per_week, "warning",
                         "no account data yet: run the account_check job", None)
    permanent = policy.is_permanent(snap.class_name or "")
    days_left = ((snap.vip_until - now).total_seconds() / 86400) if snap.vip_until else None
    active = permanent or (days_left is not None and days_left > 0)
    earned, _ = points_between(session, now - timedelta(days=7), now + timedelta(seconds=1))
    first = session.scalar(select(func.min(AccountSnapshot.taken_at)).where(
        AccountSnapshot.taken_at >= now - timedelta(days=7)))
    span_days = max((now - first).total_seconds() / 86400, 0) if first else 0
    per_day = earned / span_days if span_days >= 0.5 else None
    status, reason = _vip_health(policy, snap, permanent, days_left, now)
    stopped = vip_keeper.purchases_stopped(last_price_mismatch(session), policy, now)
    if stopped is not None and not permanent:
        due = days_left is None or days_left <= policy.renew_threshold_days
        status, reason = ("critical" if due else "warning"), f"{stopped}; {reason}"
    return VipStatus(active, snap.class_name, snap.vip_until, days_left, permanent,
                     snap.bonus_points, per_day, policy.renew_threshold_days,
                     policy.cost_per_week, status, reason, snap.taken_at)


def _vip_health(policy: VipPolicy, snap: AccountSnapshot, permanent: bool,
                days_left: float | None, now: datetime) -> tuple[str, str]:
    if now - snap.taken_at > STALE_AFTER:
        return "warning", f"account data is from {snap.taken_at:%Y-%m-%d %H:%M} UTC"
    if permanent:
        return "healthy", f"class {snap.class_name} keeps VIP without expiry"
    if days_left is None:
        return ("warning", "not VIP") if not policy.may_buy(snap.class_name or "") else (
            "warning", "VIP expiry unknown or not VIP")
    if days_left <= 0:
        return "critical", "VIP has lapsed"
    affordable = snap.bonus_points >= policy.cost_per_week + policy.points_reserve
    if days_left > policy.renew_threshold_days:
        return "healthy", f"{days_left:.1f} days left"
    if affordable:
        return "healthy", f"{days_left:.1f} days left; renewal is affordable"
    level = "critical" if days_left < 7 else "warning"
    return level, (f"{days_left:.1f} days left and {snap.bonus_points:,.0f} points do not cover "
                   f"a week ({policy.cost_per_week:,}) plus the reserve")


def latest_rules(session: Session) -> RulesSnapshot | None:
    return session.scalar(select(RulesSnapshot).order_by(RulesSnapshot.version.desc()).limit(1))


def event_impact(policy: rate.RatePolicy, freeleech: bool, bonus: bool,
                 guard_frozen: bool) -> dict:
    """How the events running now change the grab rate (R6), with the reason."""
    normal = rate.slots(policy, freeleech_event=False, bonus_event=False, guard_frozen=False,
                        seeding_capacity=10**6)
    now = rate.slots(policy, freeleech_event=freeleech, bonus_event=bonus,
                     guard_frozen=guard_frozen, seeding_capacity=10**6)
    return {"free_slots": now.free, "paid_slots": now.paid, "normal_free_slots": normal.free,
            "normal_paid_slots": normal.paid, "reason": now.reason}


@dataclass(frozen=True)
class MonthReport:
    month: str
    snapshots: int
    ratio_min: float | None
    ratio_max: float | None
    vip_days: int
    points_earned: float
    points_spent: float
    renewals: int
    upload_credit_buys: int
    emergencies: int
    decisions: int


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """`YYYY-MM` → [first instant, first instant of the next month) in UTC."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def month_report(session: Session, month: str) -> MonthReport:
    start, end = month_bounds(month)
    in_month = (AccountSnapshot.taken_at >= start, AccountSnapshot.taken_at < end)
    ratios = session.execute(select(func.min(AccountSnapshot.ratio),
                                    func.max(AccountSnapshot.ratio), func.count())
                             .where(*in_month)).one()
    vip_days = {at.date() for at, until in session.execute(
        select(AccountSnapshot.taken_at, AccountSnapshot.vip_until).where(*in_month))
        if until is not None and until > at}
    earned, spent = points_between(session, start, end)

    def decisions(*kinds: str) -> int:
        where = [AccountDecision.at >= start, AccountDecision.at < end]
        if kinds:
            where += [AccountDecision.action.in_(kinds), AccountDecision.outcome.in_(BOUGHT)]
        return session.scalar(select(func.count()).select_from(AccountDecision).where(*where))

    emergencies = session.scalar(select(func.count()).select_from(RatioGuardEvent).where(
        RatioGuardEvent.at >= start, RatioGuardEvent.at < end,
        RatioGuardEvent.to_state == "frozen"))
    return MonthReport(month, ratios[2], ratios[0], ratios[1], len(vip_days), earned, spent,
                       decisions(vip_keeper.BUY_VIP), decisions(vip_keeper.BUY_UPLOAD_CREDIT),
                       emergencies or 0, decisions())


def latest_vip_decision(session: Session) -> str | None:
    """The reason of the newest VIP keeper decision, for the dashboard and API."""
    row = session.scalar(select(AccountDecision).where(AccountDecision.kind == "vip_keeper")
                         .order_by(AccountDecision.at.desc(), AccountDecision.id.desc()).limit(1))
    if row is None:
        return None
    return f"{row.at:%Y-%m-%d %H:%M} UTC: {row.action} ({row.outcome}): {row.reason}"
