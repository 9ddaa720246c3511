"""The demo world's parts that need no swarm: its settings stay on loopback, its catalogue
gives the release choice something to explain, a crashed run's leftovers are ended, and
without the tools it falls back to the tracker simulator and says what to install."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mamcrawler.config import Settings, parse_schedule
from mamcrawler.demo import catalogue, state, world
from mamcrawler.demo.processes import QbitProcess, wait_until
from mamcrawler.domain.naming import library_relpath


def test_demo_settings_reach_nothing_beyond_this_machine(tmp_path):
    update = world.demo_settings(tmp_path, QbitProcess(tmp_path / "client"))
    assert update["qb_host"] == "127.0.0.1"
    assert update["abs_url"] is None and update["prowlarr_url"] is None
    assert update["library_dir"] == tmp_path / "library" and (tmp_path / "library").is_dir()
    for job in ("acquisition", "torrent_watch", "download_watch"):
        assert parse_schedule(update[f"schedule_{job}"]) == ("every", 60)
    settings = Settings(_env_file=None, data_dir=tmp_path).model_copy(update=update)
    assert settings.is_demo and settings.qb_password.get_secret_value()


@pytest.mark.parametrize("setting", [{"qb_host": "192.168.1.5"}, {"qb_host": "nas.lan"},
                                     {"abs_url": "http://10.0.0.2:13378"}])
def test_a_non_loopback_demo_setting_is_refused(setting):
    with pytest.raises(world.DemoUnavailable, match="not a loopback address"):
        world.assert_loopback(setting)


def test_the_catalogue_gives_the_choice_something_to_explain():
    books = catalogue.CATALOGUE
    both = [b for b in books if {e.free for e in b.editions} == {True, False}]
    assert both and max(e.seeders for e in both[0].editions if not e.free) > max(
        e.seeders for e in both[0].editions if e.free)  # free must beat better-seeded paid
    assert any(e.vip for b in books for e in b.editions)
    assert any(all(not (e.free or e.vip) for e in b.editions) for b in books)
    assert any(not b.wanted for b in books) and sum(b.series is not None for b in books) >= 2


def test_the_library_starts_with_part_of_a_series_completion_has_the_rest_to_find(tmp_path):
    [held] = [b for b in catalogue.CATALOGUE if b.in_library]
    rest = [b for b in catalogue.CATALOGUE if b.series == held.series and b is not held]
    assert held.series and rest and not any(b.wanted or b.in_library for b in rest)
    assert catalogue.spare().series is None and not catalogue.spare().wanted
    source = tmp_path / "catalogue" / held.folder_name(held.editions[0])
    source.mkdir(parents=True)
    (source / "book.m4b").write_bytes(b"first")
    relpath = library_relpath(held.author, held.series, held.position, held.title,
                              held.narrator)
    folder = catalogue.place_in_library(held, tmp_path / "catalogue", tmp_path / "library",
                                        relpath)
    assert folder == (tmp_path / "library" / "Marisol Quayle" / "The Kessick Lanterns"
                      / "Book 1 - The Lamplighter's Oath {Wendell Ashdown}")
    (source / "book.m4b").write_bytes(b"second")
    assert catalogue.place_in_library(held, tmp_path / "catalogue", tmp_path / "library",
                                      relpath) == folder
    assert (folder / "book.m4b").read_bytes() == b"first"  # placed once, kept after


def _sleeper(*args: str) -> subprocess.Popen:
    code = "import time; time.sleep(120)"
    return subprocess.Popen([sys.executable, "-c", code, *args], start_new_session=True)


def test_a_crashed_runs_leftovers_are_ended_and_nothing_else(tmp_path):
    root = tmp_path / "demo"
    root.mkdir()
    ours, stranger = _sleeper(str(root / "seeder")), _sleeper("unrelated")
    try:
        (root / state.PIDS_FILE).write_text(json.dumps({
            "service": 999_999_999, "processes": {"seeder": ours.pid, "other": stranger.pid}}))
        state.end_leftovers(root)
        assert wait_until(lambda: ours.poll() is not None, timeout_s=10, what="leftover ended")
        assert stranger.poll() is None  # its command line does not point into the demo
        assert not (root / state.PIDS_FILE).exists()
    finally:
        for proc in (ours, stranger):
            proc.kill()
            proc.wait()


def test_a_live_demo_in_the_same_folder_is_not_disturbed(tmp_path):
    root = tmp_path / "demo"
    root.mkdir()
    service, part = _sleeper("mamcrawler", "serve"), _sleeper(str(root / "client"))
    try:
        (root / state.PIDS_FILE).write_text(json.dumps(
            {"service": service.pid, "processes": {"client": part.pid}}))
        with pytest.raises(state.DemoAlreadyRunning, match="another demo"):
            state.end_leftovers(root)
        assert part.poll() is None
    finally:
        for proc in (service, part):
            proc.kill()
            proc.wait()


def test_the_client_library_and_audio_persist_and_ports_are_reused(tmp_path):
    root = tmp_path / "demo"
    for name in ("library/A/book.mp3", "client/profile/x", "catalogue/Book/01.mp3",
                 "seeder/profile/x", "opentracker/whitelist"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    state.rebuild_internal_parts(root)
    assert not (root / "seeder").exists() and not (root / "opentracker").exists()
    assert all((root / name).exists() for name in ("library/A/book.mp3", "client/profile/x",
                                                   "catalogue/Book/01.mp3"))
    first = state.ports(root)
    assert set(first) == set(state.PORT_NAMES) and len(set(first.values())) == 5
    assert state.ports(root) == first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first["client_webui"]))
        taken.listen()
        again = state.ports(root)
    assert again["client_webui"] != first["client_webui"]
    assert again["opentracker"] == first["opentracker"]


def test_without_the_tools_the_demo_is_tracker_only_and_names_them(tmp_path, monkeypatch,
                                                                   caplog):
    monkeypatch.setattr(world, "missing_tools", lambda: ["qbittorrent-nox"])
    caplog.set_level(logging.WARNING, logger="mamcrawler.demo")
    demo = world.DemoWorld.start(Settings(_env_file=None, data_dir=tmp_path))
    try:
        assert not demo.full and demo.settings_update == {}
        assert demo.tracker.demo and demo.tracker.base_url.startswith("http://127.0.0.1:")
    finally:
        demo.stop()
    assert "qbittorrent-nox" in caplog.text and world.INSTALL_HINT in caplog.text
    assert not Path(tmp_path / "demo").exists()
