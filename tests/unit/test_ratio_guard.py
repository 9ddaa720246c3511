import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.ratio_guard import (
    ForceStartStalled,
    GuardPolicy,
    GuardState,
    PointsSnapshot,
    RaiseUploadSlots,
    RestoreSettings,
    ResumeSeeding,
    hours_to_recovery,
    keep_seeding,
    may_grab,
    points_flow,
    ratio_text,
    step,
    torrent_actions,
    upload_buffer_bytes,
)
from mamcrawler.domain.records import Release
from mamcrawler.domain.seeding import ForceStartTorrent, ResumeTorrent
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=5)
POLICY = GuardPolicy()  # floor 1.00, recovery 1.05, margin 1.5
THAWED = GuardState(frozen=False, since=EARLIER, last_ratio=1.2, last_checked=EARLIER)
FROZEN = GuardState(frozen=True, since=EARLIER, last_ratio=0.98, last_checked=EARLIER)
KEEP_SEEDING = [ResumeSeeding, RaiseUploadSlots, ForceStartStalled]
GIB = 2**30


@pytest.mark.parametrize(
    ("state", "ratio", "frozen", "transition", "actions", "words"),
    [
        (THAWED, 0.98, True, ("thawed", "frozen"), KEEP_SEEDING, "ratio 0.98 ≤ floor 1.00"),
        (THAWED, 1.0, True, ("thawed", "frozen"), KEEP_SEEDING, "ratio 1.00 ≤ floor 1.00"),
        (THAWED, 1.03, False, None, [], "between floor 1.00 and recovery 1.05: stays thawed"),
        (THAWED, 1.05, False, None, [], "stays thawed"),
        (THAWED, 1.2, False, None, [], "ratio 1.20 > recovery 1.05: stays thawed"),
        (THAWED, None, False, None, [], "ratio ∞ > recovery"),
        (FROZEN, 0.9, True, None, KEEP_SEEDING, "ratio 0.90 ≤ floor 1.00: stays frozen"),
        (FROZEN, 1.03, True, None, KEEP_SEEDING, "stays frozen"),
        (FROZEN, 1.05, True, None, KEEP_SEEDING, "stays frozen"),
        (FROZEN, 1.0501, False, ("frozen", "thawed"), [RestoreSettings],
         "ratio 1.0501 > recovery 1.05: frozen → thawed"),
        (FROZEN, None, False, ("frozen", "thawed"), [RestoreSettings], "ratio ∞"),
        (GuardState(), 1.02, False, None, [], "stays thawed"),  # first run ever
        (GuardState(), 0.5, True, ("thawed", "frozen"), KEEP_SEEDING, "0.50"),
    ],
)
def test_step_table(state, ratio, frozen, transition, actions, words):
    result = step(state, ratio, NOW, POLICY)
    assert result.new_state.frozen is frozen
    assert [type(a) for a in result.actions] == actions
    assert words in result.reason
    assert all(a.reason == result.reason for a in result.actions)
    assert result.new_state.last_ratio == ratio
    assert result.new_state.last_checked == NOW
    if transition is None:
        assert result.transition is None
        assert result.new_state.since == state.since
    else:
        assert (result.transition.from_state, result.transition.to_state) == transition
        assert result.transition.ratio == ratio
        assert result.transition.at == NOW
        assert result.transition.reason == result.reason
        assert result.new_state.since == NOW


def test_freezing_raises_the_configured_upload_slots():
    result = step(THAWED, 0.9, NOW, GuardPolicy(raised_upload_slots=77))
    raise_slots = next(a for a in result.actions if isinstance(a, RaiseUploadSlots))
    assert raise_slots.slots == 77


def test_keep_seeding_is_what_a_frozen_step_returns():
    frozen = step(FROZEN, 0.9, NOW, POLICY)
    assert keep_seeding(POLICY, frozen.reason) == frozen.actions


def seed(info_hash: str, raw: str, state: TorrentState, progress: float = 1.0):
    return TorrentSnapshot(hash=info_hash, name=info_hash, state=state, raw_state=raw,
                           progress=progress)


TORRENTS = [
    seed("p", "pausedUP", TorrentState.PAUSED),
    seed("s", "stoppedUP", TorrentState.PAUSED),
    seed("q", "queuedUP", TorrentState.QUEUED),
    seed("st", "stalledDL", TorrentState.STALLED, 0.3),
    seed("dl", "pausedDL", TorrentState.PAUSED, 0.3),
    seed("up", "stalledUP", TorrentState.SEEDING),
    seed("f", "forcedDL", TorrentState.DOWNLOADING, 0.3),
]


def test_torrent_actions_name_every_torrent_the_frozen_guard_sets_going():
    actions = torrent_actions(keep_seeding(POLICY, "ratio 0.90 ≤ floor 1.00"), TORRENTS)
    assert [(type(a), a.hash) for a in actions] == [
        (ResumeTorrent, "p"), (ResumeTorrent, "s"), (ForceStartTorrent, "q"),
        (ForceStartTorrent, "st"),
    ]
    assert all("ratio 0.90 ≤ floor 1.00" in a.reason for a in actions)
    assert "stalledDL" in actions[3].reason


def test_torrent_actions_skip_torrents_already_handled_and_other_actions():
    actions = torrent_actions(keep_seeding(POLICY, "x"), TORRENTS, skip={"p", "q"})
    assert [a.hash for a in actions] == ["s", "st"]
    assert torrent_actions([RestoreSettings("thawed"), RaiseUploadSlots(9, "x")], TORRENTS) == ()


@pytest.mark.parametrize("state", [THAWED, FROZEN])
@pytest.mark.parametrize("ratio", [math.nan, -0.5])
def test_unusable_reading_keeps_the_state(state, ratio):
    result = step(state, ratio, NOW, POLICY)
    assert result.transition is None
    assert result.new_state.frozen is state.frozen
    assert result.new_state.last_ratio == state.last_ratio  # the bad reading is not kept
    assert result.new_state.last_checked == NOW
    assert "unusable" in result.reason
    assert [type(a) for a in result.actions] == (KEEP_SEEDING if state.frozen else [])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"floor": 0},
        {"floor": 1.05, "recovery": 1.05},
        {"floor": 1.1, "recovery": 1.05},
        {"paid_size_margin": 0.9},
    ],
)
def test_policy_rejects_settings_without_hysteresis_or_margin(kwargs):
    with pytest.raises(ValueError):
        GuardPolicy(**kwargs)


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(None, "∞"), (1.0, "1.00"), (0.98, "0.98"), (1.004, "1.004"), (1.23456, "1.23456"),
     (1 / 3, "0.333333"), (1e-9, "0.00"), (1.05001, "1.05001"), (math.nan, "nan")],
)
def test_ratio_text(ratio, text):
    assert ratio_text(ratio) == text


@pytest.mark.parametrize(
    ("uploaded", "downloaded", "floor", "expected"),
    [
        (1000, 500, 1.0, 500),
        (1000, 1000, 1.0, 0),
        (1000, 2000, 1.0, -1000),
        (1000, 0, 1.25, 800),
        (1000, 100, 2.0, 400),
        (1000, 0, 1.5, 666),  # 666.67 rounds down: one byte more would cross the floor
        (2100, 0, 1.05, 1999),  # the float 1.05 is a hair above 1.05; exact maths sees it
        (0, 0, 1.0, 0),
    ],
)
def test_upload_buffer_bytes(uploaded, downloaded, floor, expected):
    assert upload_buffer_bytes(uploaded, downloaded, floor) == expected


def release(size: int = 2 * GIB, **flags) -> Release:
    return Release(id="42", title="Book", size_bytes=size, **flags)


@pytest.mark.parametrize(
    ("free", "state", "size", "buffer", "allowed", "words"),
    [
        (True, FROZEN, 2 * GIB, -10 * GIB, True, "free release 42"),
        (True, THAWED, 0, 0, True, "costs no ratio"),
        (False, FROZEN, 2 * GIB, 100 * GIB, False, "paid release skipped: ratio 0.98 ≤ floor 1.00"),
        (False, GuardState(frozen=True, last_ratio=1.03), 2 * GIB, 100 * GIB, False,
         "ratio 1.03 not yet above recovery 1.05"),
        (False, THAWED, 0, 100 * GIB, False, "size unknown"),
        (False, THAWED, 2 * GIB, 3 * GIB, True, "affordable: buffer 3.00 GiB vs size 2.00 GiB"),
        (False, THAWED, 2 * GIB, 3 * GIB - 1, False, "would risk floor 1.00"),
        (False, THAWED, 2 * GIB, -5 * GIB, False, "paid release skipped"),
    ],
)
def test_may_grab_table(free, state, size, buffer, allowed, words):
    verdict = may_grab(
        release(size),
        is_free=free,
        state=state,
        account_upload_buffer_bytes=buffer,
        policy=POLICY,
    )
    assert verdict.allowed is allowed
    assert words in verdict.reason


@pytest.mark.parametrize(
    ("uploaded", "downloaded", "target", "rate", "expected"),
    [
        (2000, 1000, 1.05, 0, 0.0),  # already there, even with no upload
        (1050, 1000, 1.05, 10, 0.0),
        (0, 3600, 1.0, 1, 1.0),
        (0, 3600, 1.0, 2, 0.5),
        (0, 3600, 1.0, 0, None),
        (0, 3600, 1.0, -1, None),
    ],
)
def test_hours_to_recovery(uploaded, downloaded, target, rate, expected):
    assert hours_to_recovery(uploaded, downloaded, target, rate) == expected


def snap(hours: float, points: float, spent: float = 0) -> PointsSnapshot:
    return PointsSnapshot(EARLIER + timedelta(hours=hours), points, spent)


@pytest.mark.parametrize(
    ("snapshots", "earned", "spent"),
    [
        ([], 0, 0),
        ([snap(0, 1000)], 0, 0),
        ([snap(0, 1000), snap(1, 1100)], 100, 0),
        ([snap(0, 1000), snap(1, 600, spent=500)], 100, 500),  # bought 500, earned 100
        ([snap(0, 1000), snap(1, 800)], 0, 200),  # unexplained fall: spent by hand
        ([snap(0, 1000), snap(1, 1000, spent=1250), snap(2, 1100)], 1350, 1250),
    ],
)
def test_points_flow(snapshots, earned, spent):
    flow = points_flow(snapshots)
    assert (flow.earned, flow.spent) == (earned, spent)


def test_points_flow_needs_chronological_order():
    with pytest.raises(ValueError):
        points_flow([snap(2, 1000), snap(1, 1100)])


FLOOR, RECOVERY = POLICY.floor, POLICY.recovery
readings = st.one_of(
    st.none(),
    st.sampled_from([FLOOR, RECOVERY, 0.0]),
    st.floats(0, 3, allow_nan=False),
)


@given(start_frozen=st.booleans(), ratios=st.lists(readings, max_size=40))
def test_guard_is_frozen_iff_the_last_reading_outside_the_band_was_at_or_below_floor(
    start_frozen, ratios
):
    state = GuardState(frozen=start_frozen)
    transitions = []
    for i, ratio in enumerate(ratios):
        result = step(state, ratio, NOW + timedelta(minutes=5 * i), POLICY)
        in_band = ratio is not None and FLOOR < ratio <= RECOVERY
        if in_band:
            assert result.transition is None  # never flaps inside the band
        if result.transition is not None:
            transitions.append(result.transition.to_state)
        state = result.new_state
        paid = may_grab(release(), is_free=False, state=state,
                        account_upload_buffer_bytes=10**15, policy=POLICY)
        if state.frozen:
            assert not paid.allowed
    outside = [r for r in ratios if r is None or not FLOOR < r <= RECOVERY]
    expected = start_frozen if not outside else (outside[-1] is not None and outside[-1] <= FLOOR)
    assert state.frozen is expected
    # transitions alternate: no two freezes (or thaws) in a row
    assert all(a != b for a, b in zip(transitions, transitions[1:], strict=False))


@given(
    uploaded=st.integers(0, 2**52),
    downloaded=st.integers(0, 2**52),
    size=st.integers(1, 2**42),
    floor=st.one_of(st.sampled_from([1.0, 1.05, 0.5, 2.0]), st.floats(0.1, 3)),
    margin=st.one_of(st.just(1.0), st.floats(1, 3)),
)
def test_an_allowed_paid_grab_never_takes_the_ratio_below_the_floor(
    uploaded, downloaded, size, floor, margin
):
    policy = GuardPolicy(floor=floor, recovery=floor + 0.05, paid_size_margin=margin)
    buffer = upload_buffer_bytes(uploaded, downloaded, floor)
    verdict = may_grab(release(size), is_free=False, state=GuardState(),
                       account_upload_buffer_bytes=buffer, policy=policy)
    if verdict.allowed:
        assert uploaded / (downloaded + size) >= floor
        assert Fraction(uploaded, downloaded + size) >= Fraction(floor)
        # and the margin held: even margin x size more would not cross it
        assert Fraction(uploaded, 1) / (downloaded + Fraction(margin) * size) >= Fraction(floor)


@given(
    points=st.lists(st.integers(0, 99_999), min_size=1, max_size=20),
    spent=st.lists(st.integers(0, 20_000), min_size=20, max_size=20),
)
def test_points_flow_accounts_for_every_change(points, spent):
    snapshots = [snap(i, p, spent[i] if i else 0) for i, p in enumerate(points)]
    flow = points_flow(snapshots)
    assert flow.earned >= 0 and flow.spent >= sum(spent[1 : len(points)])
    assert flow.earned - flow.spent == points[-1] - points[0]
