"""Notices (R23) where the events happen, and through Apprise to a loopback JSON target."""

import json
import shutil

import pytest
from werkzeug import Response

from mamcrawler.domain.notices import NoticeKind
from mamcrawler.jobs.acquisition_jobs import COMMAND_CLIENT
from mamcrawler.jobs.registry import JOBS, JobSpec
from mamcrawler.jobs.runner import run_job
from mamcrawler.services import notify
from mamcrawler.services.torrent_watch import WATCH_CLIENT
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store.db import session_scope
from tests.support.fake_torrent_client import FakeTorrentClient


def _collect(httpserver):
    received = []

    def handler(request):
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/notify", method="POST").respond_with_handler(handler)
    return received


def test_apprise_sends_title_and_body_to_a_json_target(make_settings, httpserver):
    received = _collect(httpserver)
    settings = make_settings(notify_urls=f"json://127.0.0.1:{httpserver.port}/notify",
                             notify_repeat_minutes=60)
    notifier = notify.from_settings(settings)
    with notify.using(notifier):
        notify.guard_changed("frozen", "ratio 0.98 ≤ floor 1.00")
        notify.guard_changed("frozen", "ratio 0.97 ≤ floor 1.00")  # a repeat: held back
        notify.vip_purchases([])
    assert len(received) == 1
    [message] = received
    assert message["title"] == "MAMcrawler: ratio emergency"
    assert "ratio 0.98 ≤ floor 1.00" in message["message"]


def test_a_target_that_fails_is_logged_and_the_caller_goes_on(make_settings, httpserver,
                                                               caplog):
    httpserver.expect_request("/notify").respond_with_data("no", status=500)
    settings = make_settings(notify_urls=f"json://127.0.0.1:{httpserver.port}/notify")
    with notify.using(notify.from_settings(settings)):
        notify.download_failed("Book", "HTTP 500", abandoned=True, download_id=3)
    assert "could not be sent" in caplog.text


def test_switched_off_kinds_do_not_reach_apprise(make_settings, httpserver):
    received = _collect(httpserver)
    settings = make_settings(notify_urls=f"json://127.0.0.1:{httpserver.port}/notify",
                             notify_off="ratio_emergency")
    with notify.using(notify.from_settings(settings)):
        notify.guard_changed("frozen", "ratio 0.98")
        notify.guard_changed("normal", "ratio 1.10")
    assert [m["title"] for m in received] == ["MAMcrawler: ratio recovered"]


@pytest.fixture
def rt(make_settings, sqlite_template, tmp_path, tracker_sim, fake_notifier):
    from mamcrawler.runtime import Runtime

    path = tmp_path / "notify.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(database_url=f"sqlite:///{path}", mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1", qb_port=9)
    runtime = Runtime.build(settings, upgrade_db=False)
    ctx = runtime.scheduler.ctx
    ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.0)
    ctx.notifier = fake_notifier
    fake = FakeTorrentClient()
    for name in (COMMAND_CLIENT, WATCH_CLIENT):
        ctx.clients.get(name, lambda: fake)
    yield runtime
    runtime.close()


def test_ratio_guard_transitions_are_told(rt, tracker_sim, fake_notifier):
    tracker_sim.control.account(ratio=0.9)
    assert run_job(rt.scheduler.ctx, "torrent_watch").outcome == "success"
    tracker_sim.control.account(ratio=2.0)
    assert run_job(rt.scheduler.ctx, "torrent_watch").outcome == "success"
    assert fake_notifier.kinds() == [NoticeKind.RATIO_EMERGENCY, NoticeKind.RATIO_RECOVERED]
    assert "0.90" in fake_notifier.notices[0].body


def test_a_vip_renewal_is_told(rt, tracker_sim, fake_notifier):
    tracker_sim.control.account(vip_days=10)
    assert run_job(rt.scheduler.ctx, "account_check").outcome == "success"
    [renewed] = fake_notifier.of(NoticeKind.VIP_RENEWED)
    assert "buy" in renewed.body


def test_a_failed_grab_is_told(rt, tracker_sim, fake_notifier):
    tracker_sim.control.post("catalogue", title="Lanterns Under Ice", authors=["Pella Quist"],
                             filetype="m4b", free=True, vip=False, seeders=3)
    with session_scope(rt.sessions) as session:
        add_wanted(session, {"title": "Lanterns Under Ice", "author": "Pella Quist"})
    tracker_sim.control.fail(404, count=10, path="/tor/download.php")  # not retried
    # the one book's grab failed: an honest run says so
    assert run_job(rt.scheduler.ctx, "acquisition").outcome == "failed"
    [failed] = fake_notifier.of(NoticeKind.DOWNLOAD_FAILED)
    assert "Lanterns Under Ice" in failed.title


def test_a_rejected_tracker_session_is_told(rt, tracker_sim, fake_notifier):
    tracker_sim.control.fail(403, count=5)
    run_job(rt.scheduler.ctx, "account_check")
    [rejected] = fake_notifier.of(NoticeKind.TRACKER_SESSION_REJECTED)
    assert "rejected the session" in rejected.body and tracker_sim.mam_id not in rejected.body


def test_a_job_failing_twice_in_a_row_is_told_once(rt, fake_notifier, monkeypatch):
    def broken(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setitem(JOBS, "broken", JobSpec("broken", "always fails", broken))
    outcomes = [run_job(rt.scheduler.ctx, "broken").outcome for _ in range(2)]
    assert outcomes == ["failed", "failed"]
    [told] = fake_notifier.of(NoticeKind.JOB_FAILED_TWICE)
    assert told.key == "broken" and "disk full" in told.body
