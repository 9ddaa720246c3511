"""The daily account check against the tracker simulator over HTTP (R3, R6)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services.tracker import SESSION_KEY, TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    AccountDecision,
    AccountSnapshot,
    AppState,
    VipPending,
    WantedBook,
)


@pytest.fixture
def tracked(make_settings, db_url, tracker_sim):
    """A runtime whose tracker is the simulator (no pacing, to keep tests quick)."""
    runtimes = []

    def build(**overrides) -> Runtime:
        settings = make_settings(database_url=db_url, mam_id=tracker_sim.mam_id,
                                 mam_url=tracker_sim.base_url, **overrides)
        rt = Runtime.build(settings, upgrade_db=False)
        rt.scheduler.ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.0,
                                                   simulator=True)
        runtimes.append(rt)
        return rt

    yield build
    for rt in runtimes:
        rt.close()


def check(rt) -> object:
    return run_job(rt.scheduler.ctx, "account_check", trigger="manual")


def decisions(rt) -> list[AccountDecision]:
    with session_scope(rt.sessions) as s:
        return s.scalars(select(AccountDecision).order_by(AccountDecision.id)).all()


def test_check_records_snapshot_decision_and_rules(tracked, tracker_sim):
    tracker_sim.control.account(class_name="VIP", vip_days=60, points=20_000, ratio=3.2)
    rt = tracked()
    result = check(rt)
    assert result.outcome == "success", result.error
    assert "rules v1" in result.summary
    with session_scope(rt.sessions) as s:
        [snap] = s.scalars(select(AccountSnapshot)).all()
        assert snap.class_name == "VIP" and snap.bonus_points == pytest.approx(20_000, abs=5)
        assert snap.unsatisfied_limit is not None
    [decision] = decisions(rt)
    assert decision.action == "none" and "60" in decision.reason  # days left, no renewal
    assert check(rt).outcome == "success"
    assert "rules v1" in check(rt).summary  # nothing changed: same version


def test_vip_renewal_moves_points_and_expiry(tracked, tracker_sim):
    tracker_sim.control.account(class_name="VIP", vip_days=10, points=30_000)
    rt = tracked()
    before = tracker_sim.control.state()["account"]
    assert check(rt).outcome == "success"
    after = tracker_sim.control.state()["account"]
    [buy] = [d for d in decisions(rt) if d.action == "buy_vip"]
    assert buy.outcome == "done" and "within threshold" in buy.reason
    weeks = buy.details["weeks"]
    assert weeks >= 1 and after["points_exact"] == pytest.approx(
        before["points_exact"] - 1250 * weeks, abs=5)
    assert after["vip_until"] > before["vip_until"]


def test_renewal_happens_during_a_ratio_emergency(tracked, tracker_sim):
    tracker_sim.control.account(class_name="VIP", vip_days=5, points=30_000, ratio=0.8)
    rt = tracked()
    assert check(rt).outcome == "success"
    assert [d.outcome for d in decisions(rt) if d.action == "buy_vip"] == ["done"]


def test_a_lost_purchase_answer_is_not_repeated(tracked, tracker_sim):
    tracker_sim.control.account(class_name="VIP", vip_days=10, points=30_000)
    tracker_sim.control.post("lose-purchase-answer", count=1)
    rt = tracked()
    result = check(rt)
    assert result.outcome == "success", result.error
    purchases = tracker_sim.control.state()["purchases"]
    assert len(purchases) == 1  # applied once by the site, never sent again
    [buy] = [d for d in decisions(rt) if d.action == "buy_vip"]
    assert buy.outcome == "applied", buy.details


def test_rules_version_rises_only_on_change_and_events_show(tracked, tracker_sim):
    rt = tracked()
    check(rt)
    tracker_sim.control.events(freeleech={"active": True, "hours": 24, "title": "Holiday FL"})
    assert "rules v2" in check(rt).summary
    assert "rules v2" in check(rt).summary

    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app
    from tests.support.database import API_KEY

    with TestClient(create_app(rt, start_scheduler=False), headers={"X-Api-Key": API_KEY}) as api:
        rules = api.get("/api/system/mam-rules").json()["data"]
        assert rules["version"] == 2 and rules["freeleech_active"] is True
        assert rules["rules"]["seed_hours"] == 72
        events = api.get("/api/system/events").json()["data"]
        assert events["count"] == 1 and events["active_events"][0]["kind"] == "freeleech"
        assert events["impact"]["free_slots"] > events["impact"]["normal_free_slots"]
        vip = api.get("/api/system/vip/status").json()["data"]
        assert vip["status"] in ("healthy", "warning", "critical") and vip["last_decision"]
        month = datetime.now(UTC).strftime("%Y-%m")
        report = api.get("/api/compliance/report", params={"month": month}).json()["data"]
        # 3 checks, and the account re-read after the first one's VIP renewal
        assert report["snapshots"] == 4 and report["decisions"] == 3
        assert api.get("/api/compliance/report", params={"month": "2026-13"}).status_code == 422


def test_session_cookie_survives_a_restart(tracked, tracker_sim):
    rt = tracked()
    assert check(rt).outcome == "success"
    rt.close()
    with session_scope(rt.sessions) as s:
        stored = s.get(AppState, SESSION_KEY).value
    assert stored != tracker_sim.mam_id  # the cookie rotated and the newest was kept
    reborn = tracked()  # the first cookie is stale now: only the stored one works
    assert check(reborn).outcome == "success"
    assert tracker_sim.control.state()["mam_id"] != stored  # and it kept rotating


def test_expired_session_fails_the_run_with_the_fix(tracked, tracker_sim):
    tracker_sim.control.fail(403, count=5)
    rt = tracked()
    result = check(rt)
    assert result.outcome == "failed"
    assert "MAM_ID" in result.error
    assert decisions(rt) == []


def test_without_a_session_the_check_is_not_configured(runtime):
    result = run_job(runtime.scheduler.ctx, "account_check")
    assert result.outcome == "not_configured" and "MAM_ID" in result.summary


def test_vip_pending_release_that_turned_free_goes_back_to_acquisition(tracked, tracker_sim):
    tracker_sim.control.account(class_name="VIP", vip_days=60, points=5_000)
    entry = tracker_sim.control.post("catalogue", title="The Quiet Lighthouse",
                                     authors=["Ada Marlow"], vip=True, free=False)
    rt = tracked()
    searched = datetime.now(UTC)
    with session_scope(rt.sessions) as s:
        book = WantedBook(title="The Quiet Lighthouse", author="Ada Marlow",
                          dedupe_key="quiet lighthouse|ada marlow", last_searched_at=searched)
        s.add(book)
        s.flush()
        s.add(VipPending(release_id=str(entry["id"]), title="The Quiet Lighthouse",
                         author="Ada Marlow", reason="was paid", wanted_id=book.id))
    result = check(rt)
    assert "1 VIP-pending handed to acquisition" in result.summary
    with session_scope(rt.sessions) as s:
        [wanted] = s.scalars(select(WantedBook)).all()
        assert (wanted.status, wanted.last_searched_at) == ("wanted", None)  # due at once
        assert wanted.note.startswith("VIP-pending: turned free: VIP-free")
        assert s.scalars(select(VipPending)).one().status == "wanted"


def vip_buys(rt) -> list[AccountDecision]:
    return [d for d in decisions(rt) if d.action == "buy_vip"]


def test_a_vip_buy_the_tracker_does_not_show_yet_is_not_bought_again(tracked, tracker_sim):
    # The site takes the points at once but its VIP expiry does not move (yet), and its
    # store would let VIP grow past 90 days: only the keeper's own record stops a second buy.
    tracker_sim.control.account(class_name="Power User", vip_days=20, points=40_000,
                                vip_lag_s=None, store_max_vip_days=400)
    rt = tracked()
    assert check(rt).outcome == "success"
    second = check(rt)
    assert second.outcome == "success", second.error
    state = tracker_sim.control.state()
    assert [p["type"] for p in state["purchases"]] == ["VIP"]
    actual = datetime.fromisoformat(state["account"]["vip_until_actual"]).replace(tzinfo=UTC)
    assert actual - datetime.now(UTC) <= timedelta(days=90)
    [buy] = vip_buys(rt)
    assert buy.details["expected_vip_until"]
    last = decisions(rt)[-1]
    assert last.action == "none" and "not yet shown" in last.reason, last.reason
    assert last.details["attention"] is False  # minutes late is normal, not yet a worry
    assert "not yet shown" in second.summary

    # The site catches up: the purchase shows, and the keeper judges from it again.
    tracker_sim.control.account(vip_until=state["account"]["vip_until_actual"])
    assert check(rt).outcome == "success"
    last = decisions(rt)[-1]
    assert last.action == "none" and "not yet shown" not in last.reason
    assert "> renewal threshold" in last.reason
    assert len(tracker_sim.control.state()["purchases"]) == 1


def test_a_purchase_is_recorded_even_when_the_rest_of_the_check_fails(
        tracked, tracker_sim, monkeypatch):
    from mamcrawler.services import account

    def broken_refresh(*args, **kwargs):
        raise RuntimeError("rules store broken")

    monkeypatch.setattr(account.rules, "refresh", broken_refresh)
    tracker_sim.control.account(class_name="Power User", vip_days=20, points=40_000,
                                vip_lag_s=None)
    rt = tracked()
    assert check(rt).outcome == "failed"
    [buy] = vip_buys(rt)
    assert buy.outcome == "done"  # so the next run knows VIP was bought
    check(rt)
    assert len(tracker_sim.control.state()["purchases"]) == 1


def api_client(rt):
    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app
    from tests.support.database import API_KEY

    return TestClient(create_app(rt, start_scheduler=False), headers={"X-Api-Key": API_KEY})


def test_vip_status_shows_the_renewal_at_once(tracked, tracker_sim):
    tracker_sim.control.account(class_name="Power User", vip_days=6, points=30_000)
    rt = tracked()
    assert check(rt).outcome == "success"
    with api_client(rt) as api:
        vip = api.get("/api/system/vip/status").json()["data"]
    assert vip["days_left"] == pytest.approx(90, abs=0.1)  # re-read after the purchase
    assert vip["points"] == pytest.approx(30_000 - 12 * 1_250, abs=5)
    assert vip["status"] == "healthy"
    with session_scope(rt.sessions) as s:
        snaps = s.scalars(select(AccountSnapshot).order_by(AccountSnapshot.taken_at)).all()
    [buy] = vip_buys(rt)
    assert snaps[0].taken_at < buy.at <= snaps[1].taken_at  # bought between the two reads
    assert buy.points_after == pytest.approx(snaps[1].bonus_points, abs=5)


def test_a_purchase_that_costs_more_than_expected_stops_all_buying(
        tracked, tracker_sim, make_settings, db_url, caplog):
    # The site now charges 1,500 a week: 10 weeks take 15,000 points, not 12,500, and
    # leave 0 of the 1,000 reserve.
    tracker_sim.control.account(class_name="Power User", vip_days=20, points=15_000,
                                vip_price=1_500)
    rt = tracked()
    with caplog.at_level("WARNING", logger="mamcrawler.account"):
        assert check(rt).outcome == "success"
    [buy] = vip_buys(rt)
    assert buy.outcome == "price_mismatch", (buy.outcome, buy.details)
    assert buy.details["expected_cost"] == 12_500
    assert buy.details["charged"] == pytest.approx(15_000, abs=5)
    assert buy.details["attention"] is True
    assert "1,500 per week, expected 1,250" in buy.details["detail"]
    assert any("price mismatch" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)

    # Points pile up near the cap: nothing is bought, and it says why.
    tracker_sim.control.account(points=99_000, vip_days=60)
    result = check(rt)
    assert result.outcome == "success" and "purchases stopped" in result.summary
    last = decisions(rt)[-1]
    assert last.action == "none" and last.details["attention"] is True
    assert "VIP_PRICE_CONFIRMED_AT" in last.reason and "not bought:" in last.reason
    assert len(tracker_sim.control.state()["purchases"]) == 1
    with api_client(rt) as api:
        vip = api.get("/api/system/vip/status").json()["data"]
    assert vip["status"] == "warning" and "purchases stopped" in vip["reason"]

    # A restart alone changes nothing.
    rt.close()
    assert "purchases stopped" in check(tracked()).summary

    # The person checks the prices and says so; the keeper buys again.
    tracker_sim.control.account(vip_price=1_250)
    confirmed = tracked(vip_price_confirmed_at=datetime.now(UTC).isoformat())
    assert check(confirmed).outcome == "success"
    last = decisions(confirmed)[-1]
    assert (last.action, last.outcome) == ("buy_upload_credit", "done"), last.details


def test_a_confirmed_price_is_the_expected_one_until_it_changes_again(tracked, tracker_sim):
    # Points for one week at 1,250 above the reserve; the site takes 1,500.
    tracker_sim.control.account(class_name="VIP", vip_days=20, points=2_500, vip_price=1_500)
    rt = tracked()
    assert check(rt).outcome == "success"
    [first] = vip_buys(rt)
    assert (first.outcome, first.details["weeks"]) == ("price_mismatch", 1)
    rt.close()

    # The person checks the store (1,500 a week is right) and confirms: the keeper now
    # expects 1,500 a week, so the next renewal goes through at that price.
    confirmed_at = datetime.now(UTC).isoformat()
    tracker_sim.control.account(points=30_000)  # the week bought shows: 27 days left
    rt = tracked(vip_price_confirmed_at=confirmed_at)
    assert check(rt).outcome == "success"
    second = vip_buys(rt)[-1]
    assert second.outcome == "done", second.details
    assert second.details["weeks"] > 1
    assert second.details["expected_cost"] == 1_500 * second.details["weeks"]
    rt.close()

    # A price changes again (upload credit, near the cap): a mismatch, and buying stops.
    tracker_sim.control.account(points=99_000, upload_price=600)
    rt = tracked(vip_price_confirmed_at=confirmed_at)
    assert check(rt).outcome == "success"
    credit = decisions(rt)[-1]
    assert (credit.action, credit.outcome) == ("buy_upload_credit", "price_mismatch")
    assert "purchases stopped" in check(rt).summary
