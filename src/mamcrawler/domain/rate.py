"""Grab rate (R6): how many grabs one acquisition run may start.

Free and paid grabs get separate budgets whose sum never exceeds the seeding capacity
(the room left under the unsatisfied limit), so a caller that spends both budgets in full
still stays within it. Free grabs are served first when capacity is short.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class RatePolicy:
    base_slots: int = 3  # grabs per run in normal times
    paid_slots: int = 1  # of which paid at most; paid grabs are the exception (R9)
    freeleech_boost: float = 0.5  # +50% free slots during a site-wide freeleech
    bonus_boost: float = 0.3  # +30% slots (free and paid) during a bonus event

    def __post_init__(self) -> None:
        if self.base_slots < 0 or self.paid_slots < 0:
            raise ValueError("slot counts must not be negative")
        if self.freeleech_boost < 0 or self.bonus_boost < 0:
            raise ValueError("boosts must not be negative")


@dataclass(frozen=True)
class Slots:
    free: int  # grabs of free releases this run may start
    paid: int  # grabs of paid releases, on top of `free`; free + paid <= capacity
    reason: str

    @property
    def total(self) -> int:
        return self.free + self.paid


def boosted(slots: int, boosts: Iterable[float] = ()) -> int:
    """slots x (1 + sum of boosts), rounded down so a boost never adds a grab it did not
    earn. Computed on the decimals the boosts were written as (0.3 is 3/10), so 10 x 1.3
    is 13 and not 12."""
    return math.floor(slots * (1 + sum(Fraction(repr(b)) for b in boosts)))


def slots(
    policy: RatePolicy,
    *,
    freeleech_event: bool,
    bonus_event: bool,
    guard_frozen: bool,
    seeding_capacity: int,
) -> Slots:
    """Budgets for one run.

    Boosts add up (freeleech and bonus together: +80% free slots). The freeleech boost
    applies to free grabs only, since it exists because they cost no ratio. Paid is 0 while
    the ratio guard is frozen. Capacity goes to free grabs first, then to paid.
    """
    if seeding_capacity < 0:
        raise ValueError("seeding capacity cannot be negative")
    free_boosts: list[float] = []
    paid_boosts: list[float] = []
    why = [f"base {policy.base_slots} free / {policy.paid_slots} paid"]
    if freeleech_event:
        free_boosts.append(policy.freeleech_boost)
        why.append(f"freeleech +{policy.freeleech_boost:.0%} free")
    if bonus_event:
        free_boosts.append(policy.bonus_boost)
        paid_boosts.append(policy.bonus_boost)
        why.append(f"bonus event +{policy.bonus_boost:.0%}")
    wanted_free = boosted(policy.base_slots, free_boosts)
    wanted_paid = 0 if guard_frozen else boosted(policy.paid_slots, paid_boosts)
    why.append(f"wanted {wanted_free} free / {wanted_paid} paid (rounded down)")
    if guard_frozen:
        why.append("ratio guard frozen: paid 0")
    free = min(wanted_free, seeding_capacity)
    paid = min(wanted_paid, seeding_capacity - free)
    if free + paid < wanted_free + wanted_paid:
        why.append(f"seeding capacity {seeding_capacity} limits to {free} free / {paid} paid")
    return Slots(free, paid, f"{free} free + {paid} paid this run: " + "; ".join(why))
