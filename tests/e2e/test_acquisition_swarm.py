"""Acquisition end to end with real parts on loopback (issue 5): tracker simulator →
opentracker (whitelist) → a seeding qbittorrent-nox holding generated audiobooks → the
service's qbittorrent-nox → integrity check → hard link into the library → Audiobookshelf
contract fake → the record and its reasons at /api/downloads/{id}."""

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamcrawler.api.app import create_app
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, Download, FailedAttempt
from tests.support.audio import corrupt_tail, make_book
from tests.support.database import API_KEY

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
AUTHOR, NARRATOR, SERIES = "Tova Renn", "Ilse Moreau", "Ember Cycle"


def wait_for(predicate, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def world(swarm, tracker_sim_factory, make_settings, db_url, abs_fake, tmp_path, audio_tools):
    """Everything wired together; `publish` puts a generated book on the tracker."""
    sim = tracker_sim_factory(announce_url=swarm.tracker.announce_url)
    seeder = swarm.seeder.client()

    def publish(title, *, free, seeders, fmt="mp3", corrupt=False):
        folder = tmp_path / "seed" / f"{title} {fmt} {'free' if free else 'paid'}"
        files = make_book(folder, chapters=2, seconds_each=4, fmt=fmt)
        if corrupt:
            corrupt_tail(files[-1])
        tid = sim.simulator.add_torrent_from_directory(
            folder, title=title, authors=(AUTHOR,), narrators=(NARRATOR,),
            series=((SERIES, "1"),), filetype=fmt, free=free, seeders=seeders)
        data, info_hash = sim.simulator.torrent(tid)
        swarm.tracker.allow([info_hash])
        seeder.add_torrent(data, save_path=str(folder.parent))
        wait_for(lambda: any(t.hash == info_hash and t.state is TorrentState.SEEDING
                             for t in seeder.torrents()), 30, f"seeder holding {title}")
        seeder.reannounce([info_hash])  # be known to the tracker before anyone asks
        return str(tid), info_hash

    settings = make_settings(
        database_url=db_url, mam_id=sim.mam_id, mam_url=sim.base_url, qb_host="127.0.0.1",
        qb_port=swarm.leecher.webui_port, library_dir=abs_fake.folder,
        download_dir=tmp_path / "downloads", abs_url=abs_fake.base_url, abs_token=abs_fake.token,
        paid_after_days=0)  # its paid book is taken at once, as in the demo
    rt = Runtime.build(settings, upgrade_db=False)
    rt.scheduler.ctx.tracker = TrackerEndpoint(sim.base_url, sim.mam_id, 0.0)
    yield rt, publish, swarm.leecher.client()
    rt.close()


def job(rt, name):
    result = run_job(rt.scheduler.ctx, name, trigger="manual")
    assert result.outcome == "success", result.error or result.summary
    return result


def want(rt, title):
    with session_scope(rt.sessions) as s:
        add_wanted(s, {"title": title, "author": AUTHOR})


def download_in(rt, state, release_id):
    """Run download_watch until the download of `release_id` reaches `state`."""
    def reached():
        # As in service: the watch recovers a stalled download (reannounce first).
        job(rt, "torrent_watch")
        job(rt, "download_watch")
        with session_scope(rt.sessions) as s:
            d = s.scalar(select(Download).where(Download.release_id == release_id))
            return d if d is not None and d.state == state else None
    return wait_for(reached, what=f"release {release_id} to be {state}")


def test_free_copy_arrives_verified_and_hard_linked(world, abs_fake):
    rt, publish, leecher = world
    free_id, free_hash = publish("The Ember Archive", free=True, seeders=2)
    paid_id, _ = publish("The Ember Archive", free=False, seeders=80, fmt="m4b")
    want(rt, "The Ember Archive")

    grabbed = job(rt, "acquisition")
    assert "1 grabbed" in grabbed.summary
    download = download_in(rt, "imported", free_id)

    title_folder = f"Book 1 - The Ember Archive {{{NARRATOR}}}"
    book_dir = Path(abs_fake.folder) / AUTHOR / SERIES / title_folder
    filed = sorted(p.name for p in book_dir.iterdir())
    assert filed == ["01 - Chapter 1.mp3", "02 - Chapter 2.mp3"]
    torrent = next(t for t in leecher.torrents() if t.hash == free_hash)
    source = Path(torrent.content_path) / "01 - Chapter 1.mp3"
    assert os.stat(source).st_ino == os.stat(book_dir / "01 - Chapter 1.mp3").st_ino
    assert torrent.state is TorrentState.SEEDING  # the torrent keeps seeding, untouched
    with session_scope(rt.sessions) as s:
        book = s.get(Book, download.book_id)
        assert book.library_path == str(book_dir) and book.format == "mp3"
        assert [link.narrator.name for link in book.narrators] == [NARRATOR]
        assert [(link.series.name, link.position) for link in book.series] == [(SERIES, "1")]
        abs_item = book.abs_item_id
    assert abs_fake.scans, "Audiobookshelf was not asked to scan"
    assert [item["id"] for item in abs_fake.items()] == [abs_item]  # seen, and pushed to

    with TestClient(create_app(rt, start_scheduler=False), headers={"X-Api-Key": API_KEY}) as api:
        shown = api.get(f"/api/downloads/{download.id}").json()["data"]
    assert shown["edition"] == "free" and shown["state"] == "imported"
    assert shown["integrity_state"] == "passed" and "free" in shown["reason"]
    by_id = {c["release_id"]: c for c in shown["candidates"]}
    assert by_id[free_id]["chosen"] and not by_id[paid_id]["chosen"]
    assert any("free" in r for r in by_id[free_id]["reasons"])


def test_corrupt_copy_fails_integrity_and_the_next_best_is_taken(world, abs_fake):
    rt, publish, leecher = world
    bad_id, bad_hash = publish("The Salt Ledger", free=True, seeders=5, corrupt=True)
    good_id, _ = publish("The Salt Ledger", free=False, seeders=20, fmt="m4b")
    want(rt, "The Salt Ledger")

    job(rt, "acquisition")
    failed = download_in(rt, "failed", bad_id)
    assert failed.integrity_state == "failed" and "integrity failed" in failed.integrity_detail
    with session_scope(rt.sessions) as s:
        tally = s.scalars(select(FailedAttempt)).all()
        assert [(f.stage, f.release_id) for f in tally] == [("integrity", bad_id)]
    assert not (Path(abs_fake.folder) / AUTHOR).exists()  # nothing half-filed
    assert any(t.hash == bad_hash for t in leecher.torrents())  # still seeding its duty

    retry = job(rt, "acquisition")
    assert "1 grabbed" in retry.summary
    good = download_in(rt, "imported", good_id)
    assert good.edition == "paid" and good.integrity_state == "passed"
    assert (Path(abs_fake.folder) / AUTHOR / SERIES).is_dir()
