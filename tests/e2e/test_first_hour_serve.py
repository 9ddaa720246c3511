"""The first hour of a new user (issue 15) with a running service: `serve` answers at once
while the demo world is built, other commands use its world instead of starting their own,
`make run` stops cleanly, and a download shows its release. Timings: benchmarks/bench_cli.py."""

import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import httpx
import pytest

from mamcrawler.demo.world import missing_tools
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import Download
from tests.e2e.test_demo import processes_pointing_into
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def health(port: int) -> dict | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()["data"]
    except httpx.HTTPError:
        return None


def test_serve_answers_at_once_and_commands_use_its_demo_world(tmp_path, processes):
    port = free_port()
    env = cli_env(data_dir=tmp_path / "data", port=port, columns=80)
    service = processes.start("serve", env=env)
    first = wait_for(lambda: health(port), 60, "the first answer from /health")
    full = not missing_tools()
    # The world takes seconds to build (processes, generated audio, seeding); the API
    # answers before it. Without the tools it is the simulator alone, ready at once.
    assert first["demo_world"] == ("starting" if full else "simulator only"), first
    assert first["status"] == "ok" and first["scheduler"] in ("waiting", "running")
    record = json.loads((tmp_path / "data" / "serve.json").read_text())
    assert record["pid"] == service.pid
    assert oct((tmp_path / "data" / "serve.json").stat().st_mode & 0o777) == "0o600"

    status = processes.run("status", env=env)  # while the world starts: database only
    assert status.returncode == 0 and "SIMULATOR" not in status.stdout + status.stderr
    assert f"running at http://127.0.0.1:{port} (pid {service.pid})" in \
        " ".join(status.stdout.split())

    wait_for(lambda: (health(port) or {}).get("demo_world") in ("ready", "simulator only"),
             120, "the demo world")
    assert health(port)["scheduler"] == "running"
    # The service catches up a never-run account_check as it starts: while that one holds
    # the job's lock, a command run is skipped (exit 4), as it must be. Run it after.
    ran = None

    def ran_it() -> bool:
        nonlocal ran
        ran = processes.run("jobs", "run", "account_check", env=env)
        return ran.returncode != 4

    wait_for(ran_it, 60, "account_check free of the service's catch-up run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SIMULATOR serving" not in ran.stdout + ran.stderr  # the service's, not its own
    if full:  # the demo world's quicker schedules, as the service runs them
        listed = processes.run("jobs", "list", env=env).stdout
        assert re.search(r"acquisition +every 1m", listed), listed

    assert service.stop() == 0, service.output()[-2000:]
    assert "DEMO: stopped" in service.output() or not full
    assert not (tmp_path / "data" / "serve.json").exists()
    assert processes_pointing_into(tmp_path) == {}


def test_sigterm_while_the_demo_world_starts_stops_everything_with_status_0(
        tmp_path, processes):
    if missing_tools():
        pytest.skip(f"the full demo needs {', '.join(missing_tools())}")
    port = free_port()
    service = processes.start("serve", env=cli_env(data_dir=tmp_path / "data", port=port))
    assert wait_for(lambda: health(port), 60, "/health")["demo_world"] == "starting"
    assert service.stop() == 0, service.output()[-2000:]
    assert processes_pointing_into(tmp_path) == {}
    assert not (tmp_path / "data" / "demo" / "pids.json").exists()


@pytest.fixture
def installed_venv(tmp_path) -> Path:
    """What `make run` expects in VENV, already installed: a `mamcrawler` running this
    checkout with the test's Python."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    shim = venv / "bin" / "mamcrawler"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mamcrawler.cli "$@"\n')
    shim.chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: no install
    return venv


@pytest.mark.parametrize("stop", ["SIGTERM to the service", "Ctrl-C"])
def test_make_run_ends_cleanly_when_the_service_is_stopped(tmp_path, installed_venv, stop):
    import subprocess

    port = free_port()
    env = cli_env(data_dir=tmp_path / "data", port=port, demo="false", mam_id="s" * 20,
                  mam_url="http://127.0.0.1:9", api_key=API_KEY)
    log = tmp_path / "make.log"
    with log.open("w") as out:
        make = subprocess.Popen(["make", "-s", "-C", str(REPO), "run", f"VENV={installed_venv}"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(lambda: health(port), 60, "/health")
        children = Path(f"/proc/{make.pid}/task/{make.pid}/children").read_text().split()
        service = int(children[0])  # exec: the service itself, no shell between
        assert b"serve" in Path(f"/proc/{service}/cmdline").read_bytes()
        if stop == "Ctrl-C":
            os.killpg(make.pid, signal.SIGINT)  # what the terminal sends the whole group
        else:
            os.kill(service, signal.SIGTERM)
        status = make.wait(30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(10)
    output = log.read_text()
    assert "Error" not in output and "make: ***" not in output, output
    assert "Finished server process" in output
    # On Ctrl-C make re-raises the signal on itself when it sees it before the service has
    # exited, and exits 0 when the service's clean exit comes first; either way, silently.
    assert status in ((-signal.SIGINT, 0) if stop == "Ctrl-C" else (0,)), output


def test_a_download_shows_its_release_facts(tmp_path, processes):
    port = free_port()
    env = cli_env(data_dir=tmp_path / "data", port=port, demo="false", mam_id="s" * 20,
                  mam_url="http://127.0.0.1:9", api_key=API_KEY)
    assert processes.run("db", "upgrade", env=env).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'mamcrawler.db'}")
    try:
        with session_scope(make_session_factory(engine)) as s:
            s.add(Download(title="The Lamplighter's Oath", release_id="1001", state="downloading",
                           edition="free", size_bytes=734_003_200, release_info={
                               "authors": ["Ada Brightwater"], "format": "m4b",
                               "bitrate_kbps": 64, "category": "Audiobooks - Fantasy",
                               "language": "English",
                               "cost": {"source": "mam", "free": False,
                                        "personal_freeleech": False, "vip_free": True,
                                        "reason": "VIP-free for a VIP account"}}))
            s.add(Download(title="Clockwork Orchard", state="downloading", edition="paid",
                           size_bytes=1000))
    finally:
        engine.dispose()
    service = processes.start("serve", env=env)
    wait_for(lambda: health(port), 60, "/health")
    headers = {"X-Api-Key": API_KEY}
    one = httpx.get(f"http://127.0.0.1:{port}/api/downloads/1", headers=headers).json()["data"]
    assert one["release"] == {"size_bytes": 734_003_200, "format": "m4b", "bitrate_kbps": 64,
                              "category": "Audiobooks - Fantasy", "language": "English",
                              "freeleech": "vip", "cost_reason": "VIP-free for a VIP account"}
    listed = httpx.get(f"http://127.0.0.1:{port}/api/downloads", headers=headers).json()
    paid = next(d for d in listed["data"]["items"] if d["id"] == 2)
    assert paid["release"]["freeleech"] == "none" and paid["release"]["format"] is None
    assert service.stop() == 0
