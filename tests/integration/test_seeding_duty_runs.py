"""The watch service over many runs, with qBittorrent pausing, stopping and queueing
torrents between them (R4, R5). Fast: the in-memory FakeTorrentClient, an in-memory
SQLite store and a scripted account reading; the real qBittorrent runs in
test_torrent_watch.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.config import Settings, load_settings
from mamcrawler.domain import seeding
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.policies import Policies
from mamcrawler.services import guard_store, torrent_watch
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Base, SeedingAction, TrackedTorrent
from tests.support.fake_torrent_client import FakeTorrentClient

START = datetime(2026, 3, 1, tzinfo=UTC)
HELD = (TorrentState.PAUSED, TorrentState.QUEUED)
A, B = "a" * 40, "b" * 40


@dataclass
class Account:
    """The tracker as the watch reads it; ratio None: the read fails."""

    ratio: float | None = 2.0

    def account_stats(self) -> AccountStats:
        if self.ratio is None:
            raise TrackerError("tracker down")
        return AccountStats(username="u", uid=1, class_name="VIP", ratio=self.ratio,
                            uploaded_bytes=int(self.ratio * 10**9), downloaded_bytes=10**9,
                            bonus_points=0)


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory) -> Settings:
    return load_settings(None, data_dir=tmp_path_factory.mktemp("data"), demo=False,
                         qb_host="127.0.0.1", qb_category="mamcrawler")


def memory_store() -> sessionmaker[Session]:
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


class World:
    """A fake qBittorrent, a store and an account, and a clock moved by the test."""

    def __init__(self, app_settings: Settings) -> None:
        self.settings = app_settings
        self.policies = Policies.from_settings(app_settings)
        self.client = FakeTorrentClient()
        self.sessions = memory_store()
        self.account = Account()
        self.now = START

    def seed(self, info_hash: str, raw: str = "stalledUP", seeded_h: float = 0) -> None:
        self.client.put(info_hash, raw, progress=1.0, seeding_time=int(seeded_h * 3600),
                        completion_on=START - timedelta(hours=1),
                        added_on=START - timedelta(hours=2))

    def wait(self, hours: float) -> None:
        """Time passes; every torrent actually seeding counts it."""
        self.now += timedelta(hours=hours)
        for t in list(self.client.held.values()):
            if t.state is TorrentState.SEEDING:
                seeded = t.seeding_time + int(hours * 3600)
                self.client.put(t.hash, t.raw_state, seeding_time=seeded)

    def run(self) -> str:
        return torrent_watch.watch(self.client, self.sessions, self.settings, self.policies,
                                   self.now, self.account)

    def frozen(self) -> bool:
        with session_scope(self.sessions) as s:
            return guard_store.current_guard(s).frozen

    def actions(self) -> list[SeedingAction]:
        with session_scope(self.sessions) as s:
            return list(s.scalars(select(SeedingAction).order_by(SeedingAction.id)))

    def forced_at(self, info_hash: str) -> datetime | None:
        with session_scope(self.sessions) as s:
            return s.get(TrackedTorrent, info_hash).forced_at


@pytest.fixture
def world(app_settings) -> World:
    return World(app_settings)


def test_a_torrent_under_duty_is_set_going_and_every_action_recorded(world):
    world.seed(A, "stoppedUP", seeded_h=5)
    world.seed(B, "queuedUP", seeded_h=5)
    summary = world.run()
    assert "guard thawed; resumed 1; force-started 1; share limits lifted on 2" in summary
    assert (world.client.raw_state(A), world.client.raw_state(B)) == ("stalledUP", "forcedUP")
    assert world.client.share_limits == {A: (-1, -1), B: (-1, -1)}
    assert [(a.info_hash, a.action, a.raw_state) for a in world.actions()] == [
        (A, "lift_share_limits", "stoppedUP"), (B, "lift_share_limits", "queuedUP"),
        (A, "resume", "stoppedUP"), (B, "force_start", "queuedUP")]
    assert all("5.0 h < 72 h" in a.reason and a.outcome == "done" for a in world.actions())
    assert world.forced_at(B) == world.now and world.forced_at(A) is None


def test_our_force_start_is_taken_back_once_thawed_and_the_duty_is_met(world):
    world.seed(A, "queuedUP", seeded_h=60)
    world.client.queueing = True
    world.run()
    assert world.client.raw_state(A) == "forcedUP"
    world.wait(10)
    assert "un-forced" not in world.run()  # 70 h: still under duty
    world.account.ratio = 0.9
    world.wait(5)
    assert "un-forced" not in world.run()  # duty met, but the guard froze: keep it going
    world.account.ratio = 1.2
    world.wait(1)
    assert "guard thawed (changed); un-forced 1" in world.run()
    assert world.client.raw_state(A) == "queuedUP"  # the client's queue decides again
    assert world.forced_at(A) is None
    assert "un-forced" not in world.run()
    unforce = world.actions()[-1]
    assert unforce.action == "unforce" and "duty met" in unforce.reason


def test_a_force_start_someone_else_took_back_is_forgotten(world):
    world.seed(A, "queuedUP", seeded_h=60)
    world.run()
    world.client.force_start(A, on=False)  # by hand in the WebUI
    world.client.put(A, "stalledUP")
    world.run()
    assert world.forced_at(A) is None
    world.client.force_start(A)  # by hand again: not ours to take back
    world.wait(20)
    assert "un-forced" not in world.run()


def test_the_frozen_guard_force_starts_queued_seeds_whose_duty_is_met(world):
    world.seed(A, "queuedUP", seeded_h=100)
    world.seed(B, "pausedUP", seeded_h=100)
    assert world.run().endswith("guard thawed")  # duty met: pausing and queueing are fine
    world.account.ratio = 0.95
    assert "resumed 1; force-started 1; upload slots raised" in world.run()
    assert world.forced_at(A) is not None
    assert all("ratio guard frozen" in a.reason for a in world.actions())
    world.account.ratio = 1.10
    assert "un-forced 1; preferences restored" in world.run()


def test_a_refused_resume_is_recorded_and_fails_the_run(world):
    from mamcrawler.adapters.qbittorrent import TorrentClientUnavailable

    world.seed(A, "pausedUP", seeded_h=1)
    world.client.failing["resume"] = TorrentClientUnavailable("qBittorrent hung up")
    with pytest.raises(torrent_watch.TorrentWatchFailed, match="resume of 1 torrent"):
        world.run()
    lift, resume = world.actions()
    assert (lift.outcome, resume.outcome, resume.error) == ("done", "failed",
                                                            "qBittorrent hung up")


# qBittorrent's own doings between runs.
EVENTS = st.sampled_from(["pause", "stop", "queue", None, None])
STEP = st.fixed_dictionaries({
    "hours": st.sampled_from([0, 1, 6, 24, 40]),
    "ratio": st.sampled_from([0.9, 1.02, 1.2, 3.0, None]),
    "events": st.lists(EVENTS, min_size=3, max_size=3),
    "queueing": st.booleans(),
})
START_STATES = st.sampled_from(["stalledUP", "pausedUP", "stoppedUP", "queuedUP", "uploading"])


# No shrinking: each example is several store-backed runs, and shrinking a failure took
# longer than the test timeout. A failing example is reported as generated.
@settings(max_examples=60, deadline=None,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target))
@given(
    starts=st.lists(st.tuples(START_STATES, st.sampled_from([0, 30, 70, 71.9, 72, 200])),
                    min_size=3, max_size=3),
    steps=st.lists(STEP, min_size=1, max_size=7),
)
def test_over_any_runs_duty_keeps_seeding_and_unforce_waits_for_thaw_and_duty(
    app_settings, starts, steps
):
    world = World(app_settings)
    hashes = [c * 40 for c in "abc"]
    for info_hash, (raw, hours) in zip(hashes, starts, strict=True):
        world.seed(info_hash, raw, hours)
    policy = world.policies.seeding
    for number, step in enumerate(steps, 1):
        note(f"run {number}: {step}")
        world.wait(step["hours"])
        world.client.queueing = step["queueing"]
        for info_hash, event in zip(hashes, step["events"], strict=True):
            if event:
                getattr(world.client, event)(info_hash)
        world.account.ratio = step["ratio"]
        seen = dict(world.client.held)
        calls_before = len(world.client.calls)
        world.run()
        frozen = world.frozen()
        for info_hash, torrent in seen.items():
            verdict = seeding.may_stop(seeding.duty_of(torrent), policy, world.now)
            now_state = world.client.held[info_hash].state
            if not verdict.allowed:
                assert now_state not in HELD, (info_hash, torrent.raw_state, verdict.reason)
            elif not frozen:
                # thawed and duty met: no force-start of ours is left on it
                assert not world.client.held[info_hash].forced or not torrent.forced
        for name, called in world.client.calls[calls_before:]:
            if name == "unforce":
                assert not frozen
                for info_hash in called:
                    duty = seeding.duty_of(seen[info_hash])
                    assert seeding.may_stop(duty, policy, world.now).allowed
