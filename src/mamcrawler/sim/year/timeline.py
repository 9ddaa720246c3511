"""What happens to the account on which hours: site-wide freeleech and bonus events,
tracker outages, cookie rotations and the one session expiry, qBittorrent restarts, the
days someone sets "pause at ratio 2" on torrents, and a price change in the bonus store.
Drawn once from the seed; every moment is a whole hour after the start."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


@dataclass
class Timeline:
    freeleech_spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    bonus_spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)
    session_expiry: tuple[datetime, datetime] | None = None
    cookie_rotations: set[datetime] = field(default_factory=set)
    qbit_restarts: set[datetime] = field(default_factory=set)
    ratio_limit_days: set[datetime] = field(default_factory=set)
    vip_price_changes: dict[datetime, int] = field(default_factory=dict)
    credit_price_changes: dict[datetime, int] = field(default_factory=dict)

    def freeleech(self, now: datetime) -> bool:
        return any(a <= now < b for a, b in self.freeleech_spans)

    def bonus(self, now: datetime) -> bool:
        return any(a <= now < b for a, b in self.bonus_spans)

    def tracker_down(self, now: datetime) -> bool:
        return any(a <= now < b for a, b in self.outages)

    def session_expired(self, now: datetime) -> bool:
        span = self.session_expiry
        return span is not None and span[0] <= now < span[1]

    def qbit_down(self, now: datetime) -> bool:
        return now in self.qbit_restarts

    def running_span(self, spans, now: datetime) -> tuple[datetime, datetime] | None:
        return next(((a, b) for a, b in spans if a <= now < b), None)


def build_timeline(rng: random.Random, start: datetime, days: int) -> Timeline:
    hours = days * 24

    def at() -> datetime:
        return start + HOUR * rng.randrange(hours)

    def spans(per_year: float, low_h: int, high_h: int) -> list[tuple[datetime, datetime]]:
        out = []
        for _ in range(max(1, round(per_year * days / 365))):
            begin = at()
            out.append((begin, begin + HOUR * rng.randint(low_h, high_h)))
        return sorted(out)

    tl = Timeline(
        freeleech_spans=spans(4, 48, 96), bonus_spans=spans(4, 48, 72),
        outages=spans(8, 2, 24),
        cookie_rotations={at() for _ in range(max(1, days // 30))},
        qbit_restarts={at() for _ in range(max(1, days // 20))},
        ratio_limit_days={at() for _ in range(max(1, days // 45))})
    expiry = at()
    tl.session_expiry = (expiry, expiry + HOUR * 12)  # until the person pastes a new cookie
    tl.vip_price_changes[at()] = 1_250 + rng.choice((-50, 50, 250))
    tl.credit_price_changes[at()] = 500 + rng.choice((-20, 20, 100))
    return tl
