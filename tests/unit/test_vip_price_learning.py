"""A price the person confirmed after a mismatch becomes the expected price (issue 13)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.vip_keeper import BUY_UPLOAD_CREDIT, BUY_VIP, BuyVip, VipPolicy
from mamcrawler.domain.vip_purchase import ChargedPrice, check_price, confirmed_prices

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)
MISMATCH_AT = NOW - timedelta(days=3)


def vip(charged, at=MISMATCH_AT, weeks=10):
    return ChargedPrice(at, BUY_VIP, weeks, charged)


def credit(charged, at=MISMATCH_AT, gb=10):
    return ChargedPrice(at, BUY_UPLOAD_CREDIT, gb, charged)


@pytest.mark.parametrize(("confirmed", "charges", "week", "gb"), [
    (None, [vip(15_000)], 1_250, 500),  # nothing confirmed: the constants
    (NOW - timedelta(days=1), [vip(15_000)], 1_500, 500),  # confirmed: the charged price
    (NOW - timedelta(days=1), [credit(6_000)], 1_250, 600),
    (NOW - timedelta(days=1), [vip(15_000), credit(4_800)], 1_500, 480),
    (MISMATCH_AT, [vip(15_000)], 1_500, 500),  # confirmed at the mismatch itself
    (MISMATCH_AT - timedelta(seconds=1), [vip(15_000)], 1_250, 500),  # before it
    (NOW + timedelta(days=1), [vip(15_000)], 1_250, 500),  # a future confirmation
    (NOW, [vip(None)], 1_250, 500),  # unchecked: nothing learned
    (NOW, [vip(0)], 1_250, 500),  # took nothing: no price of 0
    (NOW, [vip(float("nan"))], 1_250, 500),
    (NOW, [vip(12_000, weeks=0)], 1_250, 500),
    # the newest confirmed one counts; a newer unconfirmed one teaches nothing
    (NOW - timedelta(days=1), [vip(13_000, at=MISMATCH_AT - timedelta(days=30)),
                               vip(15_000), vip(16_000, at=NOW - timedelta(hours=1))],
     1_500, 500),
    (NOW, [vip(15_040)], 1_504, 500),  # points earned in between: rounded per week
    (NOW.replace(tzinfo=None), [vip(15_000, at=MISMATCH_AT.replace(tzinfo=None))], 1_500, 500),
])
def test_confirmed_prices_table(confirmed, charges, week, gb):
    policy = confirmed_prices(VipPolicy(price_confirmed_at=confirmed), charges, NOW)
    assert (policy.cost_per_week, policy.upload_credit_cost_per_gb) == (week, gb)


def test_the_learned_price_is_what_the_next_purchase_is_checked_against():
    policy = confirmed_prices(VipPolicy(price_confirmed_at=NOW), [vip(15_000)], NOW)
    buy = BuyVip(weeks=4, cost=4 * policy.cost_per_week, days_after=80, reason="renew")
    assert check_price(buy, 10_000, [4_000], policy).ok
    # the site changes the price again: a mismatch again, so buying stops again
    assert not check_price(buy, 10_000, [3_600], policy).ok


charge = st.builds(ChargedPrice, st.datetimes(datetime(2025, 1, 1), datetime(2025, 12, 31),
                                              timezones=st.just(UTC)),
                   st.sampled_from([BUY_VIP, BUY_UPLOAD_CREDIT]), st.integers(0, 15),
                   st.one_of(st.none(), st.floats(-1e5, 1e6)))


@settings(max_examples=200, deadline=None)
@given(charges=st.lists(charge, max_size=6),
       confirmed=st.one_of(st.none(), st.datetimes(datetime(2025, 1, 1), datetime(2025, 12, 31),
                                                   timezones=st.just(UTC))))
def test_only_confirmed_mismatches_change_prices(charges, confirmed):
    now = datetime(2025, 7, 1, tzinfo=UTC)
    policy = confirmed_prices(VipPolicy(price_confirmed_at=confirmed), charges, now)
    counted = [c for c in charges if confirmed is not None and c.at <= confirmed <= now]
    for kind, price, default in ((BUY_VIP, policy.cost_per_week, 1_250),
                                 (BUY_UPLOAD_CREDIT, policy.upload_credit_cost_per_gb, 500)):
        assert price > 0
        seen = {round(c.charged / c.units) for c in counted
                if c.action == kind and c.units and c.charged is not None}
        assert price == default or price in seen
