"""qBittorrent sees the downloads under another path than the service (issue 16): a real
qbittorrent-nox saves into a folder reached through a symlink that the service does not
have, so the service finds the files only through QB_PATH_MAP."""

import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamcrawler.api.app import create_app
from mamcrawler.domain.notices import NoticeKind
from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services.download_watch import relpath_for
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, WantedBook
from tests.support.audio import make_audio
from tests.support.database import API_KEY
from tests.support.qbittorrent import torrent_bytes, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
NAME = "Harbor Lights 2"


@pytest.fixture
def world(make_settings, db_url, qbit_process, qbit_client, tmp_path, audio_tools,
          fake_notifier):
    host = tmp_path / "host"  # the service's view: only this path
    (host / "library").mkdir(parents=True)
    container = tmp_path / "container"  # qBittorrent's view of the same folder
    container.symlink_to(host, target_is_directory=True)
    files = {}
    for n in (1, 2):
        path = make_audio(tmp_path / "gen" / f"{n:02d}.mp3", 3, "mp3", tone_hz=300 + 50 * n)
        files[f"{n:02d} - Part {n}.mp3"] = path.read_bytes()
    for rel, data in files.items():
        (host / "downloads" / NAME).mkdir(parents=True, exist_ok=True)
        (host / "downloads" / NAME / rel).write_bytes(data)
    data, info_hash = torrent_bytes(NAME, files)
    qbit_client.add_torrent(data, save_path=str(container / "downloads"))
    wait_until(lambda: any(t.hash == info_hash and t.is_complete for t in qbit_client.torrents()),
               timeout_s=30, what="the torrent to be complete")
    torrent = next(t for t in qbit_client.torrents() if t.hash == info_hash)
    assert torrent.content_path == str(container / "downloads" / NAME)
    container.unlink()  # from here on the files are reachable only under host/
    runtimes = []

    def runtime(**overrides):
        settings = make_settings(database_url=db_url, qb_host="127.0.0.1",
                                 qb_port=qbit_process.webui_port, library_dir=host / "library",
                                 **overrides)
        rt = Runtime.build(settings, upgrade_db=False)
        rt.scheduler.ctx.notifier = fake_notifier
        runtimes.append(rt)
        return rt

    rt = runtime()
    with session_scope(rt.sessions) as s:
        wanted = WantedBook(title="The Night Ferry", author="Wren Calloway", dedupe_key="k",
                            status="downloading")
        s.add(wanted)
        s.flush()
        s.add(Download(wanted_id=wanted.id, title="The Night Ferry", author="Wren Calloway",
                       info_hash=info_hash, state="downloading", edition="free",
                       release_info={"authors": ["Wren Calloway"], "format": "mp3"}))
    yield runtime, host, container
    for rt in runtimes:
        rt.close()


def watch(rt) -> str:
    result = run_job(rt.scheduler.ctx, "download_watch", trigger="manual")
    assert result.outcome == "success", result.error or result.summary
    return result.summary


def the_download(rt) -> Download:
    with session_scope(rt.sessions) as s:
        return s.scalars(select(Download)).one()


def test_without_the_mapping_it_waits_with_the_reason_and_is_told_once(world, fake_notifier):
    runtime, host, container = world
    rt = runtime()
    summary = watch(rt)
    assert "0 imported, 0 failed" in summary and "1 waiting for their files" in summary
    hint = f"set QB_PATH_MAP={container}/downloads=<the folder on this machine>"
    assert hint in summary
    watch(rt)  # still missing: no second notice, not failed, never re-grabbed
    download = the_download(rt)
    assert download.state == "downloading" and download.integrity_state != "failed"
    assert [n.kind for n in fake_notifier.notices] == [NoticeKind.PATH_MISSING]
    assert hint in fake_notifier.notices[0].body
    with session_scope(rt.sessions) as s:
        assert s.get(WantedBook, download.wanted_id).status == "downloading"
    with TestClient(create_app(rt, start_scheduler=False),
                    headers={"X-Api-Key": API_KEY}) as api:
        shown = api.get(f"/api/downloads/{download.id}").json()["data"]
    assert shown["state"] == "downloading"
    assert shown["error"].startswith("complete, waiting for its files: qBittorrent has the "
                                     f"files at {container}/downloads/{NAME}, which does not "
                                     "exist here")


def test_with_the_mapping_it_is_imported_by_hard_link(world):
    runtime, host, container = world
    assert "1 waiting for their files" in watch(runtime())
    rt = runtime(qb_path_map=f"{container}/downloads={host}/downloads")
    summary = watch(rt)
    assert "1 imported" in summary and "2 files hard-linked" in summary
    download = the_download(rt)
    assert download.state == "imported" and download.error is None
    final = host / "library" / relpath_for(download)
    source = host / "downloads" / NAME / "01 - Part 1.mp3"
    assert os.stat(final / "01 - Part 1.mp3").st_ino == os.stat(source).st_ino


def test_a_wrong_mapping_says_where_it_looked(world):
    runtime, host, container = world
    rt = runtime(qb_path_map=f"{container}/downloads={host}/elsewhere")
    summary = watch(rt)
    assert (f"which is {host}/elsewhere/{NAME} here through QB_PATH_MAP, and that does not "
            "exist; fix QB_PATH_MAP") in summary


def test_a_grab_is_saved_where_qbittorrent_sees_download_dir(
        make_settings, db_url, tracker_sim, qbit_process, qbit_client, tmp_path):
    from mamcrawler.services.tracker import TrackerEndpoint
    from mamcrawler.services.wanted import add_wanted

    host, container = tmp_path / "host", tmp_path / "container"
    (host / "downloads").mkdir(parents=True)
    settings = make_settings(database_url=db_url, mam_id=tracker_sim.mam_id,
                             mam_url=tracker_sim.base_url, qb_host="127.0.0.1",
                             qb_port=qbit_process.webui_port, download_dir=host / "downloads",
                             qb_path_map=f"{container}={host}")
    rt = Runtime.build(settings, upgrade_db=False)
    try:
        rt.scheduler.ctx.tracker = TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0)
        free = tracker_sim.control.post("catalogue", title="The Tidewater Clock",
                                        authors=["Owen Hale"], filetype="m4b", free=True,
                                        vip=False, seeders=2)
        with session_scope(rt.sessions) as s:
            add_wanted(s, {"title": "The Tidewater Clock", "author": "Owen Hale"})
        result = run_job(rt.scheduler.ctx, "acquisition", trigger="manual")
        assert "1 grabbed" in result.summary, result.error or result.summary
    finally:
        rt.close()
    [torrent] = [t for t in qbit_client.torrents() if t.hash == free["info_hash"]]
    assert torrent.save_path.rstrip("/") == str(container / "downloads")
