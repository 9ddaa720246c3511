from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.adapters.qbittorrent.states import RAW_STATES
from mamcrawler.domain.seeding import (
    ForceStartTorrent,
    LiftShareLimits,
    ResumeTorrent,
    SeedingPolicy,
    TorrentDuty,
    UnforceTorrent,
    duty_of,
    duty_window_end,
    grab_capacity,
    keep_duty,
    may_stop,
    seeded_in_window,
)
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
POLICY = SeedingPolicy()  # 72 h within 30 days, margin 10, unknown limit taken as 50
H = 3600.0


def duty(
    *,
    completed_days_ago: float | None = 5,
    seeded_h: float = 0,
    snatched: bool = True,
    added_days_ago: float | None = None,
    in_window_h: float | None = None,
    tracker_unsatisfied: bool | None = None,
) -> TorrentDuty:
    def ago(days):
        return None if days is None else NOW - timedelta(days=days)

    return TorrentDuty(
        hash="abc123",
        completed_at=ago(completed_days_ago),
        seeded_seconds=seeded_h * H,
        snatched=snatched,
        added_at=ago(added_days_ago),
        seeded_in_window_seconds=None if in_window_h is None else in_window_h * H,
        tracker_unsatisfied=tracker_unsatisfied,
    )


@pytest.mark.parametrize(
    ("torrent", "allowed", "words"),
    [
        (duty(snatched=False, completed_days_ago=None), True, "never snatched"),
        (duty(completed_days_ago=None, seeded_h=0), False, "not complete"),
        (duty(completed_days_ago=None, added_days_ago=40), False, "not complete"),
        (duty(seeded_h=100, tracker_unsatisfied=True), False, "tracker still lists"),
        (duty(seeded_h=100, tracker_unsatisfied=False), True, "duty met, 100.0 h ≥ 72 h"),
        (duty(seeded_h=71.9), False, "seeded 71.9 h < 72 h required (window closes in 25.0"),
        (duty(seeded_h=72), True, "duty met, 72.0 h"),
        # 40 days after completion the window closed 10 days (240 h) ago: of 300 h seeded,
        # only 60 h surely fell inside it.
        (duty(completed_days_ago=40, seeded_h=300), False, "window closed 10.0 days ago"),
        (duty(completed_days_ago=40, seeded_h=312), True, "duty met, 72.0 h"),
        # the store knows the in-window share exactly
        (duty(completed_days_ago=40, seeded_h=80, in_window_h=80), True, "duty met, 80.0 h"),
        (duty(completed_days_ago=2, seeded_h=100, in_window_h=50), False, "seeded 50.0 h"),
        # the window opens at the grab, not the completion: 5 days of leeching shorten it
        (duty(completed_days_ago=27, added_days_ago=32, seeded_h=100), False,
         "window closed 2.0 days ago"),
    ],
)
def test_may_stop_table(torrent, allowed, words):
    verdict = may_stop(torrent, POLICY, NOW)
    assert verdict.allowed is allowed
    assert words in verdict.reason
    assert torrent.hash in verdict.reason


def test_may_stop_protects_a_torrent_that_just_completed():
    torrent = TorrentDuty(hash="h", completed_at=NOW, seeded_seconds=10 * H)
    assert may_stop(torrent, POLICY, NOW).allowed is False


@pytest.mark.parametrize(
    ("added", "completed", "expected"),
    [
        (None, None, None),
        (None, NOW, NOW + timedelta(days=30)),
        (NOW - timedelta(days=3), NOW, NOW + timedelta(days=27)),
        (NOW, NOW - timedelta(days=1), NOW + timedelta(days=29)),  # earliest wins
    ],
)
def test_duty_window_end(added, completed, expected):
    torrent = TorrentDuty(hash="h", completed_at=completed, seeded_seconds=0, added_at=added)
    assert duty_window_end(torrent, POLICY) == expected


def test_seeded_in_window_counts_everything_while_open_and_without_a_window():
    open_window = duty(completed_days_ago=1, seeded_h=20)
    assert seeded_in_window(open_window, POLICY, NOW) == 20 * H
    no_window = TorrentDuty(hash="h", completed_at=None, seeded_seconds=5 * H)
    assert seeded_in_window(no_window, POLICY, NOW) == 5 * H


def test_seeded_in_window_lower_bound_never_negative():
    torrent = duty(completed_days_ago=300, seeded_h=10)
    assert seeded_in_window(torrent, POLICY, NOW) == 0.0


@pytest.mark.parametrize(
    ("count", "limit", "expected"),
    [
        (0, 100, 90),
        (85, 100, 5),
        (89, 100, 1),
        (90, 100, 0),
        (120, 100, 0),  # already over: never negative
        (0, 5, 0),  # limit below the margin
        (0, None, 0),  # an unknown limit or count leaves no room
        (39, None, 0),
        (None, 100, 0),
        (0, 0, 0),
    ],
)
def test_grab_capacity_table(count, limit, expected):
    assert grab_capacity(count, limit, POLICY) == expected


def test_grab_capacity_rejects_negative_counts():
    with pytest.raises(ValueError):
        grab_capacity(-1, 100, POLICY)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_seed_hours": -1},
        {"window_days": 0},
        {"unsat_margin": -1},
    ],
)
def test_policy_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        SeedingPolicy(**kwargs)


optional_days = st.none() | st.floats(0, 400, allow_nan=False)


@given(
    completed=optional_days,
    added=optional_days,
    seeded_h=st.floats(0, 2000, allow_nan=False),
    in_window_h=st.none() | st.floats(0, 2000, allow_nan=False),
    snatched=st.booleans(),
    tracker_unsatisfied=st.none() | st.booleans(),
)
def test_may_stop_never_releases_a_torrent_short_of_72_hours_in_its_window(
    completed, added, seeded_h, in_window_h, snatched, tracker_unsatisfied
):
    torrent = duty(
        completed_days_ago=completed,
        added_days_ago=added,
        seeded_h=seeded_h,
        in_window_h=in_window_h,
        snatched=snatched,
        tracker_unsatisfied=tracker_unsatisfied,
    )
    if not may_stop(torrent, POLICY, NOW).allowed or not snatched:
        return
    assert torrent.completed_at is not None
    assert tracker_unsatisfied is not True
    if in_window_h is not None:
        assert in_window_h >= 72
        return
    opened = min(t for t in (torrent.added_at, torrent.completed_at) if t is not None)
    closed_for = max(timedelta(0), NOW - (opened + timedelta(days=30)))
    # even if all the time since the window closed was spent seeding, 72 h remain inside
    assert torrent.seeded_seconds - closed_for.total_seconds() >= 72 * H


@given(
    count=st.integers(0, 500),
    limit=st.none() | st.integers(0, 500),
    margin=st.integers(0, 100),
)
def test_capacity_never_negative_and_never_crowds_the_limit(count, limit, margin):
    policy = SeedingPolicy(unsat_margin=margin)
    capacity = grab_capacity(count, limit, policy)
    assert capacity >= 0
    if limit is None:
        assert capacity == 0
        return
    ceiling = limit - margin
    if count <= ceiling:
        assert count + capacity == ceiling  # all the room, and not one more
    else:
        assert capacity == 0


def snap(raw: str, *, seeded_h: float = 1, progress: float = 1.0, forced: bool = False,
         completed_days_ago: float | None = 2, info_hash: str = "a" * 40) -> TorrentSnapshot:
    completed = None if completed_days_ago is None else NOW - timedelta(days=completed_days_ago)
    return TorrentSnapshot(hash=info_hash, name="book", state=RAW_STATES[raw], raw_state=raw,
                           progress=progress, seeding_time=int(seeded_h * H),
                           completion_on=completed, added_on=completed, forced=forced)


def keep(torrents, *, frozen=False, forced_by_us=frozenset(), duties=None):
    duties = {t.hash: duty_of(t) for t in torrents} if duties is None else duties
    return keep_duty(torrents, duties, POLICY, NOW, frozen, forced_by_us)


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize(
    ("raw", "kinds"),
    [
        ("pausedUP", [LiftShareLimits, ResumeTorrent]),
        ("stoppedUP", [LiftShareLimits, ResumeTorrent]),  # qBittorrent 5's word for paused
        ("queuedUP", [LiftShareLimits, ForceStartTorrent]),
        ("stalledUP", []),
        ("uploading", []),
        ("forcedUP", []),
        ("checkingUP", []),
    ],
)
def test_keep_duty_resumes_or_force_starts_a_torrent_under_duty_whatever_the_guard(
    raw, kinds, frozen
):
    actions = keep([snap(raw, seeded_h=10)], frozen=frozen)
    assert [type(a) for a in actions] == kinds
    assert all(a.hash == "a" * 40 for a in actions)
    assert all(raw in a.reason and "10.0 h < 72 h" in a.reason for a in actions)


@pytest.mark.parametrize("raw", ["pausedUP", "stoppedUP", "queuedUP"])
def test_keep_duty_leaves_a_torrent_whose_duty_is_met_to_the_client(raw):
    assert keep([snap(raw, seeded_h=80)]) == ()


@pytest.mark.parametrize("raw", ["pausedDL", "stoppedDL", "queuedDL"])
def test_keep_duty_leaves_downloads_to_the_download_side(raw):
    assert keep([snap(raw, progress=0.4, completed_days_ago=None)]) == ()


def test_keep_duty_protects_a_torrent_without_a_known_duty():
    [lift, resume] = keep([snap("pausedUP", seeded_h=500)], duties={})
    assert isinstance(resume, ResumeTorrent) and "duty unknown" in resume.reason


def test_keep_duty_protects_a_complete_torrent_without_a_completion_time():
    kinds = [type(a) for a in keep([snap("queuedUP", seeded_h=500, completed_days_ago=None)])]
    assert kinds == [LiftShareLimits, ForceStartTorrent]


@pytest.mark.parametrize(
    ("seeded_h", "frozen", "ours", "forced", "unforced"),
    [
        (80, False, True, True, True),  # duty met, thawed, our force-start: take it back
        (80, True, True, True, False),  # the guard still wants every seed running
        (10, False, True, True, False),  # still under duty
        (80, False, False, True, False),  # someone else forced it: not ours to undo
        (80, False, True, False, False),  # no longer forced: nothing to undo
    ],
)
def test_keep_duty_unforces_only_our_force_starts_once_thawed_and_duty_met(
    seeded_h, frozen, ours, forced, unforced
):
    torrent = snap("forcedUP" if forced else "stalledUP", seeded_h=seeded_h, forced=forced)
    actions = keep([torrent], frozen=frozen, forced_by_us={torrent.hash} if ours else set())
    assert [type(a) for a in actions] == ([UnforceTorrent] if unforced else [])
    if unforced:
        assert "duty met" in actions[0].reason and "thawed" in actions[0].reason


complete_raw = st.sampled_from([r for r, s in RAW_STATES.items()
                                if r.endswith("UP") or s is TorrentState.SEEDING])


@given(
    raw=complete_raw,
    seeded_h=st.floats(0, 2000, allow_nan=False),
    completed=st.none() | st.floats(0, 90, allow_nan=False),
    forced=st.booleans(),
    ours=st.booleans(),
    frozen=st.booleans(),
)
def test_keep_duty_properties(raw, seeded_h, completed, forced, ours, frozen):
    torrent = snap(raw, seeded_h=seeded_h, forced=forced, completed_days_ago=completed)
    actions = keep([torrent], frozen=frozen, forced_by_us={torrent.hash} if ours else set())
    allowed = may_stop(duty_of(torrent), POLICY, NOW).allowed
    kinds = {type(a) for a in actions}
    if not allowed and torrent.state in (TorrentState.PAUSED, TorrentState.QUEUED):
        # under duty and held by the client: always set going, frozen or not
        assert kinds & {ResumeTorrent, ForceStartTorrent}
    if UnforceTorrent in kinds:
        assert allowed and not frozen and ours and forced
    if allowed:
        assert kinds <= {UnforceTorrent}  # duty met: never resumed or forced by keep_duty


def test_keep_duty_never_unforces_a_download_of_ours_before_it_completes():
    download = snap("forcedDL", progress=0.5, completed_days_ago=None, forced=True)
    assert keep([download], forced_by_us={download.hash}) == ()
