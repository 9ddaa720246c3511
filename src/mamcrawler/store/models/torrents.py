"""Torrent care (R5): every attempt to get a stalled or errored torrent moving again, and
every resume, force-start or share-limit change made to keep a torrent seeding."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class TorrentRecoveryAttempt(Base):
    """One recovery step (reannounce, recheck, force-start) taken on one torrent.

    `attempt` counts within the current run of trouble; it starts again at 1 after the
    torrent was healthy. Kept as history; the torrent's own row holds the live counter.
    """

    __tablename__ = "torrent_recovery_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    info_hash: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500))
    attempt: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # reannounce, recheck, force_start
    torrent_state: Mapped[str] = mapped_column(String(20))  # our state when it was taken
    raw_state: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10))  # done, failed
    error: Mapped[str | None] = mapped_column(Text)


class SeedingAction(Base):
    """One thing done to one torrent to keep it seeding (or to undo our force-start).

    Written by the watch for the seeding duty and for the frozen ratio guard; `reason`
    says which and the numbers behind it.
    """

    __tablename__ = "seeding_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    info_hash: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500))
    # lift_share_limits, resume, force_start, unforce
    action: Mapped[str] = mapped_column(String(20))
    raw_state: Mapped[str | None] = mapped_column(String(30))  # the client's word before it
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10))  # done, failed
    error: Mapped[str | None] = mapped_column(Text)
