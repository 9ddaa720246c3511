"""The torrent_watch job against a real qbittorrent-nox and the tracker simulator over HTTP.

Everything on 127.0.0.1; waits poll qBittorrent with deadlines; every case runs on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from mamcrawler.adapters.mam import shared_limiter
from mamcrawler.config import Settings
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.jobs.runner import RunResult, run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services import guard_store, torrent_watch
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    AccountSnapshot,
    RatioGuardEvent,
    RatioGuardState,
    SeedingAction,
    TaskRun,
    TorrentRecoveryAttempt,
    TrackedTorrent,
)
from tests.support.qbittorrent import QbitProcess, TinyTorrent, free_port, wait_until
from tests.support.tracker_sim import TrackerSimHandle

pytestmark = pytest.mark.slow
CATEGORY = "mamcrawler"


@dataclass
class Watch:
    """A runtime whose job context reaches the real qBittorrent and the simulator."""

    settings: Settings
    qbit: QbitProcess
    sim: TrackerSimHandle
    rt: Runtime

    def run(self) -> RunResult:
        return run_job(self.rt.scheduler.ctx, "torrent_watch", trigger="manual")

    def ok(self) -> str:
        result = self.run()
        assert result.outcome == "success", result.error
        return result.summary

    def restart(self, **settings) -> None:
        """A new Runtime on the same database, as after a service restart (with `settings`
        changed, if given)."""
        self.rt.close()
        self.settings = self.settings.model_copy(update=settings)
        self.rt = build_runtime(self.settings, self.sim)

    def rows(self, model, *order):
        with session_scope(self.rt.sessions) as s:
            return s.scalars(select(model).order_by(*order)).all()

    def torrent(self, info_hash: str) -> TrackedTorrent | None:
        with session_scope(self.rt.sessions) as s:
            return s.get(TrackedTorrent, info_hash)

    def client_state(self, info_hash: str) -> str | None:
        found = [t for t in self.qbit.client().torrents() if t.hash == info_hash]
        return found[0].raw_state if found else None

    def await_state(self, info_hash: str, *raw_states: str) -> None:
        wait_until(lambda: self.client_state(info_hash) in raw_states, timeout_s=30,
                   what=f"{info_hash[:8]} in {raw_states}")


def build_runtime(settings: Settings, sim: TrackerSimHandle) -> Runtime:
    rt = Runtime.build(settings, upgrade_db=False)
    rt.scheduler.ctx.tracker = TrackerEndpoint(sim.base_url, sim.mam_id, 0.0)
    return rt


@pytest.fixture
def watch(make_settings, db_url, qbit_process, tracker_sim):
    settings = make_settings(database_url=db_url, qb_host="127.0.0.1",
                             qb_port=qbit_process.webui_port, qb_username=qbit_process.username,
                             qb_password=qbit_process.password, qb_category=CATEGORY)
    env = Watch(settings, qbit_process, tracker_sim, build_runtime(settings, tracker_sim))
    yield env
    env.rt.close()


@pytest.fixture
def seeding_torrent(watch: Watch, tiny_torrent_factory) -> Callable[[str], TinyTorrent]:
    """Add a complete torrent in the watched category; wait until it seeds."""

    def add(name: str) -> TinyTorrent:
        torrent = tiny_torrent_factory(name)
        watch.qbit.client().add_torrent(torrent.data, category=CATEGORY,
                                        save_path=str(torrent.save_path))
        watch.await_state(torrent.info_hash, "stalledUP", "uploading")
        return torrent

    return add


def test_stores_torrents_and_an_account_snapshot(watch, seeding_torrent, tiny_torrent_factory):
    ours = seeding_torrent("ours")
    theirs = tiny_torrent_factory("theirs")
    watch.qbit.client().add_torrent(theirs.data, category="other",
                                    save_path=str(theirs.save_path))
    summary = watch.ok()
    assert summary.startswith("1 torrent(s) (1 seeding); 1 new, 0 gone; ratio 2.50, guard thawed")
    row = watch.torrent(ours.info_hash)
    assert (row.state, row.name, row.category, row.progress) == ("seeding", "ours", CATEGORY, 1)
    assert row.size_bytes == 40_000 and row.completed_at is not None
    assert watch.torrent(theirs.info_hash) is None
    [snap] = watch.rows(AccountSnapshot)
    assert (snap.ratio, snap.unsatisfied_count, snap.unsatisfied_limit) == (2.5, 7, 150)

    watch.qbit.client().remove(ours.info_hash)
    assert "1 gone" in watch.ok()
    assert watch.torrent(ours.info_hash).state == "gone"  # kept, with its seeding history


def test_guard_freezes_keeps_seeding_survives_restart_and_thaws(watch, seeding_torrent):
    watch.restart(seed_min_hours=0)  # every duty met: what moves the torrent is the guard
    torrent = seeding_torrent("paused-seed")
    client = watch.qbit.client()
    client.pause(torrent.info_hash)
    watch.await_state(torrent.info_hash, "pausedUP")
    before = client.preferences()
    assert watch.ok().endswith("guard thawed")  # duty met, thawed: pausing was allowed

    watch.sim.control.account(ratio=0.98)
    summary = watch.ok()
    assert "ratio 0.98, guard frozen (changed)" in summary and "resumed 1" in summary
    watch.await_state(torrent.info_hash, "stalledUP", "uploading")
    prefs = client.preferences()
    assert (prefs["max_uploads"], prefs["max_uploads_per_torrent"]) == (200, 200)
    [event] = watch.rows(RatioGuardEvent)
    assert (event.from_state, event.to_state, event.ratio) == ("thawed", "frozen", 0.98)
    assert "0.98 ≤ floor 1.00" in event.reason
    assert event.details["uploaded_bytes"] < event.details["downloaded_bytes"]
    [state] = watch.rows(RatioGuardState)
    assert state.saved_preferences == {"max_uploads": before["max_uploads"],
                                       "max_uploads_per_torrent": before["max_uploads_per_torrent"]}

    watch.restart()
    watch.sim.control.account(ratio=1.02)
    assert "ratio 1.02, guard frozen;" in watch.ok() + ";"  # hysteresis: no thaw yet
    assert len(watch.rows(RatioGuardEvent)) == 1

    watch.sim.control.account(ratio=1.06)
    assert "guard thawed (changed); preferences restored" in watch.ok()
    prefs = client.preferences()
    assert prefs["max_uploads"] == before["max_uploads"]
    assert prefs["max_uploads_per_torrent"] == before["max_uploads_per_torrent"]
    assert [e.to_state for e in watch.rows(RatioGuardEvent, RatioGuardEvent.id)] == \
        ["frozen", "thawed"]
    assert watch.rows(RatioGuardState)[0].saved_preferences is None


def test_a_failing_tracker_leaves_the_guard_as_it_was(watch, monkeypatch):
    slept: list[float] = []
    # The client backs off between retries through the shared limiter: no real waiting.
    monkeypatch.setattr(shared_limiter(watch.sim.base_url), "sleep", slept.append)
    watch.sim.control.account(ratio=0.97)
    watch.ok()
    watch.sim.control.account(ratio=1.50)

    watch.sim.control.fail(500, count=4, path="/jsonLoad.php")
    result = watch.run()  # qBittorrent's part done, the tracker's not: partial
    assert (result.outcome, result.items_done, result.items_failed) == ("partial", 1, 1)
    assert result.error.startswith("1 of 2 systems failed: TrackerUnavailable")
    assert "guard stays frozen: tracker read failed: The tracker could not be reached" in \
        result.summary
    assert slept, "the client should have backed off between attempts"
    watch.sim.control.fail(403, count=2, path="/jsonLoad.php")
    result = watch.run()
    assert result.outcome == "partial"
    assert "guard stays frozen: tracker read failed: The tracker rejected the session" in \
        result.summary
    with session_scope(watch.rt.sessions) as s:
        assert guard_store.current_guard(s).frozen
    assert len(watch.rows(AccountSnapshot)) == 1  # failed readings store nothing

    assert "ratio 1.50, guard thawed (changed)" in watch.ok()


def test_killed_qbittorrent_fails_the_run_loses_nothing_and_recovers(
        watch, seeding_torrent, monkeypatch):
    torrent = seeding_torrent("survivor")
    watch.ok()
    seen_first = watch.torrent(torrent.info_hash).last_seen_at

    watch.qbit.kill()
    failed = watch.run()
    assert failed.outcome == "failed"
    assert "qBittorrent at http://127.0.0.1" in failed.error and "not reachable" in failed.error
    row = watch.torrent(torrent.info_hash)
    assert (row.state, row.last_seen_at) == ("seeding", seen_first)  # not marked gone
    with session_scope(watch.rt.sessions) as s:
        [run] = s.scalars(select(TaskRun).where(TaskRun.outcome == "failed")).all()
        assert run.error == failed.error

    # Now mid-run: the poll succeeds, then qBittorrent dies before the guard's actions.
    watch.qbit.start()
    watch.sim.control.account(ratio=0.90)
    read_account = torrent_watch.read_account

    def read_then_kill(tracker):
        watch.qbit.kill()
        return read_account(tracker)

    monkeypatch.setattr(torrent_watch, "read_account", read_then_kill)
    failed = watch.run()
    assert failed.outcome == "failed" and "qBittorrent at http://127.0.0.1" in failed.error
    assert watch.torrent(torrent.info_hash).last_seen_at > seen_first  # the poll was stored
    with session_scope(watch.rt.sessions) as s:
        assert guard_store.current_guard(s).frozen  # and so was the guard's reading

    monkeypatch.setattr(torrent_watch, "read_account", read_account)
    watch.qbit.start()
    watch.await_state(torrent.info_hash, "stalledUP", "uploading")  # resume data checked
    summary = watch.ok()
    assert "1 torrent(s) (1 seeding); 0 new, 0 gone" in summary
    assert "upload slots raised" in summary
    assert watch.qbit.client().preferences()["max_uploads"] == 200


def test_a_stuck_torrent_is_reannounced_rechecked_force_started_then_left(
        watch, tiny_torrent_factory):
    dead_tracker = f"http://127.0.0.1:{free_port()}/announce"  # nothing listens there
    torrent = tiny_torrent_factory("stuck", announce=dead_tracker)
    contents = [path.read_bytes() for path in torrent.files]
    for path in torrent.files:
        path.unlink()  # no data and no peers: it cannot progress
    client = watch.qbit.client()
    client.add_torrent(torrent.data, category=CATEGORY, save_path=str(torrent.save_path))
    info_hash = torrent.info_hash
    watch.await_state(info_hash, "stalledDL")

    steps = []
    for _ in range(5):
        watch.await_state(info_hash, "stalledDL", "forcedDL")
        summary = watch.ok()
        steps.append(summary.split("recovery ")[1] if "recovery " in summary else None)
    assert steps == [None, "1 reannounce", "1 recheck", "1 force_start", None]
    attempts = watch.rows(TorrentRecoveryAttempt, TorrentRecoveryAttempt.id)
    assert [(a.attempt, a.action, a.outcome) for a in attempts] == \
        [(1, "reannounce", "done"), (2, "recheck", "done"), (3, "force_start", "done")]
    assert all(a.info_hash == info_hash and a.reason for a in attempts)
    assert attempts[0].raw_state == "stalledDL" and attempts[2].torrent_state == "stalled"
    assert client.torrents()[0].forced
    assert watch.torrent(info_hash).recovery_attempts == 3

    for path, content in zip(torrent.files, contents, strict=True):
        path.write_bytes(content)  # the data is back: a recheck makes it complete
    client.recheck(info_hash)
    watch.await_state(info_hash, "forcedUP", "stalledUP", "uploading")
    watch.ok()
    row = watch.torrent(info_hash)
    assert (row.state, row.recovery_attempts) == (TorrentState.SEEDING.value, 0)


def test_torrents_under_duty_are_resumed_or_force_started_while_thawed(watch, seeding_torrent):
    paused = seeding_torrent("paused-by-hand")
    queued = seeding_torrent("queued-by-client")
    client = watch.qbit.client()
    client.pause(paused.info_hash)
    watch.await_state(paused.info_hash, "pausedUP")
    # No active seeding slot at all: qBittorrent queues every seed that is not forced.
    client.set_preferences(queueing_enabled=True, max_active_uploads=0, max_active_torrents=0)
    watch.await_state(queued.info_hash, "queuedUP")

    summary = watch.ok()
    assert "guard thawed; resumed 1; force-started 1; share limits lifted on 2" in summary
    watch.await_state(paused.info_hash, "queuedUP")  # resumed, then held by the queue
    watch.await_state(queued.info_hash, "forcedUP")
    assert "force-started 1" in watch.ok()  # the next run sees the resumed one queued
    watch.await_state(paused.info_hash, "forcedUP")
    assert watch.ok().endswith("guard thawed")  # still under duty: the force-starts stay
    actions = watch.rows(SeedingAction, SeedingAction.id)
    assert sorted((a.info_hash, a.action, a.raw_state, a.outcome) for a in actions) == sorted([
        (paused.info_hash, "lift_share_limits", "pausedUP", "done"),
        (queued.info_hash, "lift_share_limits", "queuedUP", "done"),
        (paused.info_hash, "resume", "pausedUP", "done"),
        (queued.info_hash, "force_start", "queuedUP", "done"),
        (paused.info_hash, "lift_share_limits", "queuedUP", "done"),
        (paused.info_hash, "force_start", "queuedUP", "done"),
    ])
    assert all("under seeding duty" in a.reason and "< 72 h" in a.reason for a in actions)
    assert watch.torrent(paused.info_hash).forced_at is not None


def test_the_frozen_guard_force_starts_queued_seeds_and_takes_it_back_on_thaw(
        watch, seeding_torrent):
    watch.restart(seed_min_hours=0)  # duty met: only the guard has a reason to force
    torrent = seeding_torrent("queued-seed")
    client = watch.qbit.client()
    client.set_preferences(queueing_enabled=True, max_active_uploads=0, max_active_torrents=0)
    watch.await_state(torrent.info_hash, "queuedUP")
    assert watch.ok().endswith("guard thawed")  # the client's queue decides

    watch.sim.control.account(ratio=0.98)
    assert "guard frozen (changed); force-started 1" in watch.ok()
    watch.await_state(torrent.info_hash, "forcedUP")
    assert "force-started" not in watch.ok()  # forced already: nothing to do again
    watch.sim.control.account(ratio=1.20)
    assert "guard thawed (changed); un-forced 1" in watch.ok()
    watch.await_state(torrent.info_hash, "queuedUP")
    assert watch.torrent(torrent.info_hash).forced_at is None
    force, unforce = watch.rows(SeedingAction, SeedingAction.id)
    assert (force.action, unforce.action) == ("force_start", "unforce")
    assert "ratio guard frozen" in force.reason and "0.98 ≤ floor 1.00" in force.reason
    assert "duty met" in unforce.reason and "thawed" in unforce.reason
