"""Case 7: every purchase is checked against its expected cost; a mismatch stops buying."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.adapters.mam import TrackerUnavailable
from mamcrawler.adapters.mam.models import PurchaseResult
from mamcrawler.config import load_settings
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import (
    BuyUploadCredit,
    BuyVip,
    PriceMismatch,
    VipPolicy,
    decide,
    purchases_stopped,
)
from mamcrawler.domain.vip_purchase import (
    PRICE_MISMATCH,
    PRICE_OK,
    PRICE_UNCHECKED,
    check_price,
)
from mamcrawler.policies import Policies
from mamcrawler.services.vip_purchases import carry_out

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
POLICY = VipPolicy()
VIP = BuyVip(weeks=10, cost=12_500, days_after=90.0, reason="renew")
CREDIT = BuyUploadCredit(gb=4, cost=2_000, reason="cap")


@pytest.mark.parametrize(("action", "before", "after", "status", "words"), [
    (VIP, 15_000, [2_500], PRICE_OK, "cost 12,500 points as expected"),
    (VIP, 15_000, [2_540], PRICE_OK, "as expected"),  # 40 points earned in between
    (VIP, 15_000, [2_400], PRICE_OK, "as expected"),  # a rounding site, within 100
    (VIP, 15_000, [0], PRICE_MISMATCH,
     "took 15,000 points, expected 12,500 (1,500 per week, expected 1,250; tolerance 100); "
     "points 15,000 → 0"),
    (VIP, 15_000, [5_000], PRICE_MISMATCH, "(1,000 per week, expected 1,250"),  # cheaper
    (VIP, 15_000, [15_000], PRICE_MISMATCH, "took 0 points"),
    (CREDIT, 99_000, [96_500], PRICE_MISMATCH, "(625 per GB, expected 500"),
    (CREDIT, 99_000, [97_000], PRICE_OK, "as expected"),
    # the reply may be stale or missing: any reading that fits counts
    (VIP, 15_000, [15_000, 2_500], PRICE_OK, "as expected"),
    (VIP, 15_000, [None, 2_500], PRICE_OK, "as expected"),
    (VIP, 15_000, [None, None], PRICE_UNCHECKED, "could not be checked"),
    (VIP, 15_000, [float("nan")], PRICE_UNCHECKED, "could not be checked"),
    (VIP, 15_000, [3_000, 0], PRICE_MISMATCH, "points 15,000 → 0"),  # the fresh read is told
])
def test_check_price_table(action, before, after, status, words):
    check = check_price(action, before, after, POLICY)
    assert check.status == status
    assert check.ok is (status == PRICE_OK)
    assert check.expected == action.cost
    assert words in check.reason


MISMATCH = PriceMismatch(NOW - timedelta(days=1), "buy_vip 10 week(s) took 15,000 points")


@pytest.mark.parametrize(("mismatch", "confirmed", "stopped", "words"), [
    (None, None, False, ""),
    (MISMATCH, None, True, "purchases stopped since 2025-05-31 12:00 UTC: buy_vip 10 week(s)"),
    (MISMATCH, NOW - timedelta(hours=1), False, ""),
    (MISMATCH, MISMATCH.at, False, ""),
    (MISMATCH, NOW - timedelta(days=2), True, "is before it"),
    # a confirmation dated ahead would switch the check off in advance: not taken
    (MISMATCH, NOW + timedelta(days=30), True, "is in the future"),
])
def test_purchases_stopped_table(mismatch, confirmed, stopped, words):
    reason = purchases_stopped(mismatch, VipPolicy(price_confirmed_at=confirmed), NOW)
    assert (reason is not None) is stopped
    if stopped:
        assert words in reason and "set VIP_PRICE_CONFIRMED_AT" in reason


def account(points: float = 20_000, days_left: float = 20) -> AccountStats:
    return AccountStats(username="r", uid=1, class_name="VIP", ratio=2.0,
                        uploaded_bytes=2 * 2**40, downloaded_bytes=2**40, bonus_points=points,
                        vip_until=NOW + timedelta(days=days_left))


def test_a_stop_blocks_every_purchase_and_says_what_was_held_back():
    decision = decide(account(99_999, 20), VipPolicy(cap_margin=20_000), NOW,
                      ratio_emergency=False, price_mismatch=MISMATCH)
    assert decision.actions == () and decision.attention is True
    assert "purchases stopped" in decision.reason
    assert "not bought: VIP has 20.0 days left" in decision.reason
    assert "GB upload credit" in decision.reason


def test_a_stop_with_nothing_due_still_tells():
    decision = decide(account(5_000, 60), POLICY, NOW, ratio_emergency=False,
                      price_mismatch=MISMATCH)
    assert decision.actions == () and decision.attention is True
    assert "purchases stopped" in decision.reason and "VIP has 60.0 days left" in decision.reason


class Store:
    """A bonus store charging its own prices; the account read may fail."""

    def __init__(self, points: float, vip_price: float = 1_250, upload_price: float = 500,
                 reply_points: bool = True, read_fails: bool = False) -> None:
        self.points, self.vip_price, self.upload_price = points, vip_price, upload_price
        self.reply_points, self.read_fails = reply_points, read_fails
        self.calls: list[tuple[str, int]] = []

    def _charge(self, kind: str, amount: int, cost: float) -> PurchaseResult:
        self.calls.append((kind, amount))
        self.points -= cost
        return PurchaseResult(kind, amount, self.points if self.reply_points else None)

    def buy_vip(self, weeks: int) -> PurchaseResult:
        return self._charge("VIP", weeks, weeks * self.vip_price)

    def buy_upload_credit(self, gb: int) -> PurchaseResult:
        return self._charge("upload", gb, gb * self.upload_price)

    def account_stats(self) -> AccountStats:
        if self.read_fails:
            raise TrackerUnavailable("down for maintenance")
        return account(self.points)


def test_a_mismatch_stops_the_run_before_the_next_purchase():
    store = Store(20_000, vip_price=1_500)
    run = carry_out(store, (VIP, CREDIT), account(20_000), POLICY)
    assert store.calls == [("VIP", 10)]
    [record] = run.records
    assert record.outcome == PRICE_MISMATCH and record.stops_buying
    assert record.numbers == {"expected_cost": 12_500, "charged": 15_000}
    assert record.points_after == 5_000
    assert run.account_after is not None and run.account_after.bonus_points == 5_000


def test_matching_prices_go_on_from_the_points_left():
    store = Store(20_000)
    run = carry_out(store, (VIP, CREDIT), account(20_000), POLICY)
    assert [r.outcome for r in run.records] == ["done", "done"]
    assert [r.points_after for r in run.records] == [7_500, 5_500]


def test_without_a_reply_the_fresh_read_tells_the_price():
    store = Store(20_000, vip_price=1_500, reply_points=False)
    [record] = carry_out(store, (VIP, CREDIT), account(20_000), POLICY).records
    assert record.outcome == PRICE_MISMATCH


def test_a_price_that_cannot_be_checked_stops_too():
    store = Store(20_000, reply_points=False, read_fails=True)
    run = carry_out(store, (VIP, CREDIT), account(20_000), POLICY)
    [record] = run.records
    assert record.outcome == PRICE_UNCHECKED and record.stops_buying
    assert "could not re-read the account" in record.detail
    assert run.account_after is None


def test_the_reply_alone_is_enough_when_the_read_fails():
    store = Store(20_000, read_fails=True)
    run = carry_out(store, (VIP, CREDIT), account(20_000), POLICY)
    assert [r.outcome for r in run.records] == ["done", "done"]
    assert "could not re-read the account" in run.records[0].detail


def test_confirmation_setting_reaches_the_policy(monkeypatch):
    monkeypatch.setenv("VIP_PRICE_CONFIRMED_AT", "2025-06-02 10:00")
    policy = Policies.from_settings(load_settings(None)).vip
    assert policy.price_confirmed_at == datetime(2025, 6, 2, 10, tzinfo=UTC)
    monkeypatch.setenv("VIP_PRICE_CONFIRMED_AT", "")
    assert Policies.from_settings(load_settings(None)).vip.price_confirmed_at is None


prices = st.sampled_from([1_250, 1_250, 1_250, 1_000, 1_300, 1_500, 2_500])
upload_prices = st.sampled_from([500, 500, 500, 400, 600])


@settings(max_examples=200, deadline=None)
@given(vip_price=prices, upload_price=upload_prices, reserve=st.integers(0, 20_000),
       start=st.floats(0, 99_999), days=st.lists(st.tuples(
           st.floats(-10, 95), st.floats(0, 99_999)), min_size=1, max_size=12))
def test_no_purchase_breaks_the_reserve_at_the_expected_price_and_a_mismatch_stops_buying(
        vip_price, upload_price, reserve, start, days):
    policy = VipPolicy(points_reserve=reserve)
    store = Store(start, vip_price, upload_price)
    fair = (vip_price, upload_price) == (1_250, 500)
    mismatch: PriceMismatch | None = None
    now = NOW
    for days_left, points in days:
        now += timedelta(days=1)
        store.points = points
        before = AccountStats(username="r", uid=1, class_name="VIP", ratio=2.0,
                              uploaded_bytes=2**41, downloaded_bytes=2**40,
                              bonus_points=points, vip_until=now + timedelta(days=days_left))
        decision = decide(before, policy, now, ratio_emergency=False, price_mismatch=mismatch)
        if mismatch is not None:
            assert decision.actions == ()  # stopped for good: nothing confirms the price
        calls = len(store.calls)
        run = carry_out(store, decision.actions, before, policy)
        assert len(store.calls) - calls == len(run.records)
        for record in run.records:
            if fair:
                # every purchase at the expected price leaves the reserve
                assert record.outcome == "done" and record.points_after >= reserve
            elif record.outcome == "done":  # a price within the tolerance
                assert record.points_after >= reserve - policy.price_tolerance_points
            if record.stops_buying:
                assert record is run.records[-1]  # nothing more in this run
                mismatch = PriceMismatch(now, record.detail)
