"""/metrics in the Prometheus text format, behind the API key unless METRICS_PUBLIC."""

import re
import shutil

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mamcrawler.jobs.runner import run_job
from mamcrawler.services.tracker import TrackerEndpoint
from tests.support.database import API_KEY


@pytest.fixture
def build(make_settings, sqlite_template, tmp_path, tracker_sim):
    from mamcrawler.api.app import create_app
    from mamcrawler.runtime import Runtime

    made = []

    def make(**overrides):
        path = tmp_path / f"metrics{len(made)}.db"
        shutil.copy(sqlite_template, path)
        settings = make_settings(database_url=f"sqlite:///{path}", mam_id=tracker_sim.mam_id,
                                 mam_url=tracker_sim.base_url, **overrides)
        rt = Runtime.build(settings, upgrade_db=False)
        rt.scheduler.ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id,
                                                   0.0)
        made.append(rt)
        return rt, TestClient(create_app(rt, start_scheduler=False))

    yield make
    for rt in made:
        rt.close()


def samples(text: str) -> dict:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_need_the_key(build):
    _, client = build()
    answer = client.get("/metrics")
    assert answer.status_code == 401 and answer.json()["success"] is False
    assert client.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"}
                      ).status_code == 200


def test_metrics_public_needs_no_key(build):
    _, client = build(metrics_public=True)
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


def test_account_jobs_and_tracker_requests_are_measured(build, tracker_sim):
    tracker_sim.control.account(ratio=2.5, vip_days=40)
    rt, client = build()
    assert run_job(rt.scheduler.ctx, "account_check").outcome == "success"
    text = client.get("/metrics", headers={"X-Api-Key": API_KEY}).text
    found = samples(text)
    assert found[("mamcrawler_ratio", ())] == pytest.approx(2.5, abs=0.01)
    assert found[("mamcrawler_bonus_points", ())] > 0
    assert 39 < found[("mamcrawler_vip_days_left", ())] <= 40
    assert found[("mamcrawler_ratio_guard_frozen", ())] == 0
    assert ("mamcrawler_unsatisfied_limit", ()) in found
    runs = ("mamcrawler_job_runs_total", (("job", "account_check"), ("outcome", "success")))
    assert found[runs] >= 1
    assert found[("mamcrawler_job_runs_recorded",
                  (("job", "account_check"), ("outcome", "success")))] == 1
    assert ("mamcrawler_job_duration_seconds_count", (("job", "account_check"),)) in found
    tracker = [k for k in found if k[0] == "mamcrawler_tracker_requests_total"]
    assert any(dict(labels)["status"] == "200" for _, labels in tracker), tracker
    assert re.search(r'mamcrawler_tracker_requests_total\{endpoint="/[^"?]+",status="200"\}',
                     text)
    assert tracker_sim.mam_id not in text and API_KEY not in text
