"""Case 6: a VIP purchase the tracker does not show yet is never bought a second time."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import (
    BuyVip,
    VipPolicy,
    VipPurchase,
    decide,
    not_yet_shown,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def account(days_left: float | None = 20, points: float = 40_000,
            cls: str = "VIP") -> AccountStats:
    return AccountStats(username="r", uid=1, class_name=cls, ratio=2.0,
                        uploaded_bytes=2 * 2**40, downloaded_bytes=2**40, bonus_points=points,
                        vip_until=None if days_left is None else NOW + days_left * DAY)


def bought(ago: timedelta, weeks: int, ends_in_days: float) -> VipPurchase:
    return VipPurchase(NOW - ago, weeks, NOW + ends_in_days * DAY)


@pytest.mark.parametrize(("acct", "in_flight", "buys", "attention", "words"), [
    # the buy five minutes ago does not show yet: nothing more, and no alarm yet
    (account(20), [bought(5 * 60 * timedelta(seconds=1), 10, 90)], False, False,
     "VIP purchase of 10 week(s) at 2025-06-01 11:55 UTC not yet shown"),
    (account(20), [bought(HOUR, 10, 90)], False, False, "counts towards the 90-day maximum"),
    # still not shown after the grace: the person is asked to look
    (account(20), [bought(13 * HOUR, 10, 90)], False, True,
     "still not shown after 13.0 hours: check VIP and points on the site"),
    # a Power User whose started VIP does not show yet is not started again
    (account(None, cls="Power User"), [bought(HOUR, 12, 84)], False, False, "no VIP end"),
    # shown (within the slack for the site's own clock): judged as usual
    (account(89.5), [bought(HOUR, 10, 90)], False, False, "> renewal threshold"),
    (account(20), [bought(100 * DAY, 12, -16)], True, False, "within threshold"),
    # a buy whose VIP would have ended by now no longer holds anything back
    (account(-3), [bought(90 * DAY, 12, -6)], True, False, "VIP lapsed 3.0 days ago"),
    (account(20), [bought(HOUR, 1, 27), bought(30 * 60 * timedelta(seconds=1), 2, 41)],
     False, False, "(2 purchases not shown)"),
])
def test_purchases_in_flight_table(acct, in_flight, buys, attention, words):
    decision = decide(acct, VipPolicy(), NOW, ratio_emergency=False, in_flight=in_flight)
    assert any(isinstance(a, BuyVip) for a in decision.actions) is buys
    assert decision.attention is attention
    assert words in decision.reason


def test_not_yet_shown_ignores_shown_and_ended_purchases():
    shown = bought(DAY, 10, 90)
    ended = bought(100 * DAY, 12, -1)
    waiting = bought(HOUR, 1, 95)
    assert not_yet_shown(NOW + 90 * DAY, [waiting, shown, ended], NOW) == (waiting,)
    assert not_yet_shown(None, [waiting, shown], NOW) == (shown, waiting)  # oldest first


def test_policy_refuses_a_negative_grace():
    with pytest.raises(ValueError):
        VipPolicy(reflect_grace_hours=-1)


@dataclass
class LaggingTracker:
    """The site as the keeper meets it: purchases apply at once, show late or never."""

    now: datetime
    until: datetime  # the real VIP end
    shown: datetime  # the VIP end the stats show
    points: float
    showing: list[tuple[datetime, datetime]] = field(default_factory=list)

    def stats(self) -> AccountStats:
        while self.showing and self.showing[0][0] <= self.now:
            self.shown = self.showing.pop(0)[1]
        return AccountStats(username="r", uid=1, class_name="VIP", ratio=2.0,
                            uploaded_bytes=2 * 2**40, downloaded_bytes=2**40,
                            bonus_points=self.points, vip_until=self.shown)

    def buy(self, weeks: int, cost: int, lag: timedelta | None) -> None:
        self.points -= cost
        self.until = max(self.until, self.now) + timedelta(weeks=weeks)
        if lag is not None:
            self.showing = sorted([*self.showing, (self.now + lag, self.until)])


steps = st.lists(st.tuples(
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=40)),  # wait
    st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),  # lag
    st.floats(0, 30_000),  # points earned meanwhile
), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(steps=steps, start_days=st.floats(-30, 90), max_days=st.integers(7, 90),
       threshold=st.integers(0, 89), points=st.floats(0, 99_999))
def test_vip_never_passes_the_maximum_however_late_the_tracker_shows_it(
        steps, start_days, max_days, threshold, points):
    policy = VipPolicy(max_vip_days=max_days, renew_threshold_days=threshold)
    start = NOW + start_days * DAY
    site = LaggingTracker(NOW, start, start, points)
    records: list[VipPurchase] = []
    for wait, lag, earned in steps:
        site.now += wait
        site.points = min(99_999, site.points + earned)
        decision = decide(site.stats(), policy, site.now, ratio_emergency=False,
                          in_flight=records)
        for action in decision.actions:
            if isinstance(action, BuyVip):
                site.buy(action.weeks, action.cost, lag)
                records.append(VipPurchase(site.now, action.weeks,
                                           action.expected_until(site.now)))
                # all VIP bought plus what was left never exceeds the maximum
                assert site.until - site.now <= timedelta(days=max_days)
        assert site.points >= 0
