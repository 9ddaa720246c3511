"""The tracker account: VIP status, rules, events and the monthly compliance report."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from mamcrawler.services import account_reports as reports
from mamcrawler.services import rules
from mamcrawler.store.models import RatioGuardState

from ..deps import DbSession, runtime
from ..envelope import ApiError, Envelope, ok

router = APIRouter(tags=["account"])
FIRST_MONTH, LAST_MONTH = "2000-01", "2999-12"


class VipStatusOut(BaseModel):
    active: bool
    class_name: str | None
    expires: datetime | None
    days_left: float | None
    permanent: bool
    points: float | None
    points_per_day: float | None
    renewal_threshold_days: float
    renewal_cost_per_week: int
    status: str
    reason: str
    last_updated: datetime | None
    last_decision: str | None


class RulesOut(BaseModel):
    version: int | None
    effective_date: datetime | None
    last_checked: datetime | None
    freeleech_active: bool
    bonus_active: bool
    multiplier: float | None
    summary: str
    rules: dict


class EventOut(BaseModel):
    kind: str
    title: str
    ends: str | None
    factor: float | None


class EventsOut(BaseModel):
    status: str  # known, unknown (the site publishes no machine-readable status)
    active_events: list[EventOut]
    count: int
    impact: dict
    last_checked: datetime | None


@router.get("/api/system/vip/status", response_model=Envelope[VipStatusOut],
            summary="VIP state, points and whether renewal is on track")
def vip_status(request: Request, session: DbSession):
    status = reports.vip_status(session, runtime(request).policies.vip, datetime.now(UTC))
    decision = reports.latest_vip_decision(session)
    return ok(VipStatusOut(**status.__dict__, last_decision=decision))


@router.get("/api/system/mam-rules", response_model=Envelope[RulesOut],
            summary="The tracker rules and events snapshot (version rises on change only)")
def mam_rules(session: DbSession):
    snap = reports.latest_rules(session)
    if snap is None:
        return ok(RulesOut(version=None, effective_date=None, last_checked=None,
                           freeleech_active=False, bonus_active=False, multiplier=None,
                           summary="no snapshot yet: run the account_check job", rules={}))
    return ok(RulesOut(version=snap.version, effective_date=snap.effective_date,
                       last_checked=snap.last_checked_at, freeleech_active=snap.freeleech_active,
                       bonus_active=snap.bonus_active, multiplier=snap.multiplier,
                       summary=snap.summary or "", rules=snap.content.get("rules", {})))


@router.get("/api/system/events", response_model=Envelope[EventsOut],
            summary="Active site-wide events and how they change the grab rate")
def events(request: Request, session: DbSession):
    snap = reports.latest_rules(session)
    content = snap.content["events"] if snap else {"status": "unknown", "active": []}
    guard = session.get(RatioGuardState, 1)
    now = datetime.now(UTC)
    impact = reports.event_impact(runtime(request).policies.rate,
                                  bool(rules.running_events(snap, "freeleech", now)),
                                  bool(rules.running_events(snap, "bonus", now)),
                                  bool(guard and guard.frozen))
    active = [EventOut(**e) for e in content["active"]]
    return ok(EventsOut(status=content["status"], active_events=active, count=len(active),
                        impact=impact, last_checked=snap.last_checked_at if snap else None))


@router.get("/api/compliance/report", response_model=Envelope[reports.MonthReport],
            summary="One month: ratio range, VIP days, points, renewals, emergencies")
def compliance_report(session: DbSession, month: Annotated[
        str | None, Query(description=f"YYYY-MM from {FIRST_MONTH} to {LAST_MONTH}; default "
                          "the current month", pattern=r"^\d{4}-\d{2}$")] = None):
    month = month or datetime.now(UTC).strftime("%Y-%m")
    # Bounded above too: 9999-12 has no next month to end the report at (was a 500).
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month) or not FIRST_MONTH <= month <= LAST_MONTH:
        raise ApiError(422, f"invalid request: month {month!r} must be YYYY-MM from "
                            f"{FIRST_MONTH} to {LAST_MONTH}")
    return ok(reports.month_report(session, month))
