"""The tracker-only demo never touches the person's real systems."""

import pytest

from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_tracker_only_demo_detaches_real_systems(make_settings, db_url, tmp_path):
    settings = make_settings(database_url=db_url, demo=True, qb_host="192.0.2.10",
                             abs_url="http://192.0.2.11:13378", abs_token="t",
                             prowlarr_url="http://192.0.2.12:9696", library_dir=tmp_path)
    rt = Runtime.build(settings)
    try:
        assert rt.settings.qb_host is None and rt.settings.abs_url is None
        assert rt.settings.prowlarr_url is None and rt.settings.library_dir is None
        ctx = rt.scheduler.ctx
        assert ctx.tracker is not None and ctx.tracker.demo
        assert ctx.tracker.base_url.startswith("http://127.0.0.1:")
        for job in ("acquisition", "download_watch", "torrent_watch", "metadata_maintenance",
                    "metadata_drift"):
            result = run_job(ctx, job)
            assert result.outcome == "not_configured", (job, result.summary, result.error)
        assert "made-up books" in run_job(ctx, "metadata_drift").summary
    finally:
        rt.close()
