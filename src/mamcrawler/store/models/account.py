"""The tracker account over time: snapshots, ratio guard, decisions, rules and events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AccountSnapshot(Base):
    __tablename__ = "account_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ratio: Mapped[float | None] = mapped_column(Float)  # None = infinite
    uploaded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    downloaded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_points: Mapped[float] = mapped_column(Float, default=0.0)
    class_name: Mapped[str | None] = mapped_column(String(50))
    vip_until: Mapped[datetime | None] = mapped_column()
    unsatisfied_count: Mapped[int | None] = mapped_column(Integer)
    unsatisfied_limit: Mapped[int | None] = mapped_column(Integer)
    wedges: Mapped[int | None] = mapped_column(Integer)
    upload_rate_bps: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[dict | None] = mapped_column(JSON)  # parsed buckets, for the dashboard


class RatioGuardState(Base):
    """The single current state of the ratio guard; survives restarts (R4)."""

    __tablename__ = "ratio_guard_state"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    frozen: Mapped[bool] = mapped_column(default=False)
    since: Mapped[datetime | None] = mapped_column()
    last_ratio: Mapped[float | None] = mapped_column(Float)
    saved_preferences: Mapped[dict | None] = mapped_column(JSON)  # restored on thaw
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RatioGuardEvent(Base):
    """Every change of the guard's state, with the numbers that caused it."""

    __tablename__ = "ratio_guard_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    from_state: Mapped[str] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    ratio: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)


class AccountDecision(Base):
    """A decision of the VIP keeper or another account policy, with its reason (R3)."""

    __tablename__ = "account_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # vip_keeper, upload_credit, ...
    action: Mapped[str] = mapped_column(String(30))  # renew_vip, buy_upload, none, ...
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20), default="decided")  # done, failed, ...
    points_before: Mapped[float | None] = mapped_column(Float)
    points_after: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict | None] = mapped_column(JSON)


class RulesSnapshot(Base):
    """Tracker rules and events as last seen. `version` rises only when content changes."""

    __tablename__ = "rules_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    effective_date: Mapped[datetime | None] = mapped_column()
    freeleech_active: Mapped[bool] = mapped_column(default=False)
    bonus_active: Mapped[bool] = mapped_column(default=False)
    multiplier: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("version"),)
