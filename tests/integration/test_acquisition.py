"""Acquisition against the tracker simulator and a real qBittorrent (R6-R10)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, FailedAttempt, RatioGuardState, VipPending, WantedBook

pytestmark = pytest.mark.slow


@pytest.fixture
def acq(make_settings, db_url, tracker_sim, qbit_process):
    """A runtime wired to the simulator and a real qBittorrent."""
    settings = make_settings(database_url=db_url, mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1",
                             qb_port=qbit_process.webui_port, qb_category="mamcrawler",
                             paid_after_days=0)  # these cases are about the guard
    rt = Runtime.build(settings, upgrade_db=False)
    rt.scheduler.ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.0)
    yield rt
    rt.close()


def want(rt, title, author, **extra):
    with session_scope(rt.sessions) as s:
        from mamcrawler.services.wanted import add_wanted

        entry, _ = add_wanted(s, {"title": title, "author": author, **extra})
        return entry.id


def downloads(rt):
    with session_scope(rt.sessions) as s:
        return s.scalars(select(Download).order_by(Download.id)).all()


def acquire(rt):
    return run_job(rt.scheduler.ctx, "acquisition", trigger="manual")


def add_editions(sim, title, author):
    free = sim.control.post("catalogue", title=title, authors=[author], filetype="m4b",
                            free=True, vip=False, seeders=2, narrators=["Nia Brooks"])
    paid = sim.control.post("catalogue", title=title, authors=[author], filetype="m4b",
                            free=False, vip=False, seeders=60, narrators=["Nia Brooks"])
    return free, paid


def test_free_release_is_chosen_over_a_better_seeded_paid_one(acq, tracker_sim, qbit_client):
    free, paid = add_editions(tracker_sim, "The Tidewater Clock", "Owen Hale")
    wanted_id = want(acq, "The Tidewater Clock", "Owen Hale")
    result = acquire(acq)
    assert result.outcome == "success", result.error
    assert "1 grabbed" in result.summary
    [download] = downloads(acq)
    assert download.release_id == str(free["id"]) and download.edition == "free"
    assert download.state == "downloading" and download.info_hash == free["info_hash"]
    assert "free" in download.reason and download.quality_score is not None
    ranked = {c["release_id"]: c for c in download.candidates}
    assert ranked[str(free["id"])]["chosen"] and not ranked[str(paid["id"])]["chosen"]
    assert download.release_info["narrators"] == ["Nia Brooks"]
    [torrent] = [t for t in qbit_client.torrents() if t.hash == free["info_hash"]]
    assert torrent.category == "mamcrawler"
    with session_scope(acq.sessions) as s:
        assert s.get(WantedBook, wanted_id).status == "downloading"
    again = acquire(acq)  # an active download is never grabbed twice
    assert "0 searched" in again.summary and len(downloads(acq)) == 1


def test_paid_only_book_waits_while_frozen_and_is_taken_after_thaw(acq, tracker_sim):
    paid = tracker_sim.control.post("catalogue", title="Salt and Cinder", authors=["Ivo Marsh"],
                                    filetype="m4b", free=False, vip=False, seeders=9)
    want(acq, "Salt and Cinder", "Ivo Marsh")
    with session_scope(acq.sessions) as s:
        s.add(RatioGuardState(id=1, frozen=True, since=datetime.now(UTC), last_ratio=0.97))
    tracker_sim.control.account(ratio=0.97)
    frozen = acquire(acq)
    assert frozen.outcome == "success" and "0 grabbed" in frozen.summary
    assert downloads(acq) == []
    with session_scope(acq.sessions) as s:
        [pending] = s.scalars(select(VipPending)).all()
        assert pending.release_id == str(paid["id"]) and "≤ floor 1.00" in pending.reason
        item = s.scalars(select(WantedBook)).one()
        assert item.status == "wanted" and "nothing chosen" in item.note
        item.last_searched_at = None  # let the next run search again at once
        s.get(RatioGuardState, 1).frozen = False
    tracker_sim.control.account(ratio=3.0)
    thawed = acquire(acq)
    assert "1 grabbed" in thawed.summary, thawed.summary
    [download] = downloads(acq)
    assert download.edition == "paid" and download.release_id == str(paid["id"])


def test_a_failed_grab_waits_a_day_and_is_tallied(acq, tracker_sim):
    add_editions(tracker_sim, "Lanterns Under Ice", "Pella Quist")
    wanted_id = want(acq, "Lanterns Under Ice", "Pella Quist")
    tracker_sim.control.fail(500, count=10, path="/tor/download.php")
    result = acquire(acq)
    # The tracker answered 500 to the download: down, so the run failed with that error.
    assert result.outcome == "failed" and "0 grabbed" in result.summary
    assert result.error.startswith("The tracker could not be reached (HTTP 500")
    [download] = downloads(acq)
    assert download.state == "failed" and download.retries == 1
    wait = download.next_retry_at - datetime.now(UTC)
    assert timedelta(hours=23) < wait <= timedelta(days=1)
    with session_scope(acq.sessions) as s:
        assert s.scalars(select(FailedAttempt)).one().stage == "grab"
        s.get(WantedBook, wanted_id).last_searched_at = None
    assert "0 searched" in acquire(acq).summary  # not before its retry time


def test_no_seeding_capacity_means_no_grab(acq, tracker_sim):
    add_editions(tracker_sim, "A Map of Quiet Places", "Rhea Lund")
    want(acq, "A Map of Quiet Places", "Rhea Lund")
    tracker_sim.control.account(unsat_count=145, unsat_limit=150)  # margin 10 → capacity 0
    result = acquire(acq)
    assert result.outcome == "success" and "0 grabbed" in result.summary
    assert downloads(acq) == []


def test_without_qbittorrent_acquisition_is_not_configured(runtime):
    result = run_job(runtime.scheduler.ctx, "acquisition")
    assert result.outcome == "not_configured"
