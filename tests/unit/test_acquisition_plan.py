"""The acquisition plan (issue 9): the reproduced cases as tables, and the account-safety
rules as properties over whole runs (with re-planning) and sequences of runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.acquisition import (
    AcquisitionPolicies,
    AddVipPending,
    BookSearch,
    Done,
    Grab,
    InFlight,
    SearchFailed,
    Situation,
    Wait,
    budget,
    plan_run,
    run_plans,
)
from mamcrawler.domain.freeness import AccountView, Freeness, SiteEvent, freeness
from mamcrawler.domain.matching import BookTarget
from mamcrawler.domain.quality import HeldEdition
from mamcrawler.domain.rate import RatePolicy
from mamcrawler.domain.ratio_guard import GuardPolicy, GuardState
from mamcrawler.domain.records import Release
from mamcrawler.domain.release_choice import FREE, PAID, WEDGE, ChoicePolicy
from mamcrawler.domain.seeding import SeedingPolicy

GIB, MIB = 2**30, 2**20
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
FROZEN = GuardState(frozen=True, last_ratio=0.97)
POLICIES = AcquisitionPolicies(RatePolicy(base_slots=3, paid_slots=1),
                               ChoicePolicy(wedges_enabled=True), GuardPolicy(),
                               SeedingPolicy())
TITLES = ["Salt and Cinder", "The Tidewater Clock", "Lanterns Under Ice",
          "A Map of Quiet Places", "The Glass Orchard", "North of the Bells"]


def book(n: int, *releases: Release, held: HeldEdition | None = None) -> BookSearch:
    return BookSearch(n, BookTarget(TITLES[n], ("Ivo Marsh",)), tuple(releases), held)


def rel(n: int, rid: str, **kw) -> Release:
    values = {"id": rid, "title": TITLES[n], "authors": ("Ivo Marsh",), "format": "m4b",
              "size_bytes": 2 * GIB, "seeders": 9, "tags": "64 kbps"}
    values.update(kw)
    return Release(**values)


def situation(**kw) -> Situation:
    values = {"account": AccountView("Power User"), "uploaded_bytes": 300 * GIB,
              "downloaded_bytes": 100 * GIB, "wedges": 0, "unsatisfied_count": 5,
              "unsatisfied_limit": 100, "guard": GuardState(), "now": NOW}
    values.update(kw)
    return Situation(**values)


def grabs(plan) -> list[Grab]:
    return [a for a in plan.actions if isinstance(a, Grab)]


# --- the cases of issue 9, each reproduced ---------------------------------------------

def test_case1_prowlarr_release_is_never_a_wedge_and_is_paid_for_the_guard():
    prowlarr = rel(0, "p1", source="prowlarr:MAM", download_url="http://127.0.0.1/t")
    plan = plan_run([book(0, prowlarr)], situation(guard=FROZEN, wedges=3), POLICIES)
    assert grabs(plan) == []
    thawed = plan_run([book(0, prowlarr)], situation(wedges=3), POLICIES)
    [grab] = grabs(thawed)
    assert grab.candidate.edition == PAID and not grab.use_wedge


def test_case2_wedges_are_counted_down_within_a_run():
    books = [book(n, rel(n, f"m{n}")) for n in range(3)]
    frozen = plan_run(books, situation(guard=FROZEN, wedges=1), POLICIES)
    assert grabs(frozen) == []  # a wedge that does not take is paid: not while frozen
    thawed = plan_run(books, situation(wedges=1), POLICIES)
    editions = [g.candidate.edition for g in grabs(thawed)]
    assert editions == [WEDGE, PAID]  # one wedge, then the one paid slot
    assert isinstance(thawed.actions[2], Wait) and "no paid slot" in thawed.actions[2].reason
    assert thawed.left.wedges == 0


def test_case2_a_wedge_that_does_not_take_pauses_wedges_and_is_counted_paid():
    books = [book(n, rel(n, f"m{n}")) for n in range(3)]
    rich = situation(wedges=2, uploaded_bytes=900 * GIB)
    done: list[Grab] = []

    def act(action):
        if isinstance(action, Grab):
            done.append(action)
            if action.use_wedge:  # the tracker does not show it free afterwards
                return InFlight(PAID, action.release.size_bytes, action.release.size_bytes,
                                Freeness(False, "wedge not verified"))
        return None

    plans = run_plans(books, rich, POLICIES, act)
    assert len(plans) == 2
    assert [g.use_wedge for g in done] == [True]
    assert "wedges paused" in plans[1].budget.reason
    assert plans[1].budget.paid == 0  # the unverified wedge took the paid slot
    assert all(isinstance(a, Wait) and "no paid slot" in a.reason for a in plans[1].actions)


def test_case3_an_ended_freeleech_event_makes_nothing_free():
    ended = SiteEvent("freeleech", ends=NOW - timedelta(minutes=5))
    plan = plan_run([book(0, rel(0, "m1"))], situation(guard=FROZEN, events=(ended,)),
                    POLICIES)
    assert grabs(plan) == []
    running = SiteEvent("freeleech", ends=NOW + timedelta(hours=6))
    plan = plan_run([book(0, rel(0, "m1"))], situation(guard=FROZEN, events=(running,)),
                    POLICIES)
    assert [g.candidate.edition for g in grabs(plan)] == [FREE]
    assert plan.budget.free == 4  # the freeleech boost counts only while it runs


@pytest.mark.parametrize(("count", "limit"), [(None, 150), (5, None), (None, None)])
def test_case5_an_unreadable_unsatisfied_count_means_no_grabs(count, limit):
    plan = plan_run([book(0, rel(0, "f", free=True))],
                    situation(unsatisfied_count=count, unsatisfied_limit=limit), POLICIES)
    assert grabs(plan) == []
    assert "unknown" in plan.budget.reason and "no new grabs" in plan.budget.reason
    assert isinstance(plan.actions[0], Wait) and "no seeding capacity" in plan.actions[0].reason


def test_case8_vip_free_needs_vip_that_has_not_expired():
    lapsed = AccountView("VIP", vip_until=NOW - timedelta(hours=2))
    plan = plan_run([book(0, rel(0, "v", vip_free=True))],
                    situation(account=lapsed, guard=FROZEN), POLICIES)
    assert grabs(plan) == []
    valid = AccountView("VIP", vip_until=NOW + timedelta(days=20))
    plan = plan_run([book(0, rel(0, "v", vip_free=True))],
                    situation(account=valid, guard=FROZEN), POLICIES)
    assert [g.candidate.edition for g in grabs(plan)] == [FREE]


def test_case9_free_downloads_whose_freeness_may_end_count_against_the_buffer():
    # buffer 300/1.0 - 297 = 3 GiB; a 2 GiB paid grab needs 3 GiB
    tight = situation(uploaded_bytes=300 * GIB, downloaded_bytes=297 * GIB)
    assert [g.candidate.edition for g in grabs(plan_run([book(0, rel(0, "p"))], tight,
                                                         POLICIES))] == [PAID]
    event_ends = NOW + timedelta(hours=1)
    under_event = Freeness(True, "site-wide freeleech", True, event_ends)
    slow = InFlight(FREE, 4 * GIB, 2 * GIB, under_event, eta_s=5 * 3600)  # ends first
    plan = plan_run([book(0, rel(0, "p"))], replace(tight, in_flight=(slow,)), POLICIES)
    assert grabs(plan) == [] and plan.budget.buffer_bytes == GIB
    fast = replace(slow, eta_s=600)  # done before the event ends: no risk
    assert budget(replace(tight, in_flight=(fast,)), POLICIES).buffer_bytes == 3 * GIB
    lasting = InFlight(FREE, 4 * GIB, 2 * GIB, Freeness(True, "freeleech torrent"))
    assert budget(replace(tight, in_flight=(lasting,)), POLICIES).buffer_bytes == 3 * GIB


def test_case11_vip_pending_only_when_the_ratio_alone_refused():
    dead = rel(0, "dead", seeders=0)
    plan = plan_run([book(0, dead)], situation(guard=FROZEN), POLICIES)
    assert not any(isinstance(a, AddVipPending) for a in plan.actions)
    plan = plan_run([book(0, rel(0, "alive"))], situation(guard=FROZEN), POLICIES)
    [pending] = plan.actions
    assert isinstance(pending, AddVipPending) and "≤ floor" in pending.pending_reason


def test_other_outcomes_done_and_search_failed():
    held = HeldEdition("m4b", 128)
    plan = plan_run([book(0, rel(0, "f", free=True), held=held),
                     BookSearch(1, BookTarget(TITLES[1]), search_error="mam: 503")],
                    situation(), POLICIES)
    assert isinstance(plan.actions[0], Done)
    assert isinstance(plan.actions[1], SearchFailed) and "503" in plan.actions[1].reason


# --- properties over whole runs and sequences of runs ---------------------------------

sizes = st.sampled_from([0, 300 * MIB, 900 * MIB, 2 * GIB, 2 * GIB, 5 * GIB])
rarely = st.sampled_from([False, False, False, True])
releases = st.builds(
    dict, size_bytes=sizes, seeders=st.sampled_from([0, 1, 9, 9]),
    free=rarely, personal_freeleech=rarely, vip_free=rarely,
    source=st.sampled_from(["mam", "mam", "mam", "prowlarr:MAM"]),
    format=st.sampled_from(["m4b", "m4b", "mp3", "epub"]))
books_st = st.lists(st.lists(releases, max_size=3), min_size=1, max_size=6).map(
    lambda per_book: [book(n, *(rel(n, f"r{n}-{i}", **kw) for i, kw in enumerate(found)))
                      for n, found in enumerate(per_book)])
events_st = st.lists(st.builds(
    SiteEvent, kind=st.sampled_from(["freeleech", "bonus"]),
    ends=st.none() | st.sampled_from([NOW - timedelta(hours=1), NOW + timedelta(hours=2)])),
    max_size=2).map(tuple)
in_flight_st = st.lists(st.builds(
    InFlight, edition=st.sampled_from([FREE, WEDGE, PAID]), size_bytes=sizes,
    remaining_bytes=sizes,
    freeness=st.sampled_from([Freeness(True, "lasting"), Freeness(True, "event", True, None),
                              Freeness(True, "event", True, NOW + timedelta(hours=3)),
                              Freeness(False, "paid")]),
    eta_s=st.none() | st.sampled_from([60.0, 36_000.0])), max_size=4).map(tuple)
situations = st.builds(
    situation,
    account=st.builds(AccountView, st.sampled_from(["VIP", "Power User", "Elite VIP"]),
                      st.none() | st.sampled_from([NOW - timedelta(days=1),
                                                   NOW + timedelta(days=9)])),
    uploaded_bytes=st.integers(0, 400).map(lambda g: g * GIB),
    downloaded_bytes=st.integers(0, 250).map(lambda g: g * GIB),
    wedges=st.sampled_from([0, 1, 3]),
    unsatisfied_count=st.sampled_from([None, 0, 5, 40, 88, 100]),
    unsatisfied_limit=st.sampled_from([None, 50, 100, 100, 150]),
    guard=st.sampled_from([GuardState(), GuardState(), FROZEN]), events=events_st,
    in_flight=in_flight_st)
policies_st = st.builds(
    AcquisitionPolicies, st.builds(RatePolicy, base_slots=st.integers(0, 4),
                                   paid_slots=st.integers(0, 3)),
    st.builds(ChoicePolicy, wedges_enabled=st.sampled_from([True, True, False]),
              min_seeders=st.just(1),
              wedge_min_size_bytes=st.sampled_from([0, GIB])),
    st.builds(GuardPolicy, paid_size_margin=st.sampled_from([1.0, 1.5])),
    st.builds(SeedingPolicy, unsat_margin=st.integers(0, 10)))
RUNS = settings(max_examples=1500, deadline=None)


def at_risk(s: Situation) -> int:
    from mamcrawler.domain.acquisition import _cost_at_risk
    return sum(_cost_at_risk(f, s.now) for f in s.in_flight)


def execute(books, s, policies, verified: list[bool]):
    """Carry a run out as the shell does; wedges take or not as `verified` says."""
    done: list[Grab] = []
    failed_wedges: list[int] = []  # positions in `done` of wedges that did not take

    def act(action):
        if not isinstance(action, Grab):
            return None
        done.append(action)
        if action.use_wedge and not (verified.pop(0) if verified else True):
            failed_wedges.append(len(done) - 1)
            size = action.release.size_bytes
            return InFlight(PAID, size, size, Freeness(False, "wedge not verified"))
        return None

    plans = run_plans(books, s, policies, act)
    execute.failed_wedges = failed_wedges
    return plans, done


def check_run(s: Situation, policies: AcquisitionPolicies, plans, done: list[Grab]) -> None:
    paid_like = [g for g in done if g.candidate.edition in (PAID, WEDGE)]
    if s.guard.frozen:
        assert paid_like == [], "nothing paid or wedged while the guard is frozen"
    if s.unsatisfied_count is None or s.unsatisfied_limit is None:
        assert done == []
    else:
        room = max(0, s.unsatisfied_limit - policies.seeding.unsat_margin
                   - s.unsatisfied_count)
        assert len(done) <= room
    wedges = [g for g in done if g.use_wedge]
    assert len(wedges) <= (s.wedges if policies.choice.wedges_enabled else 0)
    for grab in done:
        assert grab.candidate.accepted
        release = grab.release
        if grab.candidate.edition == FREE:
            assert release.source == "mam"
            assert freeness(release, s.account, s.events, s.now).free
        if grab.use_wedge:
            assert release.source == "mam" and not release.vip_free
    if paid_like:
        margin = Fraction(policies.guard.paid_size_margin)
        spent = at_risk(s) + sum(Fraction(g.release.size_bytes) for g in paid_like)
        # the buffer covered every paid byte (and the margin on the last one at least)
        assert Fraction(s.uploaded_bytes) / policies.guard.floor >= s.downloaded_bytes + spent
        last = paid_like[-1].release.size_bytes
        assert (Fraction(s.uploaded_bytes) / Fraction(policies.guard.floor)
                - s.downloaded_bytes - spent + last) >= last * margin


@RUNS
@given(books_st, situations, policies_st, st.lists(st.booleans(), min_size=1, max_size=4))
def test_every_run_keeps_the_account_safe(books, s, policies, verified):
    plans, done = execute(books, s, policies, list(verified))
    check_run(s, policies, plans, done)


@RUNS
@given(books_st, situations, policies_st)
def test_vip_pending_only_for_the_ratio_alone(books, s, policies):
    plan = plan_run(books, s, policies)
    for action, searched in zip(plan.actions, books, strict=True):
        if isinstance(action, AddVipPending):
            ids = {r.id for r in searched.releases}
            assert action.release.id in ids and action.release.seeders >= 1
            assert "skipped" in action.pending_reason


@settings(max_examples=400, deadline=None)
@given(st.lists(books_st, min_size=2, max_size=5), situations, policies_st,
       st.lists(st.booleans(), max_size=8), st.randoms(use_true_random=False))
def test_a_sequence_of_runs_never_spends_below_the_floor(runs, s, policies, verified, rnd):
    """Grabs stay in flight across runs (paid ones count in full until they finish), so a
    run never spends what an earlier run already committed."""
    for books in runs:
        plans, done = execute(books, s, policies, verified)
        check_run(s, policies, plans, done)
        flying = list(s.in_flight)
        for grab in done:
            size = grab.release.size_bytes
            flying.append(InFlight(grab.candidate.edition, size, size,
                                   grab.candidate.freeness or Freeness(False, "?")))
        finished = [f for f in flying if rnd.random() < 0.5]
        charged = sum(f.size_bytes for f in finished if f.edition == PAID)
        s = replace(s, in_flight=tuple(f for f in flying if f not in finished),
                    downloaded_bytes=s.downloaded_bytes + charged, grabs_this_run=0,
                    unsatisfied_count=None if s.unsatisfied_count is None
                    else s.unsatisfied_count + len(done))


paid_mam = st.builds(dict, size_bytes=st.sampled_from([GIB, 2 * GIB, 5 * GIB]),
                     seeders=st.just(9), vip_free=rarely)
wedge_books = st.lists(st.lists(paid_mam, min_size=1, max_size=2), min_size=2,
                       max_size=6).map(
    lambda per_book: [book(n, *(rel(n, f"w{n}-{i}", **kw) for i, kw in enumerate(found)))
                      for n, found in enumerate(per_book)])
wedge_situations = st.builds(
    situation, uploaded_bytes=st.integers(100, 400).map(lambda g: g * GIB),
    downloaded_bytes=st.integers(50, 250).map(lambda g: g * GIB), wedges=st.integers(1, 4),
    guard=st.sampled_from([GuardState(), GuardState(), FROZEN]), in_flight=in_flight_st)
wedge_policies = st.builds(
    AcquisitionPolicies, st.builds(RatePolicy, base_slots=st.integers(1, 5),
                                   paid_slots=st.integers(0, 2)),
    st.builds(ChoicePolicy, wedges_enabled=st.just(True), wedge_min_size_bytes=st.just(0)),
    st.builds(GuardPolicy), st.builds(SeedingPolicy))


@RUNS
@given(wedge_books, wedge_situations, wedge_policies,
       st.lists(st.booleans(), min_size=1, max_size=6))
def test_runs_where_wedges_may_not_take(books, s, policies, verified):
    plans, done = execute(books, s, policies, list(verified))
    check_run(s, policies, plans, done)
    failed = execute.failed_wedges
    assert len(failed) <= 1 and len(plans) <= 1 + len(failed)
    if failed:  # after a wedge that did not take, no further wedge this run
        assert not any(g.use_wedge for g in done[failed[0] + 1:])
        assert len(plans) == 1 or "wedges paused" in plans[-1].budget.reason
