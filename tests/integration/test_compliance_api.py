"""The ratio/compliance and qBittorrent status endpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from mamcrawler.api.app import create_app
from mamcrawler.domain import ratio_guard
from mamcrawler.domain.ratio_guard import GuardState
from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services import guard_store
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AccountSnapshot, TorrentRecoveryAttempt, TrackedTorrent
from tests.support.database import API_KEY
from tests.support.qbittorrent import free_port

GIB = 1024**3
RATIO = "/api/system/compliance/ratio"
QBIT = "/api/qbittorrent/status"
RECOVERY = "/api/qbittorrent/recovery"


@pytest.fixture
def make_api(make_settings, db_url):
    """TestClients on runtimes with extra settings; all closed afterwards."""
    opened = []

    def make(**overrides) -> tuple[TestClient, Runtime]:
        rt = Runtime.build(make_settings(database_url=db_url, **overrides), upgrade_db=False)
        client = TestClient(create_app(rt, start_scheduler=False),
                            headers={"X-Api-Key": API_KEY})
        client.__enter__()
        opened.append((client, rt))
        return client, rt

    yield make
    for client, rt in opened:
        client.__exit__(None, None, None)
        rt.close()


def snapshot(at: datetime, uploaded_gib: float, points: float, **fields) -> AccountSnapshot:
    values = dict(taken_at=at, uploaded_bytes=int(uploaded_gib * GIB),
                  downloaded_bytes=1000 * GIB, bonus_points=points,
                  ratio=round(uploaded_gib / 1000, 2), unsatisfied_count=20,
                  unsatisfied_limit=50)
    return AccountSnapshot(**(values | fields))


def data(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] and body["error"] is None
    return body["data"]


def test_every_endpoint_needs_the_key(api):
    for path in (RATIO, QBIT, RECOVERY):
        answer = api.get(path, headers={"X-Api-Key": "wrong"})
        assert answer.status_code == 401 and answer.json()["success"] is False


def test_ratio_before_any_reading_is_a_warning_with_nothing_guessed(api):
    status = data(api.get(RATIO))
    assert (status["status"], status["status_reason"]) == ("warning", "no account reading yet")
    assert status["global_ratio"] is None and status["last_updated"] is None
    assert status["emergency_active"] is False and status["paid_frozen"] is False
    assert status["seeding_allocation"]["remaining_capacity"] == 0
    assert status["estimated_recovery_hours"] is None and status["last_transition"] is None
    assert (status["floor"], status["recovery"]) == (1.0, 1.05)


def test_ratio_emergency_with_allocation_recovery_estimate_and_points(api, runtime):
    now = datetime.now(UTC)
    with session_scope(runtime.sessions) as s:
        s.add_all([snapshot(now - timedelta(hours=3), 970, 1000),
                   snapshot(now - timedelta(hours=2), 975, 800),  # 200 spent
                   snapshot(now - timedelta(minutes=1), 980, 950)])  # 150 earned
        step = ratio_guard.step(GuardState(), 0.98, now - timedelta(minutes=1),
                                runtime.policies.guard)
        guard_store.save_guard(s, step, {"ratio": 0.98})
        for i, state in enumerate(("seeding", "seeding", "stalled", "downloading", "gone")):
            s.add(TrackedTorrent(info_hash=f"{i:040x}", name=f"t{i}", state=state))
    status = data(api.get(RATIO))
    assert (status["status"], status["emergency_active"], status["paid_frozen"]) == \
        ("emergency", True, True)
    assert status["global_ratio"] == 0.98
    assert status["seeding_allocation"] == {
        "seeding": 2, "downloading": 1, "stalled": 1, "paused": 0, "other": 0,
        "unsatisfied_count": 20, "unsatisfied_limit": 50, "unsat_margin": 10,
        "remaining_capacity": 20}
    assert status["stalled_count"] == 1
    rate = 10 * GIB / (3 * 3600 - 60)
    assert status["upload_rate_source"] == "tracker"
    assert status["upload_rate_bps"] == pytest.approx(rate)
    assert status["estimated_recovery_hours"] == pytest.approx(70 * GIB / rate / 3600)
    assert (status["points_earned"], status["points_spent"]) == (150, 200)
    transition = status["last_transition"]
    assert (transition["from_state"], transition["to_state"], transition["ratio"]) == \
        ("thawed", "frozen", 0.98)
    assert "≤ floor 1.00" in transition["reason"]


@pytest.mark.parametrize(("ratio", "age", "status", "reason"), [
    (1.02, timedelta(minutes=2), "warning", "ratio 1.02 below recovery 1.05"),
    (1.20, timedelta(minutes=2), "normal", "ratio 1.20"),
    (1.20, timedelta(hours=2), "warning", "account data is stale: last read 120 min ago"),
])
def test_ratio_warning_and_normal(api, runtime, ratio, age, status, reason):
    with session_scope(runtime.sessions) as s:
        s.add(snapshot(datetime.now(UTC) - age, ratio * 1000, 10, upload_rate_bps=2048.0))
    answer = data(api.get(RATIO))
    assert (answer["status"], answer["status_reason"]) == (status, reason)
    assert answer["upload_rate_source"] == "qbittorrent" and answer["upload_rate_bps"] == 2048
    if ratio > 1.05:
        assert answer["estimated_recovery_hours"] == 0


def test_qbittorrent_not_configured_answers_with_the_fix(api):
    status = data(api.get(QBIT))
    assert (status["configured"], status["connected"], status["version"]) == (False, False, None)
    assert status["error"].startswith("not configured: set QB_HOST")
    assert status["last_poll_ok"] is None and status["torrents_by_state"] == {}


def test_qbittorrent_down_answers_connected_false_with_the_reason(make_api):
    client, rt = make_api(qb_host="127.0.0.1", qb_port=free_port(), qb_password="qb-secret-pw")
    assert run_job(rt.scheduler.ctx, "torrent_watch").outcome == "failed"
    answer = client.get(QBIT)
    status = data(answer)
    assert (status["configured"], status["connected"]) == (True, False)
    assert "not reachable" in status["error"] and "QB_HOST/QB_PORT" in status["error"]
    assert status["last_poll_ok"] is False and "not reachable" in status["last_poll_error"]
    assert status["last_poll_at"] is not None and status["url"].startswith("http://127.0.0.1:")
    assert "qb-secret-pw" not in answer.text


@pytest.mark.slow
def test_qbittorrent_up_reports_version_speeds_and_counts(make_api, qbit_process,
                                                          tiny_torrent_factory):
    client, rt = make_api(qb_host="127.0.0.1", qb_port=qbit_process.webui_port,
                          qb_username=qbit_process.username, qb_password=qbit_process.password)
    torrent = tiny_torrent_factory("counted")
    qbit_process.client().add_torrent(torrent.data, category="mamcrawler",
                                      save_path=str(torrent.save_path))
    assert run_job(rt.scheduler.ctx, "torrent_watch").outcome == "success"
    answer = client.get(QBIT)
    status = data(answer)
    assert status["connected"] is True and status["error"] is None
    assert status["version"].startswith("v4.") and "Web API" in status["version"]
    assert sum(status["torrents_by_state"].values()) == 1
    assert status["download_speed"] >= 0 and status["session_uploaded"] >= 0
    assert status["last_poll_ok"] is True and status["category"] == "mamcrawler"
    assert qbit_process.password not in answer.text


def test_recovery_attempts_are_listed_newest_first(api, runtime):
    now = datetime.now(UTC)
    with session_scope(runtime.sessions) as s:
        for i, action in enumerate(("reannounce", "recheck", "force_start")):
            s.add(TorrentRecoveryAttempt(
                at=now + timedelta(minutes=5 * i), info_hash="a" * 40, name="stuck",
                attempt=i + 1, action=action, torrent_state="stalled", raw_state="stalledDL",
                reason=f"attempt {i + 1} of 3", outcome="done"))
        s.add(TorrentRecoveryAttempt(at=now, info_hash="b" * 40, name="other", attempt=1,
                                     action="reannounce", torrent_state="errored",
                                     reason="errored", outcome="failed", error="refused"))
    page = data(api.get(RECOVERY, params={"info_hash": "A" * 40}))
    assert page["total"] == 3
    assert [item["action"] for item in page["items"]] == ["force_start", "recheck", "reannounce"]
    assert data(api.get(RECOVERY, params={"limit": 2}))["total"] == 4
    assert api.get(RECOVERY, params={"info_hash": "not-a-hash"}).status_code == 422
