"""download_watch against a real qBittorrent holding complete torrents of generated audio:
crash recovery, an unreachable Audiobookshelf, missing settings (R11, R12)."""

import os

import pytest
from sqlalchemy import select

from mamcrawler.jobs.runner import run_job
from mamcrawler.runtime import Runtime
from mamcrawler.services.download_watch import relpath_for
from mamcrawler.services.library_import import INCOMING_DIR, import_download
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, Download, MissingBook, WantedBook
from tests.support.audio import make_audio
from tests.support.qbittorrent import torrent_bytes, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
INFO = {"authors": ["Wren Calloway"], "narrators": ["Dax Ortiz"],
        "series": [{"name": "Harbor Lights", "position": "2"}], "format": "mp3",
        "bitrate_kbps": 32}


class SimulatedCrash(BaseException):
    """Stands for the process dying: not an Exception, so nothing cleans up after it."""


@pytest.fixture
def setup(make_settings, db_url, qbit_process, qbit_client, tmp_path, audio_tools):
    library = tmp_path / "library"
    library.mkdir()
    seed = tmp_path / "downloads"
    files = {}
    for n in (1, 2):
        path = make_audio(tmp_path / "gen" / f"{n:02d}.mp3", 3, "mp3", tone_hz=300 + 50 * n)
        files[f"{n:02d} - Part {n}.mp3"] = path.read_bytes()
    name = "Harbor Lights 2"
    for rel, data in files.items():
        (seed / name).mkdir(parents=True, exist_ok=True)
        (seed / name / rel).write_bytes(data)
    data, info_hash = torrent_bytes(name, files)
    qbit_client.add_torrent(data, save_path=str(seed))
    wait_until(lambda: any(t.hash == info_hash and t.is_complete for t in qbit_client.torrents()),
               timeout_s=30, what="the torrent to be complete")

    def runtime(**overrides):
        values = {"database_url": db_url, "qb_host": "127.0.0.1",
                  "qb_port": qbit_process.webui_port, "library_dir": library, **overrides}
        settings = make_settings(**values)
        return Runtime.build(settings, upgrade_db=False)

    rt = runtime()
    with session_scope(rt.sessions) as s:
        wanted = WantedBook(title="The Night Ferry", author="Wren Calloway", dedupe_key="k",
                            status="downloading")
        s.add(wanted)
        s.flush()
        s.add(Download(wanted_id=wanted.id, title="The Night Ferry", author="Wren Calloway",
                       info_hash=info_hash, state="downloading", release_info=INFO,
                       edition="free"))
    yield rt, library, seed / name, runtime
    rt.close()


def the_download(rt) -> Download:
    with session_scope(rt.sessions) as s:
        return s.scalars(select(Download)).one()


def watch(rt):
    result = run_job(rt.scheduler.ctx, "download_watch", trigger="manual")
    assert result.outcome == "success", result.error or result.summary
    return result.summary


def test_completed_download_is_filed_and_recorded(setup):
    rt, library, content, _ = setup
    summary = watch(rt)
    assert "1 imported" in summary
    download = the_download(rt)
    final = library / relpath_for(download)
    assert final.name == "Book 2 - The Night Ferry {Dax Ortiz}"
    assert os.stat(final / "01 - Part 1.mp3").st_ino == os.stat(content / "01 - Part 1.mp3").st_ino
    with session_scope(rt.sessions) as s:
        book = s.get(Book, download.book_id)
        assert book.title == "The Night Ferry" and book.duration_seconds == pytest.approx(6, abs=1)
        assert s.get(WantedBook, download.wanted_id).status == "done"
    assert "0 imported" in watch(rt)  # nothing is filed twice


def test_a_gap_completion_found_is_filled_when_its_book_arrives(setup):
    """The series page must not show a book as missing once it is in the library, also
    before the next completion run."""
    rt, *_ = setup
    with session_scope(rt.sessions) as s:
        wanted_id = s.scalars(select(WantedBook.id)).one()
        s.add_all([MissingBook(gap_key="series:harbor lights:2", title="The Night Ferry",
                               found_in="series", found_via="tracker", wanted_id=wanted_id),
                   MissingBook(gap_key="series:harbor lights:3", title="Low Tide",
                               found_in="series", found_via="tracker")])
    assert "1 imported" in watch(rt)
    with session_scope(rt.sessions) as s:
        status = dict(s.execute(select(MissingBook.title, MissingBook.status)).all())
    assert status == {"The Night Ferry": "filled", "Low Tide": "missing"}


def test_crash_in_the_middle_of_an_import_is_undone_and_redone(setup):
    rt, library, content, _ = setup
    relpath = relpath_for(the_download(rt))
    linked = []

    def dies_after_one_file(src, dst):
        if linked:
            raise SimulatedCrash()
        linked.append(dst)
        os.link(src, dst)

    with pytest.raises(SimulatedCrash):
        import_download(content, library, relpath, link=dies_after_one_file)
    assert not (library / relpath).exists()  # nothing half-filed where ABS looks
    with session_scope(rt.sessions) as s:
        s.scalars(select(Download)).one().state = "importing"
    summary = watch(rt)
    assert "1 imported" in summary
    assert sorted(p.name for p in (library / relpath).iterdir()) == [
        "01 - Part 1.mp3", "02 - Part 2.mp3"]
    assert list((library / INCOMING_DIR).iterdir()) == []


def test_crash_after_filing_before_recording_is_finished(setup):
    rt, library, content, _ = setup
    relpath = relpath_for(the_download(rt))
    import_download(content, library, relpath)  # the files made it; the record did not
    with session_scope(rt.sessions) as s:
        s.scalars(select(Download)).one().state = "importing"
    assert "1 imported" in watch(rt)
    download = the_download(rt)
    assert download.state == "imported"
    with session_scope(rt.sessions) as s:
        assert "filed by an interrupted earlier run" in s.get(WantedBook, download.wanted_id).note


def test_unreachable_audiobookshelf_does_not_stop_the_import(setup):
    _, library, _, runtime = setup
    rt = runtime(abs_url="http://127.0.0.1:9", abs_token="t0ken", abs_library_id="lib1")
    try:
        summary = watch(rt)
    finally:
        rt.close()
    assert "1 imported" in summary and "Audiobookshelf scan not started" in summary


def test_without_a_library_folder_it_is_not_configured(setup):
    _, _, _, runtime = setup
    rt = runtime(library_dir=None)
    try:
        result = run_job(rt.scheduler.ctx, "download_watch")
    finally:
        rt.close()
    assert result.outcome == "not_configured" and "LIBRARY_DIR" in result.summary


def test_a_download_that_cannot_be_filed_fails_the_run_and_is_counted(setup, monkeypatch):
    from mamcrawler.services import download_watch
    from mamcrawler.services.library_import import LibraryImportError

    rt, _, _, _ = setup

    def disk_full(*args, **kwargs):
        raise LibraryImportError("no space left on the library's disk")

    monkeypatch.setattr(download_watch, "import_download", disk_full)
    result = run_job(rt.scheduler.ctx, "download_watch", trigger="manual")
    assert (result.outcome, result.items_done, result.items_failed) == ("failed", 0, 1)
    assert result.error == ("all 1 completed downloads failed: The Night Ferry: not filed: "
                            "no space left on the library's disk")
    assert "0 imported, 1 failed" in result.summary
