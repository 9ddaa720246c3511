"""The first hour of a new user (issue 15), with the real `mamcrawler` command in an 80- and
a 120-column terminal: commands that only touch the database start nothing, every table
fits, `config check` on a fresh DATA_DIR, and a real tracker is never asked for the
simulator's events. Timings are in benchmarks/bench_cli.py, not here."""

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.jobs import registry
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import TaskRun
from tests.support.database import API_KEY
from tests.support.processes import cli_env

LONG_SUMMARY = ("ratio 2.50, 35,750 points, class VIP; VIP keeper: VIP has 20 days left, "
                "within threshold 30 days: buy 10 weeks for 12,500 points, VIP then 90 of max "
                "90 days; no upload credit; rules v1; 0 VIP-pending now wanted")
LONG_ERROR = ("TrackerUnavailable: The tracker could not be reached (ConnectError: connection "
              "refused). This is usually temporary: the next scheduled run will try again")
STARTED = datetime(2026, 11, 30, 9, 41, tzinfo=UTC)


def demo_env(tmp_path, columns: int = 80, **settings):
    return cli_env(data_dir=tmp_path / "data", columns=columns, **settings)


def words(text: str) -> str:
    return " ".join(text.split())


def assert_fits(output: str, columns: int) -> None:
    too_long = [line for line in output.splitlines() if len(line) > columns]
    assert not too_long, "\n".join(too_long)
    assert "…" not in output, output  # nothing cut short


def test_database_commands_start_nothing_in_demo_mode(tmp_path, processes):
    env = demo_env(tmp_path)
    outputs = {}
    for command in (["want", "The Tinker's Eclipse", "--author", "Marisol Quayle"],
                    ["status"], ["jobs", "list"]):
        result = processes.run(*command, env=env, timeout=60)
        outputs[command[0]] = output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "SIMULATOR" not in output and "API key" not in output, output
    assert "added wanted #1: The Tinker's Eclipse by Marisol Quayle" in outputs["want"]
    assert "service: not running" in words(outputs["status"])
    assert not (tmp_path / "data" / "api_key").exists()  # `serve` makes it, not these


def record_runs(tmp_path, processes) -> None:
    assert processes.run("db", "upgrade", env=demo_env(tmp_path)).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'demo.db'}")
    try:
        with session_scope(make_session_factory(engine)) as s:
            s.add(TaskRun(job_name="account_check", trigger="manual", started_at=STARTED,
                          finished_at=STARTED + timedelta(seconds=2), outcome="success",
                          summary=LONG_SUMMARY))
            s.add(TaskRun(job_name="metadata_maintenance", trigger="schedule",
                          started_at=STARTED, finished_at=STARTED, outcome="not_configured",
                          summary="no books were added in the last 13 days"))
            s.add(TaskRun(job_name="torrent_watch", trigger="schedule", started_at=STARTED,
                          finished_at=STARTED, outcome="failed", error=LONG_ERROR))
    finally:
        engine.dispose()


@pytest.mark.parametrize("columns", [80, 120])
def test_status_and_jobs_list_fit_the_terminal_and_cut_nothing(tmp_path, processes, columns):
    record_runs(tmp_path, processes)
    for command in (["status"], ["jobs", "list"]):
        result = processes.run(*command, env=demo_env(tmp_path, columns))
        assert result.returncode == 0, result.stderr
        assert_fits(result.stdout, columns)
        shown = words(result.stdout)
        for name in registry.JOBS:
            assert name in result.stdout.split(), (name, result.stdout)
        for text in (LONG_SUMMARY, LONG_ERROR, "2026-11-30 09:41", "not_configured",
                     "no books were added in the last 13 days"):
            assert text in shown, (text, result.stdout)


def test_config_check_and_scan_fit_80_columns(tmp_path, processes):
    env = demo_env(tmp_path, metadata_precedence="narrators=tags,tracker,audnexus;"
                   "series_position=audnexus,tracker,folder")
    check = processes.run("config", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert_fits(check.stdout, 80)
    for variable in ("INTEGRITY_DURATION_TOLERANCE_PCT", "SCHEDULE_METADATA_MAINTENANCE"):
        assert variable in check.stdout.split()
    (tmp_path / "library").mkdir()
    scan = processes.run("scan", str(tmp_path / "library"), env=env)
    assert scan.returncode == 0, scan.stderr
    assert_fits(scan.stdout, 80)
    assert "unreadable" in scan.stdout and "files read" in words(scan.stdout)


def live_env(tmp_path, tracker_sim, **more):
    return cli_env(data_dir=tmp_path / "data", api_key=API_KEY, demo="false",
                   mam_id=tracker_sim.mam_id, mam_url=tracker_sim.base_url,
                   mam_min_interval_s=0.5, columns=200, **more)


def test_config_check_on_a_fresh_data_dir_checks_the_tracker_and_keeps_its_cookie(
        tmp_path, processes, tracker_sim):
    env = live_env(tmp_path, tracker_sim)
    check = processes.run("config", "check", env=env)
    lines = {line.split(":")[0].split()[-1]: line for line in check.stdout.splitlines()
             if ":" in line}
    assert check.returncode == 0, check.stdout + check.stderr  # nothing is wrong: a step to do
    assert lines["database"].split()[0] == "todo", check.stdout
    assert "schema: not migrated yet — run `mamcrawler db upgrade`" in lines["schema"]
    assert lines["tracker"].split()[0] == "ok" and "SimMouse" in lines["tracker"]
    data = tmp_path / "data"
    assert not (data / "mamcrawler.db").exists()  # looking created no database
    carried = data / "tracker-session"
    assert carried.read_text().strip() == tracker_sim.control.state()["mam_id"]
    assert stat.S_IMODE(carried.stat().st_mode) == 0o600

    # The tracker accepts only its newest cookie: the service goes on with the carried one.
    assert processes.run("db", "upgrade", env=env).returncode == 0
    ran = processes.run("jobs", "run", "account_check", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert not carried.exists()  # the database holds the newest cookie now


def test_a_tracker_without_an_events_endpoint_is_never_asked_for_one(
        tmp_path, processes, tracker_sim):
    tracker_sim.control.events(endpoint=False)  # like the real site: that path is a 404
    env = live_env(tmp_path, tracker_sim)
    assert processes.run("db", "upgrade", env=env).returncode == 0
    ran = processes.run("jobs", "run", "account_check", env=env)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert "simEvents" not in str(tracker_sim.control.state()["requests"])
    assert "does not understand" not in output and "please report" not in output
    assert os.path.exists(tmp_path / "data" / "mamcrawler.db")


@pytest.mark.parametrize("command, setting", [
    (["config", "check"], {"qb_path_map": "[/x]=/y"}),
    (["status"], {"schedule_backup": "[/bad]"}),
])
def test_a_bad_setting_that_looks_like_markup_is_reported_not_a_crash(tmp_path, processes,
                                                                      command, setting):
    result = processes.run(*command, env=demo_env(tmp_path, **setting), timeout=60)
    assert result.returncode == 2, result.stderr
    name, value = next(iter(setting.items()))
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    assert name.upper() in result.stderr and value in words(result.stderr), result.stderr


@pytest.mark.parametrize("command", [["follow", "list"], ["completion"], ["jobs", "list"]])
def test_an_unreachable_database_is_one_clear_message_for_every_command(tmp_path, processes,
                                                                        command):
    env = demo_env(tmp_path, mam_id="s" * 20,
                   database_url="postgresql+psycopg://a:b@127.0.0.1:1/c")
    result = processes.run(*command, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Fix:" in result.stderr, result.stderr
