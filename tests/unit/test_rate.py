from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.rate import RatePolicy, Slots, boosted, slots

POLICY = RatePolicy()  # 3 free, 1 paid, freeleech +50%, bonus +30%


@pytest.mark.parametrize(
    ("base", "boosts", "expected"),
    [
        (3, [], 3),
        (3, [0.5], 4),  # 4.5 rounds down
        (3, [0.3], 3),  # 3.9 rounds down: a bonus event adds nothing at base 3
        (4, [0.3], 5),
        (10, [0.3], 13),
        (3, [0.5, 0.3], 5),  # boosts add up: 3 x 1.8 = 5.4
        (100, [0.15], 115),  # float maths would give 114.99999999999999
        (0, [0.5], 0),
    ],
)
def test_boosted_rounds_down_on_the_written_decimal(base, boosts, expected):
    assert boosted(base, boosts) == expected


@pytest.mark.parametrize(
    ("freeleech", "bonus", "frozen", "capacity", "free", "paid"),
    [
        (False, False, False, 10, 3, 1),
        (False, False, True, 10, 3, 0),
        (True, False, False, 10, 4, 1),  # freeleech boosts free grabs only
        (True, False, True, 10, 4, 0),
        (False, True, False, 10, 3, 1),  # 3.9 -> 3 and 1.3 -> 1
        (False, True, True, 10, 3, 0),
        (True, True, False, 10, 5, 1),
        (True, True, True, 10, 5, 0),
        (False, False, False, 4, 3, 1),  # capacity exactly enough
        (False, False, False, 3, 3, 0),  # free first: paid squeezed out
        (True, False, False, 2, 2, 0),
        (False, False, False, 0, 0, 0),
    ],
)
def test_slots_table(freeleech, bonus, frozen, capacity, free, paid):
    result = slots(
        POLICY,
        freeleech_event=freeleech,
        bonus_event=bonus,
        guard_frozen=frozen,
        seeding_capacity=capacity,
    )
    assert (result.free, result.paid) == (free, paid)
    assert result.total == free + paid
    assert result.reason.startswith(f"{free} free + {paid} paid this run")


def test_slots_reason_names_every_cause():
    result = slots(
        POLICY, freeleech_event=True, bonus_event=True, guard_frozen=True, seeding_capacity=2
    )
    for words in ("freeleech +50%", "bonus event +30%", "ratio guard frozen: paid 0",
                  "seeding capacity 2 limits to 2 free / 0 paid", "wanted 5 free / 0 paid"):
        assert words in result.reason


def test_bonus_boosts_paid_slots_too():
    policy = RatePolicy(paid_slots=4)
    result = slots(
        policy, freeleech_event=True, bonus_event=True, guard_frozen=False, seeding_capacity=99
    )
    assert result == Slots(5, 5, result.reason)  # paid 4 x 1.3 = 5.2; freeleech not applied


def test_negative_capacity_is_a_bug_in_the_caller():
    with pytest.raises(ValueError):
        slots(POLICY, freeleech_event=False, bonus_event=False, guard_frozen=False,
              seeding_capacity=-1)


@pytest.mark.parametrize(
    "kwargs",
    [{"base_slots": -1}, {"paid_slots": -1}, {"freeleech_boost": -0.1}, {"bonus_boost": -0.1}],
)
def test_policy_rejects_negative_settings(kwargs):
    with pytest.raises(ValueError):
        RatePolicy(**kwargs)


policies = st.builds(
    RatePolicy,
    base_slots=st.integers(0, 50),
    paid_slots=st.integers(0, 50),
    freeleech_boost=st.floats(0, 3, allow_nan=False),
    bonus_boost=st.floats(0, 3, allow_nan=False),
)


@given(policies, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 300))
def test_slots_properties(policy, freeleech, bonus, frozen, capacity):
    result = slots(policy, freeleech_event=freeleech, bonus_event=bonus,
                   guard_frozen=frozen, seeding_capacity=capacity)
    assert result.free >= 0 and result.paid >= 0
    assert result.free + result.paid <= capacity
    if frozen:
        assert result.paid == 0
    # events never lower the rate below the normal one (capacity permitting)
    assert result.free >= min(policy.base_slots, capacity)
    most = policy.base_slots * (
        1 + Fraction(repr(policy.freeleech_boost)) + Fraction(repr(policy.bonus_boost))
    )
    assert result.free <= most
