"""Demo mode as a newcomer meets it (issue 5, part 7): `mamcrawler serve` with no tracker
configured starts a local swarm around the tracker simulator, and books arrive in the demo
library without anyone doing anything, among them the rest of a series `completion` found
(issue 11). Stopping the service leaves no process behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest

from mamcrawler.demo.world import INSTALL_HINT, REQUIRED_TOOLS
from tests.support.database import skip_or_fail

pytestmark = pytest.mark.slow
ARRIVAL_DEADLINE_S = 240.0


def processes_pointing_into(folder: Path) -> dict[int, str]:
    """Every process whose command line names something under `folder`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if str(folder) in args:
                found[int(entry.name)] = args
    return found


@pytest.fixture
def leftovers(tmp_path):
    """Teardown safety net (runs after the service is stopped): end any process still
    pointing into the test's folder. Tests assert there are none before this runs."""
    yield lambda: processes_pointing_into(tmp_path)
    for pid in processes_pointing_into(tmp_path):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def api(service, path: str, **params) -> dict:
    key = (service.workdir / "data" / "api_key").read_text().strip()
    answer = httpx.get(f"{service.base_url}{path}", params=params,
                       headers={"X-Api-Key": key}, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def health(service) -> dict:
    return httpx.get(f"{service.base_url}/health", timeout=10).json()["data"]


def wait_for(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout_s:g} s")


def test_books_arrive_in_the_demo_library_and_nothing_is_left_running(leftovers,
                                                                      service_factory):
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed ({INSTALL_HINT})")
    service = service_factory()  # a fresh folder, no .env, no MAM_ID
    started = time.monotonic()
    service.start()
    demo = service.workdir / "data" / "demo"
    recorded = json.loads((demo / "pids.json").read_text())["processes"]
    assert len(recorded) == 3 and all(recorded.values())
    assert set(recorded.values()) <= set(leftovers())

    def imported():
        done = api(service, "/api/downloads", state="imported")["items"]
        books = api(service, "/api/books")["items"]
        return (done, books) if done and books else None

    downloads, books = wait_for(imported, ARRIVAL_DEADLINE_S, "a demo book in the library")
    arrived_after_s = time.monotonic() - started
    library = demo / "library"
    for book in books:
        folder = Path(book["library_path"])
        assert folder.is_dir() and folder.is_relative_to(library), folder
        assert any(f.suffix in (".mp3", ".m4b") for f in folder.iterdir())
    assert all(d["integrity_state"] == "passed" for d in downloads)

    # The library started with book 1 of a series; completion found the books after it on
    # the tracker and they arrived through the wanted list like any other.
    def completed():
        found = api(service, "/api/wanted", source="series")["items"]
        return found if found and all(w["status"] == "done" for w in found) else None

    found = wait_for(completed, ARRIVAL_DEADLINE_S, "the books completion found")
    assert {(w["title"], w["position"], w["source"]) for w in found} == {
        ("The Bellwright's Tide", "2", "series:The Kessick Lanterns"),
        ("The Tinker's Eclipse", "3", "series:The Kessick Lanterns")}
    titles = {b["title"] for b in api(service, "/api/books")["items"]}
    assert {"The Lamplighter's Oath", "The Bellwright's Tide", "The Tinker's Eclipse"} <= titles
    log = service.log()
    assert "DEMO" in log and "SIMULATOR" in log and "not MyAnonamouse" in log

    stop_and_check_nothing_is_left(service, leftovers)
    print(f"first demo book imported {arrived_after_s:.0f} s after `serve` started")

    # A second start in the same folder keeps the library and says so.
    ports = json.loads((demo / "ports.json").read_text())
    service.start()
    wait_for(lambda: health(service)["demo_world"] == "ready", 120, "the demo world ready")
    # The welcome is logged just after the world is published ready.
    wait_for(lambda: "arrived in" in service.log() and "on an earlier start" in service.log(),
             30, "the welcome that says the books arrived on an earlier start")
    assert json.loads((demo / "ports.json").read_text()) == ports
    assert {b["id"] for b in api(service, "/api/books")["items"]} >= {b["id"] for b in books}
    stop_and_check_nothing_is_left(service, leftovers)


def stop_and_check_nothing_is_left(service, leftovers) -> None:
    service.stop()
    assert service.proc.returncode in (0, 128 + signal.SIGTERM), service.log()[-2000:]
    assert leftovers() == {}, "the demo left processes running"
    assert "DEMO: stopped the local swarm" in service.log()
    assert not (service.workdir / "data" / "demo" / "pids.json").exists()


def test_without_qbittorrent_the_demo_says_what_to_install(leftovers, service_factory,
                                                           tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("ffmpeg", "ffprobe", "opentracker"):
        if shutil.which(tool):
            (tools / tool).symlink_to(shutil.which(tool))
    service = service_factory(PATH=str(tools))
    service.start()
    health = httpx.get(f"{service.base_url}/health", timeout=10).json()["data"]
    assert health["status"] == "ok" and health["demo"] is True
    service.stop()

    log = service.log()
    assert "qbittorrent-nox" in log and INSTALL_HINT in log
    assert "tracker SIMULATOR only" in log
    assert not (service.workdir / "data" / "demo" / "pids.json").exists()
    assert leftovers() == {}
