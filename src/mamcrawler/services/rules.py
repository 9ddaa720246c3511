"""Tracker rules and site events as a versioned snapshot (R1, R6).

The version rises only when the content changes; an unchanged check only moves
`last_checked_at`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamcrawler.adapters.mam import SiteEvents
from mamcrawler.domain import freeness
from mamcrawler.domain.freeness import SiteEvent
from mamcrawler.domain.records import AccountStats
from mamcrawler.store.models import RulesSnapshot

# The rules that bind automation (reference/mam-api.md); the live limits come from the account.
STATIC_RULES = {
    "min_ratio": 1.0,
    "seed_hours": 72,
    "seed_window_days": 30,
    "vip_cost_per_week": 1250,
    "vip_max_days": 90,
    "upload_credit_cost_per_gb": 500,
    "points_cap": 99_999,
}


def rules_content(stats: AccountStats, events: SiteEvents) -> dict:
    """What the snapshot holds: rules, the account's live limits and the events."""
    return {
        "rules": STATIC_RULES,
        "unsatisfied_limit": stats.unsatisfied_limit,
        "class": stats.class_name,
        "events": {
            "status": events.status,
            "reason": events.reason if not events.known else "",
            "active": sorted(
                ({"kind": e.kind, "title": e.title, "factor": e.factor,
                  "ends": e.ends.isoformat() if e.ends else None}
                 for e in events.events if e.active),
                key=lambda e: e["kind"]),
        },
    }


def _summary(content: dict) -> str:
    active = [e["kind"] for e in content["events"]["active"]]
    events = ", ".join(active) if active else (
        "none" if content["events"]["status"] == "known" else "unknown (site gives no status)")
    return (f"min ratio {content['rules']['min_ratio']}, seed {content['rules']['seed_hours']} h "
            f"within {content['rules']['seed_window_days']} days, unsatisfied limit "
            f"{content['unsatisfied_limit']}; events: {events}")


def running_events(snapshot: RulesSnapshot | None, kind: str, now: datetime
                   ) -> tuple[SiteEvent, ...]:
    """The stored events of `kind` still running at `now` (an event whose end has passed
    no longer counts, however recently it was stored)."""
    if snapshot is None:
        return ()
    events = tuple(SiteEvent(e["kind"], ends=datetime.fromisoformat(e["ends"])
                             if e.get("ends") else None)
                   for e in snapshot.content.get("events", {}).get("active", []))
    return freeness.running_events(events, kind, now)


def latest(session: Session) -> RulesSnapshot | None:
    return session.scalar(select(RulesSnapshot).order_by(RulesSnapshot.version.desc()).limit(1))


def refresh(session: Session, stats: AccountStats, events: SiteEvents,
            now: datetime) -> RulesSnapshot:
    """Store a new version when the content changed; otherwise note the check."""
    content = rules_content(stats, events)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    current = latest(session)
    if current is not None and current.content_hash == digest:
        current.last_checked_at = now
        return current
    multiplier = next((e.factor for e in events.events
                       if e.kind == "multiplier" and e.active), None)
    snapshot = RulesSnapshot(
        version=(current.version + 1) if current else 1, content_hash=digest, content=content,
        fetched_at=now, last_checked_at=now, effective_date=now,
        freeleech_active=events.active("freeleech"), bonus_active=events.active("bonus"),
        multiplier=multiplier, summary=_summary(content))
    session.add(snapshot)
    session.flush()
    return snapshot
