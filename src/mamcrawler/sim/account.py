"""The simulated account: stats in both layouts, and a bonus store that moves real numbers.

Prices follow reference/mam-api.md: VIP 1,250 points a week (whole weeks, at most about
90 days in total), upload credit 500 points a GB; points are capped at 99,999. Tests may
change the prices and the store's VIP limit, and make a VIP purchase show in the stats'
`vip_until` late or never (the points are taken at once), as a lagging site would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mamcrawler.sim.search import human_size

VIP_POINTS_PER_WEEK = 1250
UPLOAD_POINTS_PER_GB = 500
POINTS_CAP = 99_999
MAX_VIP = timedelta(days=90)
GIB = 1024**3
TIB = 1024**4
UNSAT_LIMITS = {"Mouse": 0, "User": 50, "Power User": 100, "VIP": 150}
BUCKET_TITLES = {
    "leeching": "Leeching", "sSat": "Seeding & satisfied", "seedUnsat": "Seeding, unsatisfied",
    "seedHnr": "Seeding, hit & run", "upAct": "Active uploads", "upInact": "Inactive uploads",
    "inactSat": "Inactive & satisfied", "inactUnsat": "Inactive & unsatisfied",
    "inactHnr": "Inactive hit & run", "unsat": "Unsatisfied", "duplicates": "Duplicates",
    "reseed": "Reseed requests", "ite": "Inactive torrents",
}
_DEFAULT_COUNTS = {
    "leeching": 0, "sSat": 312, "seedUnsat": 7, "seedHnr": 0, "upAct": 4, "upInact": 1,
    "inactSat": 40, "inactUnsat": 0, "inactHnr": 0, "unsat": 7, "duplicates": 0,
    "reseed": 0, "ite": 0,
}


class StoreRefusal(ValueError):
    """The bonus store says no; the message is what it answers."""


def utc_text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


@dataclass
class Account:
    """Mutable account state; `base_class` is the class without purchased VIP."""

    now: datetime
    username: str = "SimMouse"
    uid: int = 424242
    base_class: str = "Power User"
    uploaded: int = int(5.125 * TIB)
    downloaded: int = int(2.05 * TIB)
    points: float = 48_250.0
    wedges: int = 3
    vip_until: datetime | None = None
    connectable: bool = True
    counts: dict[str, int] = field(default_factory=lambda: dict(_DEFAULT_COUNTS))
    red: dict[str, bool] = field(default_factory=dict)
    unsat_limit: int | None = None  # None: by class
    points_per_hour: float = 0.0
    points_since: datetime | None = None
    vip_price: float = VIP_POINTS_PER_WEEK
    upload_price: float = UPLOAD_POINTS_PER_GB
    store_max_vip: timedelta = MAX_VIP
    vip_lag: timedelta | None = timedelta(0)  # until a VIP buy shows in the stats; None: never
    vip_shown: datetime | None = None  # the `vip_until` the stats show
    vip_showing: list[tuple[datetime, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.vip_until is None:
            self.vip_until = self.now + timedelta(days=20)
        self.vip_shown = self.vip_until
        self.points_since = self.points_since or self.now

    def set_vip_until(self, value: datetime | None) -> None:
        """Set VIP's end as the site knows and shows it (no lag for a set value)."""
        self.vip_until = self.vip_shown = value
        self.vip_showing.clear()

    def shown_vip_until(self, now: datetime) -> datetime | None:
        """What the stats say VIP's end is: purchases show once their lag has passed."""
        while self.vip_showing and self.vip_showing[0][0] <= now:
            self.vip_shown = self.vip_showing.pop(0)[1]
        return self.vip_shown

    def class_name(self, now: datetime, *, shown: bool = False) -> str:
        until = self.shown_vip_until(now) if shown else self.vip_until
        vip_active = until is not None and until > now
        buys_vip = self.base_class in ("User", "Power User")
        return "VIP" if vip_active and buys_vip else self.base_class

    def current_points(self, now: datetime) -> float:
        """Points including what accrued since the last change, capped like the site."""
        hours = max(0.0, (now - (self.points_since or now)).total_seconds() / 3600)
        return min(POINTS_CAP, self.points + hours * self.points_per_hour)

    def set_points(self, value: float, now: datetime) -> None:
        self.points, self.points_since = min(POINTS_CAP, max(0.0, value)), now

    def ratio(self) -> float | None:
        return round(self.uploaded / self.downloaded, 2) if self.downloaded else None

    def limit(self, now: datetime) -> int:
        if self.unsat_limit is not None:
            return self.unsat_limit
        return UNSAT_LIMITS.get(self.class_name(now), 200)

    def buy_vip(self, duration: str, now: datetime) -> dict:
        """Apply a VIP purchase of `duration` weeks (or "max"); StoreRefusal if refused."""
        # As the site's store: VIP is sold from Power User up; higher classes need none.
        if self.class_name(now) not in ("Power User", "VIP"):
            raise StoreRefusal(f"VIP cannot be bought by class {self.class_name(now)}")
        start = max(now, self.vip_until or now)
        room = now + self.store_max_vip - start
        if duration == "max":
            weeks = int(room / timedelta(weeks=1))
            if weeks < 1:
                raise StoreRefusal("VIP is already at its maximum length")
        else:
            if not duration.isdigit() or int(duration) < 1:
                raise StoreRefusal("Invalid duration: VIP is bought in whole weeks, at least 1")
            weeks = int(duration)
            if timedelta(weeks=weeks) > room + timedelta(days=1):
                raise StoreRefusal("That would take VIP past its maximum of "
                                   f"{self.store_max_vip.days} days")
        cost = weeks * self.vip_price
        points = self.current_points(now)
        if points < cost:
            raise StoreRefusal(
                f"Not enough bonus points: {cost:.0f} needed, {points:.1f} available")
        self.set_points(points - cost, now)
        self.vip_until = start + timedelta(weeks=weeks)
        if self.vip_lag is not None:
            self.vip_showing = sorted([*self.vip_showing, (now + self.vip_lag, self.vip_until)])
        return {"success": True, "type": "VIP", "amount": weeks, "seedbonus": self.points}

    def buy_upload(self, amount: str, now: datetime) -> dict:
        """Apply an upload-credit purchase of `amount` GB; StoreRefusal if refused."""
        try:
            gb = float(amount)
        except ValueError:
            raise StoreRefusal("Invalid amount") from None
        if not gb >= 1:
            raise StoreRefusal("Invalid amount: at least 1 GB")
        cost = gb * self.upload_price
        points = self.current_points(now)
        if points < cost:
            raise StoreRefusal(
                f"Not enough bonus points: {cost:.0f} needed, {points:.1f} available")
        self.set_points(points - cost, now)
        self.uploaded += int(gb * GIB)
        ratio = self.ratio()
        return {
            "success": True, "type": "upload", "amount": gb if gb % 1 else int(gb),
            "seedbonus": self.points, "uploaded": _stats_size(self.uploaded),
            "downloaded": _stats_size(self.downloaded),
            "ratio": "∞" if ratio is None else ratio,
        }

    def stats(self, now: datetime, *, layout: str, with_buckets: bool) -> dict:
        """The /jsonLoad.php reply: `layout` "nested" (numbers native, buckets under
        snatch_summary) or "flat" (older: buckets at top level, numbers as strings)."""
        flat = layout == "flat"
        ratio = self.ratio()
        reply: dict = {
            "username": self.username,
            "uid": str(self.uid) if flat else self.uid,
            "classname": self.class_name(now, shown=True),
            "ratio": "∞" if ratio is None else (f"{ratio:.2f}" if flat else ratio),
            "uploaded": _stats_size(self.uploaded),
            "downloaded": _stats_size(self.downloaded),
            "uploaded_bytes": str(self.uploaded) if flat else self.uploaded,
            "downloaded_bytes": str(self.downloaded) if flat else self.downloaded,
            "seedbonus": f"{self.current_points(now):.1f}" if flat else self.current_points(now),
            "wedges": str(self.wedges) if flat else self.wedges,
            "vip_until": (utc_text(self.shown_vip_until(now))
                          if self.class_name(now, shown=True) == "VIP" else None),
            "connectable": "yes" if self.connectable else "no",
        }
        if with_buckets:
            buckets = {key: self._bucket(key, now, flat) for key in BUCKET_TITLES}
            reply.update(buckets) if flat else reply.update({"snatch_summary": buckets})
        return reply

    def _bucket(self, key: str, now: datetime, flat: bool) -> dict:
        count = self.counts.get(key, 0)
        size = count * 350 * 1024**2
        red = self.red.get(key, key.endswith("Hnr") and count > 0)
        bucket: dict = {
            "name": BUCKET_TITLES[key],
            "count": str(count) if flat else count,
            "red": int(red) if flat else red,
            "size": size if flat else human_size(size),
        }
        if key == "unsat":
            bucket["limit"] = str(self.limit(now)) if flat else self.limit(now)
        return bucket


def _stats_size(size: int) -> str:
    text = human_size(size, decimals=3)
    number, unit = text.split(" ")
    return f"{number.rstrip('0').rstrip('.') if '.' in number else number} {unit}"
