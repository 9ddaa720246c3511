"""Case 13: points of "inf" or NaN are unreadable, never a number to spend from."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.adapters.mam import TrackerBadResponse
from mamcrawler.adapters.mam.parse import parse_account_stats, parse_purchase
from mamcrawler.adapters.mam.values import to_finite_float
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import VipPolicy, decide

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
STATS = {"username": "SimMouse", "uid": 1, "classname": "VIP", "ratio": 2.5,
         "uploaded_bytes": 5 * 2**40, "downloaded_bytes": 2 * 2**40, "seedbonus": 20_000,
         "vip_until": "2025-06-11 12:00:00"}
NON_FINITE = ["inf", "Infinity", "-inf", "NaN", "nan", "∞", math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("raw", NON_FINITE)
def test_non_finite_points_are_refused_by_the_parser(raw):
    with pytest.raises(TrackerBadResponse, match="seedbonus"):
        parse_account_stats(STATS | {"seedbonus": raw})


@pytest.mark.parametrize("raw", ['{"seedbonus": Infinity}', '{"seedbonus": NaN}'])
def test_json_infinity_and_nan_literals_are_refused(raw):
    # Python's JSON reader accepts these literals, so a reply can carry them.
    with pytest.raises(TrackerBadResponse, match="seedbonus"):
        parse_account_stats(STATS | json.loads(raw))


@pytest.mark.parametrize("raw", [-5, "-1"])
def test_negative_points_are_refused_by_the_parser(raw):
    with pytest.raises(TrackerBadResponse, match="seedbonus"):
        parse_account_stats(STATS | {"seedbonus": raw})


@pytest.mark.parametrize(("raw", "expected"), [
    (1.5, 1.5), ("48,250.5", 48_250.5), (7, 7.0), ("inf", None), (math.nan, None),
    ("Infinity", None), (None, None), ("x", None),
])
def test_to_finite_float(raw, expected):
    assert to_finite_float(raw) == expected


@pytest.mark.parametrize("raw", ["inf", math.nan, "NaN"])
def test_a_purchase_reply_with_non_finite_points_leaves_them_unknown(raw):
    result = parse_purchase({"success": True, "type": "VIP", "amount": 4, "seedbonus": raw},
                            "VIP")
    assert result.points_left is None


@pytest.mark.parametrize("points", [math.inf, -math.inf, math.nan, -1.0])
def test_keeper_buys_nothing_from_unreadable_points_and_says_why(points):
    account = AccountStats(username="r", uid=1, class_name="VIP", ratio=1.0,
                           uploaded_bytes=2**40, downloaded_bytes=2**40, bonus_points=points,
                           vip_until=NOW + timedelta(days=3))
    decision = decide(account, VipPolicy(), NOW, ratio_emergency=True)
    assert decision.actions == ()
    assert decision.attention is True
    assert "points unreadable" in decision.reason
