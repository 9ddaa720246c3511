"""Missed runs: a job whose last successful run is older than its period runs soon after
this process starts leading, account_check first, the others staggered after it.

A fresh install has no successful run at all, so every job runs once soon; a service that
was down at noon renews VIP when it comes back instead of the next day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from mamcrawler.config import parse_schedule

CATCH_UP = "catch_up"  # the trigger of such a run
FIRST_S = 2.0  # the first missed job runs this soon after the process starts leading
STAGGER_S = 30.0  # and each next one this much later
FIRST_JOB = "account_check"  # VIP renewal and the account reading come before the rest


def missed(schedule: str, last_success: datetime | None, now: datetime,
           timezone: tzinfo) -> bool:
    """True when a scheduled time of `schedule` passed since the last successful run."""
    if last_success is None:
        return True
    kind, value = parse_schedule(schedule)
    if kind == "every":
        return now - last_success >= timedelta(seconds=value)
    trigger = CronTrigger.from_crontab(schedule, timezone=timezone)
    # A run starts a moment after its slot: the next slot is the one after that moment.
    slot = trigger.get_next_fire_time(None, last_success + timedelta(seconds=1))
    return slot is not None and slot <= now


def plan(due: Iterable[str], now: datetime,
         next_regular: Mapping[str, datetime | None]) -> list[tuple[str, datetime]]:
    """When to run each missed job: FIRST_JOB first, then the others in the order given,
    STAGGER_S apart. A job whose regular run comes before its slot is left to it."""
    ordered = sorted(due, key=lambda name: name != FIRST_JOB)
    slots = []
    at = now + timedelta(seconds=FIRST_S)
    for name in ordered:
        regular = next_regular.get(name)
        if regular is not None and regular <= at:
            continue
        slots.append((name, at))
        at += timedelta(seconds=STAGGER_S)
    return slots
