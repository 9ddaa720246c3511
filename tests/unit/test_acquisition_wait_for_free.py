"""Wait for free (issue 13): a book whose only acceptable releases are paid waits
`paid_after_days` since it was wanted before a paid grab; free ones go at once."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.acquisition import Grab, Wait, plan_run, run_plans
from mamcrawler.domain.freeness import AccountView
from mamcrawler.domain.release_choice import FREE, PAID, WEDGE
from tests.unit.test_acquisition_plan import (
    NOW,
    POLICIES,
    RUNS,
    book,
    books_st,
    execute,
    policies_st,
    rel,
    situation,
    situations,
)

WAITING = replace(POLICIES, paid_after_days=14)


def wanted(days_ago: float | None, *releases, n: int = 0):
    at = None if days_ago is None else NOW - timedelta(days=days_ago)
    return replace(book(n, *releases), wanted_at=at)


@pytest.mark.parametrize(("days_ago", "releases", "kw", "expected"), [
    (1, [rel(0, "p")], {}, "wait"),  # paid only, wanted yesterday: wait for free
    (13.9, [rel(0, "p")], {}, "wait"),
    (14, [rel(0, "p")], {}, PAID),  # waited long enough
    (40, [rel(0, "p")], {}, PAID),
    (None, [rel(0, "p")], {}, PAID),  # unknown wanted date: no wait
    (-2, [rel(0, "p")], {}, "wait"),  # a date in the future (clock skew) waits too
    (0, [rel(0, "f", free=True)], {}, FREE),  # free: at once
    (0, [rel(0, "p"), rel(0, "f", free=True, seeders=2)], {}, FREE),
    (0, [rel(0, "pf", personal_freeleech=True)], {}, FREE),
    (0, [rel(0, "v", vip_free=True)],
     {"account": AccountView("VIP", NOW + timedelta(days=9))}, FREE),
    # VIP-free counts only while VIP lasts: expired, it is paid and waits
    (0, [rel(0, "v", vip_free=True)],
     {"account": AccountView("VIP", NOW - timedelta(days=1))}, "wait"),
    (0, [rel(0, "p")], {"wedges": 1}, WEDGE),  # a wedge makes it free: no wait
])
def test_wait_for_free_table(days_ago, releases, kw, expected):
    plan = plan_run([wanted(days_ago, *releases)], situation(**kw), WAITING)
    [action] = plan.actions
    if expected == "wait":
        assert isinstance(action, Wait) and "waiting for a free release" in action.reason
        assert "PAID_AFTER_DAYS" in action.reason
        assert plan.left.paid == plan.budget.paid  # no paid slot taken
        assert plan.left.buffer_bytes == plan.budget.buffer_bytes
    else:
        assert isinstance(action, Grab) and action.candidate.edition == expected


def test_a_waiting_book_leaves_the_paid_slot_to_one_that_has_waited():
    books = [wanted(1, rel(0, "a"), n=0), wanted(20, rel(1, "b"), n=1)]
    plan = plan_run(books, situation(), WAITING)
    assert isinstance(plan.actions[0], Wait)
    [grab] = [a for a in plan.actions if isinstance(a, Grab)]
    assert grab.wanted_id == 1 and grab.candidate.edition == PAID


def test_zero_days_is_the_old_behaviour():
    plan = plan_run([wanted(0, rel(0, "p"))], situation(), replace(POLICIES, paid_after_days=0))
    assert [a.candidate.edition for a in plan.actions if isinstance(a, Grab)] == [PAID]


@RUNS
@given(books=books_st, s=situations, policies=policies_st,
       ages=st.lists(st.none() | st.floats(-5, 60), min_size=6, max_size=6),
       days=st.sampled_from([0, 3, 14, 30]), verified=st.lists(st.booleans(), max_size=4))
def test_no_paid_grab_for_a_book_wanted_less_than_paid_after_days_ago(
        books, s, policies, ages, days, verified):
    policies = replace(policies, paid_after_days=days)
    books = [replace(b, wanted_at=None if age is None else NOW - timedelta(days=age))
             for b, age in zip(books, ages, strict=False)]
    age_of = {b.wanted_id: b.wanted_at for b in books}
    _, done = execute(books, s, policies, verified)
    for grab in done:
        at = age_of[grab.wanted_id]
        # 0 days is "paid at once", also for a book whose wanted time is ahead of the
        # clock (negative ages); any other wait holds such a book back
        if grab.candidate.edition == PAID and at is not None and days > 0:
            assert NOW - at >= timedelta(days=days), grab.reason
    # a book kept waiting for free is never refused a free release
    for plan in run_plans(books, s, policies, lambda a: None):
        for action in plan.actions:
            if isinstance(action, Wait) and "waiting for a free release" in action.reason:
                assert action.choice is not None and action.choice.chosen.edition == PAID
