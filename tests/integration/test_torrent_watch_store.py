"""The watch's store logic on SQLite and PostgreSQL, with a scripted qBittorrent stand-in.

The real qBittorrent runs in test_torrent_watch.py; here the in-memory fake gives exact control
over states and speeds (e.g. a torrent stuck for many polls), so every rule is checked on
both database backends quickly. The tracker is the simulator over HTTP.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientUnavailable
from mamcrawler.domain import ratio_guard
from mamcrawler.domain.ratio_guard import GuardState
from mamcrawler.jobs.runner import run_job
from mamcrawler.services import guard_store, torrent_watch
from mamcrawler.services.ports import TorrentClient
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    AccountSnapshot,
    RatioGuardEvent,
    TorrentRecoveryAttempt,
    TrackedTorrent,
)
from tests.support.fake_torrent_client import FakeTorrentClient

STUCK = "5" * 40
DONE = "d" * 40
OTHER = "0" * 40


@pytest.fixture
def watch(runtime, tracker_sim):
    """(job context, fake qBittorrent) with QB_HOST set and the simulator as tracker."""
    ctx = runtime.scheduler.ctx
    ctx.settings = ctx.settings.model_copy(update={"qb_host": "127.0.0.1", "qb_port": 1})
    ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.0)
    fake = FakeTorrentClient()
    ctx.clients.get(torrent_watch.WATCH_CLIENT, lambda: fake)
    return ctx, fake


def rows(ctx, model, *order):
    with session_scope(ctx.sessions) as s:
        return s.scalars(select(model).order_by(*order)).all()


def torrent_row(ctx, info_hash) -> TrackedTorrent:
    with session_scope(ctx.sessions) as s:
        return s.get(TrackedTorrent, info_hash)


def test_not_configured_without_qb_host(runtime):
    result = run_job(runtime.scheduler.ctx, "torrent_watch")
    assert result.outcome == "not_configured"
    assert result.summary.startswith("not configured: set QB_HOST")


def test_torrents_stored_in_scope_gone_marked_and_revived(watch, tracker_sim):
    ctx, fake = watch
    fake.put(DONE, "stalledUP", progress=1.0, size=1000,
             uploaded=5000, seeding_time=7200)
    fake.put(OTHER, "uploading", category="linux-isos")
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "success", result.error
    assert result.summary.startswith("1 torrent(s) (1 seeding); 1 new, 0 gone; ratio 2.50")
    row = torrent_row(ctx, DONE)
    assert (row.state, row.raw_state, row.seeding_seconds, row.uploaded_bytes) == \
        ("seeding", "stalledUP", 7200, 5000)
    assert torrent_row(ctx, OTHER) is None  # not in QB_CATEGORY
    [snap] = rows(ctx, AccountSnapshot, AccountSnapshot.id)
    assert (snap.ratio, snap.unsatisfied_count, snap.class_name) == (2.5, 7, "VIP")
    assert snap.upload_rate_bps == 1000

    fake.remove(DONE)
    assert "0 new, 1 gone" in run_job(ctx, "torrent_watch").summary
    row = torrent_row(ctx, DONE)
    assert row.state == "gone" and row.seeding_seconds == 7200  # history kept
    fake.put(DONE, "stalledUP", seeding_time=9000)
    run_job(ctx, "torrent_watch")
    assert (torrent_row(ctx, DONE).state, torrent_row(ctx, DONE).seeding_seconds) == \
        ("seeding", 9000)


def test_an_incremental_poll_writes_only_what_changed(watch):
    ctx, fake = watch
    fake.put(DONE, "stalledUP", seeding_time=100)
    fake.put(STUCK, "downloading", dlspeed=9)
    run_job(ctx, "torrent_watch")
    with session_scope(ctx.sessions) as s:
        s.get(TrackedTorrent, DONE).name = "renamed in the store"
    fake.put(STUCK, "downloading", progress=0.5, dlspeed=9)
    first_seen = torrent_row(ctx, DONE).last_seen_at
    run_job(ctx, "torrent_watch")
    assert torrent_row(ctx, DONE).name == "renamed in the store"  # unchanged: not rewritten
    assert torrent_row(ctx, DONE).last_seen_at > first_seen  # but seen again
    assert torrent_row(ctx, STUCK).progress == 0.5


def test_without_tracker_data_the_guard_keeps_its_state_and_keeps_seeding(watch):
    ctx, fake = watch
    with session_scope(ctx.sessions) as s:
        guard_store.save_guard(s, ratio_guard.step(
            GuardState(), 0.9, datetime.now(UTC), ctx.policies.guard))
    ctx.tracker = None
    fake.put(DONE, "pausedUP", progress=1.0)
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "success"
    assert "guard stays frozen: tracker not configured (set MAM_ID)" in result.summary
    assert ("resume", (DONE,)) in fake.calls and fake.prefs["max_uploads"] == 200
    with session_scope(ctx.sessions) as s:
        assert guard_store.current_guard(s).frozen
    assert rows(ctx, AccountSnapshot) == []


def test_a_restore_missed_while_qbittorrent_was_down_happens_next_run(watch, tracker_sim):
    ctx, fake = watch
    tracker_sim.control.account(ratio=0.95)
    run_job(ctx, "torrent_watch")
    assert fake.prefs["max_uploads"] == 200
    tracker_sim.control.account(ratio=1.20)
    fake.down = "connection refused"
    failed = run_job(ctx, "torrent_watch")
    assert failed.outcome == "failed"
    assert "qBittorrent at http://127.0.0.1:1 is not reachable" in failed.error
    assert "guard thawed (changed)" in failed.error  # the guard still moved on the reading
    assert fake.prefs["max_uploads"] == 200  # nothing could be restored yet

    fake.down = None
    ctx.clients.get(torrent_watch.WATCH_CLIENT, lambda: fake)  # the failure dropped it
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "success" and "preferences restored" in result.summary
    assert fake.prefs == {"max_uploads": 20, "max_uploads_per_torrent": 4, "up_limit": 0}
    with session_scope(ctx.sessions) as s:
        assert guard_store.saved_preferences(s) is None
    events = rows(ctx, RatioGuardEvent, RatioGuardEvent.id)
    assert [(e.from_state, e.to_state, e.ratio) for e in events] == \
        [("thawed", "frozen", 0.95), ("frozen", "thawed", 1.2)]
    assert events[0].details["floor"] == 1.0 and events[0].details["downloaded_bytes"] > 0


def test_recovery_waits_a_poll_then_steps_through_to_the_cap_and_resets(watch):
    ctx, fake = watch
    fake.put(STUCK, "stalledDL", num_seeds=0)
    actions = []
    for _ in range(6):
        before = len(fake.calls)
        assert run_job(ctx, "torrent_watch").outcome == "success"
        actions.append([name for name, _ in fake.calls[before:]])
        if actions[-1] == ["force_start"]:  # as qBittorrent shows a forced idle download
            fake.put(STUCK, "forcedDL", forced=True, dlspeed=0)
    assert actions == [[], ["reannounce"], ["recheck"], ["force_start"], [], []]
    attempts = rows(ctx, TorrentRecoveryAttempt, TorrentRecoveryAttempt.id)
    assert [(a.attempt, a.action, a.outcome) for a in attempts] == \
        [(1, "reannounce", "done"), (2, "recheck", "done"), (3, "force_start", "done")]
    assert "stalledDL" in attempts[0].reason and "attempt 1 of 3" in attempts[0].reason
    assert torrent_row(ctx, STUCK).recovery_attempts == 3

    fake.put(STUCK, "forcedDL", forced=True, dlspeed=50_000)
    run_job(ctx, "torrent_watch")
    assert torrent_row(ctx, STUCK).recovery_attempts == 0  # moving again: starts over
    fake.put(STUCK, "stalledDL", forced=False, dlspeed=0)
    run_job(ctx, "torrent_watch")
    run_job(ctx, "torrent_watch")
    assert fake.calls[-1] == ("reannounce", (STUCK,))
    assert len(rows(ctx, TorrentRecoveryAttempt)) == 4  # history of the first round kept


def test_a_recovery_command_that_fails_is_recorded_and_fails_the_run(watch):
    ctx, fake = watch
    fake.put(STUCK, "error")
    run_job(ctx, "torrent_watch")

    fake.failing["reannounce"] = TorrentClientUnavailable(
        "qBittorrent at http://127.0.0.1:1 dropped the line")
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "failed" and "recovery reannounce" in result.error
    [attempt] = rows(ctx, TorrentRecoveryAttempt)
    assert (attempt.outcome, attempt.torrent_state) == ("failed", "errored")
    assert "dropped the line" in attempt.error


def test_guard_and_seeding_answers_from_the_store(watch, tracker_sim):
    ctx, fake = watch
    seeding, now = ctx.policies.seeding, datetime.now(UTC)
    with session_scope(ctx.sessions) as s:
        assert guard_store.current_guard(s) == GuardState()
        assert not guard_store.may_stop(s, seeding, DONE, now).allowed
    tracker_sim.control.account(unsat_count=30, unsat_limit=50, ratio=1.5)
    hours = 3600
    fake.put(DONE, "stalledUP", progress=1.0, seeding_time=80 * hours,
             completion_on=now - timedelta(days=5), added_on=now - timedelta(days=5))
    fake.put(STUCK, "stalledUP", progress=1.0, seeding_time=10 * hours,
             completion_on=now - timedelta(days=1), added_on=now - timedelta(days=1))
    run_job(ctx, "torrent_watch")
    with session_scope(ctx.sessions) as s:
        snap = guard_store.latest_snapshot(s)
        assert (snap.unsatisfied_count, snap.unsatisfied_limit) == (30, 50)
        assert guard_store.may_stop(s, seeding, DONE, now).allowed
        verdict = guard_store.may_stop(s, seeding, STUCK.upper(), now)
        assert not verdict.allowed and "10.0 h < 72 h" in verdict.reason
        assert not guard_store.current_guard(s).frozen



@pytest.mark.parametrize("client", [FakeTorrentClient, QbitClient])
def test_the_fake_and_the_real_client_speak_the_torrent_client_port(client):
    for name, declared in vars(TorrentClient).items():
        if name.startswith("_") or not callable(declared):
            continue
        wanted = list(inspect.signature(declared).parameters)
        assert list(inspect.signature(getattr(client, name)).parameters) == wanted, name


@pytest.mark.parametrize("raw", ["pausedUP", "stoppedUP"])
def test_a_thawed_guard_still_resumes_a_torrent_under_duty(watch, raw):
    ctx, fake = watch
    fake.put(DONE, raw, progress=1.0, seeding_time=3600)
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "success" and "guard thawed" in result.summary
    assert ("resume", (DONE,)) in fake.calls


def test_a_thawed_guard_still_force_starts_a_queued_torrent_under_duty(watch):
    ctx, fake = watch
    fake.put(DONE, "queuedUP", progress=1.0, seeding_time=3600)
    result = run_job(ctx, "torrent_watch")
    assert result.outcome == "success" and "guard thawed" in result.summary
    assert ("force_start", (DONE,)) in fake.calls
