import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.ratio_guard import ResumeSeeding
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import (
    BUY_UPLOAD_CREDIT,
    BUY_VIP,
    GIB,
    BuyUploadCredit,
    BuyVip,
    VipPolicy,
    decide,
)
from mamcrawler.domain.vip_purchase import APPLIED, NOT_APPLIED, UNCLEAR, purchase_outcome

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def margin_5k(**fields) -> VipPolicy:
    """A policy spending from 94,999 points, the level the tables were written for."""
    return VipPolicy(cap_margin=5_000, **fields)


POLICY = margin_5k()
TIB = 2**40


def account(
    cls: str = "VIP",
    points: float = 20_000,
    days_left: float | None = 20,
    uploaded: int = 10 * TIB,
    downloaded: int = 5 * TIB,
) -> AccountStats:
    return AccountStats(
        username="reader",
        uid=1,
        class_name=cls,
        ratio=uploaded / downloaded if downloaded else None,
        uploaded_bytes=uploaded,
        downloaded_bytes=downloaded,
        bonus_points=points,
        vip_until=None if days_left is None else NOW + timedelta(days=days_left),
    )


def bought(decision) -> dict[str, dict]:
    return {a.kind: a.params for a in decision.actions}


@pytest.mark.parametrize(
    ("acct", "policy", "emergency", "expected", "attention", "words"),
    [
        # classes that never need VIP bought
        (account("Elite VIP", points=500), POLICY, False, {}, False, "no renewal needed"),
        (account("staff", points=5), VipPolicy(permanent_classes={"Staff"}), False, {}, False,
         "class staff keeps VIP-equivalent status"),
        (account("User", days_left=20), POLICY, False, {}, True,
         "class User may not buy VIP; nothing bought although VIP ends in 20.0 days"),
        (account("User", days_left=None), POLICY, False, {}, False, "may not buy VIP"),
        (account("Mouse", days_left=60), POLICY, False, {}, False, "may not buy VIP"),
        # missing expiry
        (account("VIP", days_left=None), POLICY, False, {}, True, "no VIP expiry reported"),
        (account("Power User", days_left=None), POLICY, False, {}, False,
         "starting VIP is off by policy"),
        (account("Power User", days_left=None), VipPolicy(buy_when_not_vip=True), False,
         {BUY_VIP: {"weeks": 12, "cost": 15_000, "days_after": 84.0}}, False,
         "not VIP and policy starts VIP"),
        # renewal threshold
        (account(days_left=40), POLICY, False, {}, False,
         "VIP has 40.0 days left > renewal threshold 30 days; no renewal"),
        (account(days_left=30 + 1 / 86400), POLICY, False, {}, False, "no renewal"),
        (account(days_left=30), POLICY, False,
         {BUY_VIP: {"weeks": 8, "cost": 10_000, "days_after": 86.0}}, False,
         "VIP has 30.0 days left, within threshold 30 days: buy 8 week(s) for 10,000"),
        (account(days_left=20), POLICY, False,
         {BUY_VIP: {"weeks": 10, "cost": 12_500, "days_after": 90.0}}, False,
         "(20,000 → 7,500, reserve 1,000), VIP then 90.0 of max 90 days"),
        (account(" power user ", days_left=20), POLICY, False,
         {BUY_VIP: {"weeks": 10, "cost": 12_500, "days_after": 90.0}}, False, "buy 10 week"),
        (account(days_left=-3), POLICY, False,
         {BUY_VIP: {"weeks": 12, "cost": 15_000, "days_after": 84.0}}, False,
         "VIP lapsed 3.0 days ago"),
        # affordability
        (account(points=4_750), POLICY, False,
         {BUY_VIP: {"weeks": 3, "cost": 3_750, "days_after": 41.0}}, False,
         "10 week(s) would fit but points allow 3"),
        (account(points=2_250), POLICY, False,
         {BUY_VIP: {"weeks": 1, "cost": 1_250, "days_after": 27.0}}, False, "buy 1 week"),
        (account(points=2_249), POLICY, False, {}, True,
         "points 2,249 minus reserve 1,000 do not cover one week at 1,250"),
        (account(points=300), POLICY, False, {}, True, "do not cover one week"),
        # no room under the maximum
        (account(days_left=85), VipPolicy(renew_threshold_days=88), False, {}, False,
         "one more week would pass the 90-day maximum"),
        # ratio emergency never blocks a renewal
        (account(days_left=20, uploaded=TIB, downloaded=TIB), POLICY, True,
         {BUY_VIP: {"weeks": 10, "cost": 12_500, "days_after": 90.0}}, False,
         "ratio emergency does not block VIP renewal"),
    ],
)
def test_vip_renewal_table(acct, policy, emergency, expected, attention, words):
    decision = decide(acct, policy, NOW, ratio_emergency=emergency)
    assert bought(decision) == expected
    assert decision.attention is attention
    assert words in decision.reason
    assert decision.reason == "; ".join(decision.reasons)


@pytest.mark.parametrize(
    ("acct", "policy", "emergency", "expected", "words"),
    [
        (account(points=90_000, days_left=60), POLICY, False, None,
         "points 90,000 below spend level 94,999; no upload credit"),
        # 99,999 - (1,000 reserve + 15,000 next renewal) = 83,999 spare: 167 GB, capped at 100
        # the default margin spends from 74,999: room for days of stopped buying
        (account(points=80_000, days_left=60), VipPolicy(), False, 100,
         "points 80,000 ≥ 74,999 (cap 99,999): buy 100 GB"),
        (account(points=99_999, days_left=60), POLICY, False, 100,
         "points 99,999 ≥ 94,999 (cap 99,999): buy 100 GB upload credit for 50,000 points"),
        (account(points=99_999, days_left=60), margin_5k(max_upload_gb_per_buy=1000), False,
         167, "16,000 kept back"),
        (account(points=94_999, days_left=60), margin_5k(max_upload_gb_per_buy=1000), False,
         157, "buy 157 GB"),
        # a class that buys no VIP keeps only the reserve
        (account("Elite VIP", points=97_000), margin_5k(max_upload_gb_per_buy=1000), False,
         192, "1,000 kept back"),
        # the renewal is paid first, and what is left is no longer near the cap
        (account(points=97_000, days_left=20), POLICY, False, None,
         "points 84,500 below spend level"),
        (account("Elite VIP", points=95_000), margin_5k(points_reserve=94_800), False, None,
         "only 200 points above the 94,800 kept back"),
        # ratio emergency: 1,000 GiB up, 1,000 GiB down, 50 GiB short of 1.05
        (account(points=66_000, days_left=60, uploaded=1000 * GIB, downloaded=1000 * GIB),
         POLICY, True, 50, "ratio emergency: 50.00 GiB short of ratio 1.05: buy 50 GB"),
        (account(points=40_000, days_left=60, uploaded=1000 * GIB, downloaded=1000 * GIB),
         POLICY, True, 48, "(40,000 → 16,000, 16,000 kept back)"),
        (account(points=16_400, days_left=60, uploaded=1000 * GIB, downloaded=1000 * GIB),
         POLICY, True, None, "only 400 points above the 16,000 kept back"),
        (account(points=66_000, days_left=60, uploaded=1000 * GIB, downloaded=1000 * GIB),
         margin_5k(emergency_upload_credit=False), True, None, "below spend level"),
        (account(points=66_000, days_left=60, uploaded=2000 * GIB, downloaded=1000 * GIB),
         POLICY, True, None, "below spend level"),
        (account(points=99_000, days_left=60, uploaded=1000 * GIB, downloaded=1000 * GIB),
         POLICY, True, 100, "≥ 94,999 (cap 99,999) and ratio emergency"),
    ],
)
def test_upload_credit_table(acct, policy, emergency, expected, words):
    decision = decide(acct, policy, NOW, ratio_emergency=emergency)
    credit = bought(decision).get(BUY_UPLOAD_CREDIT)
    if expected is None:
        assert credit is None
    else:
        assert credit == {"gb": expected, "cost": expected * policy.upload_credit_cost_per_gb}
    assert words in decision.reason


def test_renewal_comes_before_upload_credit():
    decision = decide(account(points=99_999, days_left=20), VipPolicy(cap_margin=20_000),
                      NOW, ratio_emergency=False)
    assert [a.kind for a in decision.actions] == [BUY_VIP, BUY_UPLOAD_CREDIT]
    vip, credit = (a.cost for a in decision.actions)
    assert 99_999 - vip - credit >= 16_000  # reserve and the next full renewal stay


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cost_per_week": 0},
        {"upload_credit_cost_per_gb": 0},
        {"points_reserve": -1},
        {"cap_margin": -1},
        {"max_upload_gb_per_buy": -1},
        {"renew_threshold_days": -1},
        {"max_vip_days": 6},
    ],
)
def test_policy_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        VipPolicy(**kwargs)


def test_policy_class_names_are_normalised():
    policy = VipPolicy(buy_classes={" Power User "}, permanent_classes={"ELITE"})
    assert policy.may_buy("power user") and not policy.may_buy("VIP")
    assert policy.is_permanent("elite")
    assert not VipPolicy(buy_classes={"Elite"}, permanent_classes={"Elite"}).may_buy("Elite")
    assert POLICY.full_renewal_cost == 12 * 1_250


VIP_BUY = BuyVip(weeks=8, cost=10_000, days_after=86.0, reason="renew")
CREDIT_BUY = BuyUploadCredit(gb=10, cost=5_000, reason="cap")


def changed(acct: AccountStats, **fields) -> AccountStats:
    values = {**acct.__dict__, **fields}
    return AccountStats(**values)


BEFORE = account(points=20_000, days_left=30)


@pytest.mark.parametrize(
    ("action", "before", "after", "status", "words"),
    [
        (VIP_BUY, BEFORE, changed(BEFORE, bonus_points=10_000,
                                  vip_until=NOW + timedelta(days=86)), APPLIED, "went through"),
        (VIP_BUY, BEFORE, changed(BEFORE, vip_until=NOW + timedelta(days=86)), APPLIED,
         "points 20,000 → 20,000"),
        (VIP_BUY, account(days_left=None), account(points=10_000, days_left=56), APPLIED,
         "VIP until None →"),
        (VIP_BUY, BEFORE, changed(BEFORE, bonus_points=20_050), NOT_APPLIED, "did not happen"),
        (VIP_BUY, BEFORE, changed(BEFORE, vip_until=None), NOT_APPLIED, "did not happen"),
        (VIP_BUY, BEFORE, changed(BEFORE, bonus_points=10_000), UNCLEAR, "points fell"),
        (CREDIT_BUY, BEFORE, changed(BEFORE, bonus_points=15_000,
                                     uploaded_bytes=BEFORE.uploaded_bytes + 10 * GIB),
         APPLIED, "uploaded +10.00 GiB (bought 10 GB)"),
        (CREDIT_BUY, BEFORE, changed(BEFORE, bonus_points=20_010,
                                     uploaded_bytes=BEFORE.uploaded_bytes + GIB),
         NOT_APPLIED, "did not happen"),
        (CREDIT_BUY, BEFORE, changed(BEFORE, bonus_points=15_000), UNCLEAR, "unclear"),
        (CREDIT_BUY, BEFORE, changed(BEFORE, uploaded_bytes=BEFORE.uploaded_bytes + 10 * GIB),
         UNCLEAR, "unclear"),
    ],
)
def test_purchase_outcome_table(action, before, after, status, words):
    outcome = purchase_outcome(action, before, after)
    assert outcome.status == status
    assert outcome.may_retry is (status == NOT_APPLIED)
    assert words in outcome.reason


def test_purchase_outcome_refuses_non_purchases():
    with pytest.raises(TypeError):
        purchase_outcome(ResumeSeeding("x"), BEFORE, BEFORE)  # type: ignore[arg-type]


def test_actions_are_typed_and_frozen():
    decision = decide(account(points=99_999, days_left=20), VipPolicy(cap_margin=20_000), NOW,
                      ratio_emergency=False)
    vip, credit = decision.actions
    assert isinstance(vip, BuyVip) and isinstance(credit, BuyUploadCredit)
    assert (vip.weeks, vip.cost, vip.days_after) == (10, 12_500, 90.0)
    assert vip.kind == BUY_VIP and credit.kind == BUY_UPLOAD_CREDIT
    with pytest.raises(AttributeError):
        vip.weeks = 12  # type: ignore[misc]


CLASSES = ["VIP", "Power User", "power user", "User", "Mouse", "Elite VIP", "Elite",
           "Supporter", "Uploader"]

accounts = st.builds(
    account,
    cls=st.sampled_from(CLASSES),
    points=st.floats(0, 120_000, allow_nan=False),
    days_left=st.none() | st.floats(-100, 200, allow_nan=False),
    uploaded=st.integers(0, 2**50),
    downloaded=st.integers(0, 2**50),
)
policies = st.builds(
    VipPolicy,
    renew_threshold_days=st.integers(0, 120),
    points_reserve=st.integers(0, 30_000),
    max_vip_days=st.integers(7, 200),
    cap_margin=st.integers(0, 50_000),
    max_upload_gb_per_buy=st.integers(0, 500),
    buy_when_not_vip=st.booleans(),
)


def vip_needed(acct: AccountStats, policy: VipPolicy) -> bool:
    if not policy.may_buy(acct.class_name):
        return False
    if acct.vip_until is None:
        timed = acct.class_name.strip().casefold() in policy.timed_vip_classes
        return policy.buy_when_not_vip and not timed
    return acct.vip_until - NOW <= timedelta(days=policy.renew_threshold_days)


@given(acct=accounts, policy=policies, emergency=st.booleans())
def test_vip_keeper_properties(acct, policy, emergency):
    decision = decide(acct, policy, NOW, ratio_emergency=emergency)
    kinds = [a.kind for a in decision.actions]
    assert len(kinds) == len(set(kinds))
    assert all(a.reason for a in decision.actions) and all(decision.reasons)
    total_cost = sum(a.cost for a in decision.actions)
    if total_cost:
        assert acct.bonus_points - total_cost >= policy.points_reserve  # reserve never spent

    vip = next((a for a in decision.actions if a.kind == BUY_VIP), None)
    remaining = (max(acct.vip_until - NOW, timedelta(0)) if acct.vip_until else timedelta(0))
    room = (timedelta(days=policy.max_vip_days) - remaining) // timedelta(weeks=1)
    affordable = math.floor((acct.bonus_points - policy.points_reserve) / policy.cost_per_week)
    if vip is None:
        # nothing bought only when not needed, no room, or not affordable
        assert not vip_needed(acct, policy) or room < 1 or affordable < 1
    else:
        assert vip_needed(acct, policy)  # never buys when not needed
        weeks = vip.weeks
        assert isinstance(weeks, int) and weeks >= 1  # never less than a week
        assert remaining + timedelta(weeks=weeks) <= timedelta(days=policy.max_vip_days)
        assert vip.cost == weeks * policy.cost_per_week
        assert weeks == min(room, affordable)  # as many as fit and are affordable

    credit = next((a for a in decision.actions if a.kind == BUY_UPLOAD_CREDIT), None)
    if credit is not None:
        assert 1 <= credit.gb <= policy.max_upload_gb_per_buy
        kept = policy.points_reserve
        if policy.may_buy(acct.class_name):
            kept += policy.full_renewal_cost
        assert acct.bonus_points - total_cost >= kept


@given(acct=accounts, weeks=st.integers(1, 12))
def test_unchanged_account_means_the_purchase_did_not_happen(acct, weeks):
    for action in (
        BuyVip(weeks, weeks * 1_250, 7.0 * weeks, "r"),
        BuyUploadCredit(weeks, weeks * 500, "r"),
    ):
        assert purchase_outcome(action, acct, acct).status == NOT_APPLIED
