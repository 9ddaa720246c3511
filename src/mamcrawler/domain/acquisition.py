"""Acquisition decisions (R6-R10) for one run, as a pure function returning typed actions.

`plan_run` takes the searched wanted books (most important first), the account's
situation (stats, guard, events, downloads in flight) and the policies, and returns what
to do with each book: `Grab`, `Wait`, `Done`, `AddVipPending` or `SearchFailed`, every one
with its reason. The shell carries the actions out in order and reads back what happened
(the torrent really free after a wedge?); when the outcome differs from the plan it adds
the grab to `Situation.in_flight` as it really is and plans the remaining books again.

Rules that hold by construction (tests/unit/test_acquisition_plan.py states them over
whole runs and sequences of runs):
- grabs never exceed the seeding capacity; an unknown unsatisfied count or limit means no
  grab at all;
- nothing paid while the guard is frozen, and a wedge only where the release would also be
  affordable paid (an unverified wedge is paid): a wedge that does not take never costs
  more ratio than the guard allows;
- every paid or wedge grab leaves the upload buffer (after downloads in flight, free ones
  whose freeness may end before they finish included) at or above size x margin;
- wedges are counted down per grab and used only on releases fetched from the tracker;
- a book goes to the VIP-pending list only when the ratio alone stood in its way;
- no paid grab for a book wanted less than `paid_after_days` ago (wait for free): free
  releases and wedges are taken at once, a paid one only once the book has waited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mamcrawler.domain import rate, seeding
from mamcrawler.domain.freeness import (
    FREELEECH,
    AccountView,
    Freeness,
    SiteEvent,
    possible_cost_bytes,
    running_events,
    utc,
)
from mamcrawler.domain.matching import BookTarget, grade_rank
from mamcrawler.domain.quality import HeldEdition
from mamcrawler.domain.ratio_guard import GuardPolicy, GuardState, upload_buffer_bytes
from mamcrawler.domain.records import Release
from mamcrawler.domain.release_choice import (
    DUPLICATE,
    FREE,
    PAID,
    RATIO,
    WEDGE,
    Candidate,
    Choice,
    ChoiceContext,
    ChoicePolicy,
    choose,
)
from mamcrawler.domain.seeding import SeedingPolicy

BONUS = "bonus"


@dataclass(frozen=True)
class BookSearch:
    """One wanted book and what the search paths found for it."""

    wanted_id: int
    target: BookTarget
    releases: tuple[Release, ...] = ()
    held: HeldEdition | None = None  # the library's copy, if any
    search_error: str | None = None  # set when every search path failed
    wanted_at: datetime | None = None  # when it was first wanted; None: long enough ago


@dataclass(frozen=True)
class InFlight:
    """A download in progress, as far as its cost goes."""

    edition: str  # FREE, WEDGE or PAID as recorded (an unverified wedge is PAID)
    size_bytes: int
    remaining_bytes: int
    freeness: Freeness  # as it stands now (events and VIP may have ended)
    eta_s: float | None = None  # seconds until done at the current speed; None unknown


@dataclass(frozen=True)
class Situation:
    """The account and client as the run starts (plus grabs it made, when re-planning)."""

    account: AccountView
    uploaded_bytes: int
    downloaded_bytes: int
    wedges: int
    unsatisfied_count: int | None  # None: the tracker's answer was unreadable
    unsatisfied_limit: int | None
    guard: GuardState
    now: datetime
    events: tuple[SiteEvent, ...] = ()
    in_flight: tuple[InFlight, ...] = ()
    grabs_this_run: int = 0  # grabs already started by this run (re-planning)
    wedges_trusted: bool = True  # False once a wedge did not verifiably take


@dataclass(frozen=True)
class AcquisitionPolicies:
    rate: rate.RatePolicy
    choice: ChoicePolicy
    guard: GuardPolicy
    seeding: SeedingPolicy
    paid_after_days: float = 0  # wait this long for a free release before a paid grab


@dataclass(frozen=True)
class Budget:
    free: int
    paid: int
    buffer_bytes: int  # what paid downloads may still take, after everything in flight
    wedges: int
    capacity: int  # snatches left under the unsatisfied limit
    reason: str


# --- actions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Grab:
    wanted_id: int
    choice: Choice
    reason: str

    @property
    def candidate(self) -> Candidate:
        assert self.choice.chosen is not None
        return self.choice.chosen

    @property
    def release(self) -> Release:
        return self.candidate.release

    @property
    def use_wedge(self) -> bool:
        return self.choice.use_wedge


@dataclass(frozen=True)
class Wait:
    """Nothing to grab now; search again later."""

    wanted_id: int
    reason: str
    choice: Choice | None = None


@dataclass(frozen=True)
class Done:
    """The library already holds an edition at least as good."""

    wanted_id: int
    reason: str


@dataclass(frozen=True)
class AddVipPending:
    """The right release exists but costs ratio the account cannot spend now."""

    wanted_id: int
    release: Release
    reason: str  # the choice, for the wanted book's note
    pending_reason: str  # why the ratio stood in the way, for the VIP-pending entry


@dataclass(frozen=True)
class SearchFailed:
    """Every search path failed: not a real search, try again next run."""

    wanted_id: int
    reason: str


Action = Grab | Wait | Done | AddVipPending | SearchFailed


@dataclass(frozen=True)
class RunPlan:
    actions: tuple[Action, ...]
    budget: Budget  # as it stood before the first action
    left: Budget  # after every planned grab

    @property
    def grabs(self) -> tuple[Grab, ...]:
        return tuple(a for a in self.actions if isinstance(a, Grab))


# --- the decision ----------------------------------------------------------------------

def budget(situation: Situation, policies: AcquisitionPolicies) -> Budget:
    """This run's free and paid grab slots, upload buffer, wedges and capacity."""
    s = situation
    if s.unsatisfied_count is None or s.unsatisfied_limit is None:
        unknown = "count" if s.unsatisfied_count is None else "limit"
        return Budget(0, 0, 0, 0, 0, f"unsatisfied {unknown} unknown (the tracker's answer "
                                     "was unreadable): no new grabs until it can be read")
    capacity = max(0, seeding.grab_capacity(s.unsatisfied_count, s.unsatisfied_limit,
                                            policies.seeding) - s.grabs_this_run)
    slots = rate.slots(policies.rate,
                       freeleech_event=bool(running_events(s.events, FREELEECH, s.now)),
                       bonus_event=bool(running_events(s.events, BONUS, s.now)),
                       guard_frozen=s.guard.frozen, seeding_capacity=capacity)
    free_active = sum(1 for f in s.in_flight if f.edition in (FREE, WEDGE))
    paid_active = sum(1 for f in s.in_flight if f.edition == PAID)
    at_risk = sum(_cost_at_risk(f, s.now) for f in s.in_flight)
    buffer = upload_buffer_bytes(s.uploaded_bytes, s.downloaded_bytes, policies.guard.floor)
    wedges = s.wedges if (policies.choice.wedges_enabled and s.wedges_trusted) else 0
    why = (f"slots: {slots.reason}; {len(s.in_flight)} in flight ({paid_active} paid); "
           f"{_gib(at_risk)} GiB in flight may cost ratio")
    if not s.wedges_trusted and policies.choice.wedges_enabled:
        why += "; wedges paused: an earlier wedge did not verifiably take"
    return Budget(free=max(0, slots.free - free_active), paid=max(0, slots.paid - paid_active),
                  buffer_bytes=buffer - at_risk, wedges=max(0, wedges), capacity=capacity,
                  reason=why)


def _cost_at_risk(download: InFlight, now: datetime) -> int:
    """Bytes of a download in flight that may still be charged to the account."""
    if download.edition == PAID:
        return max(download.size_bytes, 0)
    return possible_cost_bytes(download.freeness, download.remaining_bytes, download.eta_s, now)


def plan_run(books: Sequence[BookSearch], situation: Situation,
             policies: AcquisitionPolicies) -> RunPlan:
    """What to do with each book, in the order given (most important first)."""
    start = budget(situation, policies)
    left = _Left(start.free, start.paid, start.buffer_bytes, start.wedges, start.capacity)
    actions = tuple(_decide_book(book, situation, policies, left, start) for book in books)
    return RunPlan(actions, start, replace(start, free=left.free, paid=left.paid,
                                           buffer_bytes=left.buffer, wedges=left.wedges,
                                           capacity=left.capacity))


def run_plans(books: Sequence[BookSearch], situation: Situation,
              policies: AcquisitionPolicies,
              act: Callable[[Action], InFlight | None]) -> list[RunPlan]:
    """Plan, carry out through `act`, and plan again when an outcome differs from the plan.

    `act` (the shell) does one action and returns None when it went as planned, or the
    grab as it really is (a wedge that did not take: paid) — then the books not yet acted
    on are planned again with that grab counted, wedges paused. Returns every plan made.
    """
    plans: list[RunPlan] = []
    remaining = list(books)
    while remaining:
        plan = plan_run(remaining, situation, policies)
        plans.append(plan)
        for index, action in enumerate(plan.actions):
            deviated = act(action)
            if deviated is not None:
                remaining = remaining[index + 1:]
                situation = after_deviation(situation, plan, index, deviated)
                break
        else:
            break
    return plans


def after_deviation(situation: Situation, plan: RunPlan, index: int,
                    grab: InFlight) -> Situation:
    """The situation once action `index` of `plan` came out as `grab` instead: the grabs
    before it went as planned, it is in flight as it really is, and wedges pause."""
    done = [a for a in plan.actions[:index] if isinstance(a, Grab)]
    flying = tuple(_as_planned(g) for g in done) + (grab,)
    wedges_spent = sum(1 for g in done if g.use_wedge) + 1
    return replace(situation, in_flight=situation.in_flight + flying,
                   grabs_this_run=situation.grabs_this_run + len(flying),
                   wedges=max(0, situation.wedges - wedges_spent), wedges_trusted=False)


def _as_planned(grab: Grab) -> InFlight:
    size = max(grab.release.size_bytes, 0)
    free = grab.candidate.freeness or Freeness(False, "unknown")
    if grab.use_wedge:  # verified: personal freeleech, which can end
        free = Freeness(True, "personal freeleech (wedge)", True, None)
    return InFlight(grab.candidate.edition, size, size, free)


@dataclass
class _Left:
    free: int
    paid: int
    buffer: int
    wedges: int
    capacity: int
    notes: list[str] = field(default_factory=list)


def _decide_book(book: BookSearch, s: Situation, policies: AcquisitionPolicies, left: _Left,
                 start: Budget) -> Action:
    if book.search_error is not None:
        return SearchFailed(book.wanted_id, f"search failed: {book.search_error}")
    ctx = ChoiceContext(account_class=s.account.class_name, vip_until=s.account.vip_until,
                        events=s.events, wedges_available=left.wedges, guard_state=s.guard,
                        guard_policy=policies.guard, upload_buffer_bytes=left.buffer,
                        library_copy=book.held, now=s.now)
    choice = choose(book.target, book.releases, ctx, policies.choice)
    chosen = choice.chosen
    if chosen is None:
        return _no_choice(book, choice)
    if left.capacity <= 0:
        return Wait(book.wanted_id, f"{choice.reason}; waiting: no seeding capacity "
                                    f"({start.reason})", choice)
    if chosen.edition == PAID:
        waiting = _waiting_for_free(book, s.now, policies.paid_after_days)
        if waiting is not None:
            return Wait(book.wanted_id, f"{choice.reason}; {waiting}", choice)
        if left.paid <= 0:
            return Wait(book.wanted_id, f"{choice.reason}; waiting: no paid slot this run "
                                        f"({start.reason})", choice)
        left.paid -= 1
        left.buffer -= chosen.release.size_bytes
    else:
        if left.free <= 0:
            return Wait(book.wanted_id, f"{choice.reason}; waiting: no free slot this run "
                                        f"({start.reason})", choice)
        left.free -= 1
        if chosen.edition == WEDGE:
            # reserved as paid until the tracker shows the torrent free
            left.wedges -= 1
            left.buffer -= chosen.release.size_bytes
    left.capacity -= 1
    return Grab(book.wanted_id, choice, choice.reason)


def _waiting_for_free(book: BookSearch, now: datetime, paid_after_days: float) -> str | None:
    """Why a paid grab must wait for a free release yet, or None once it may go ahead."""
    if book.wanted_at is None or paid_after_days <= 0:
        return None
    waited = utc(now) - utc(book.wanted_at)
    if waited >= timedelta(days=paid_after_days):
        return None
    return (f"waiting for a free release: only paid ones now, wanted "
            f"{max(waited / timedelta(days=1), 0):.1f} days ago; paid after "
            f"{paid_after_days:g} days (PAID_AFTER_DAYS)")


def _no_choice(book: BookSearch, choice: Choice) -> Action:
    if book.held is not None and any(_right_book(c) and DUPLICATE in c.rejection_codes
                                     for c in choice.candidates):
        return Done(book.wanted_id, f"{choice.reason}; the library copy is as good")
    refused = ratio_refused(choice)
    if refused is not None:
        return AddVipPending(book.wanted_id, refused.release, choice.reason,
                             "; ".join(refused.rejections))
    return Wait(book.wanted_id, choice.reason, choice)


def _right_book(candidate: Candidate) -> bool:
    return grade_rank(candidate.match.grade) <= grade_rank("medium")


def ratio_refused(choice: Choice) -> Candidate | None:
    """The best candidate that is the right book and was refused for the ratio alone."""
    for candidate in choice.candidates:
        if (candidate.edition == PAID and _right_book(candidate)
                and candidate.rejection_codes == (RATIO,)):
            return candidate
    return None


def _gib(n: int) -> str:
    return f"{n / 2**30:,.2f}"
