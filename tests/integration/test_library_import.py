"""Filing into the library (R12, R14): hard links, copy fallback, crash safety, replacement."""

import errno
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from mamcrawler.domain.naming import library_relpath
from mamcrawler.services.library_import import (
    INCOMING_DIR,
    REPLACED_DIR,
    AlreadyInLibrary,
    LibraryImportError,
    NothingToImport,
    import_download,
    recover_incomplete,
)

RELPATH = library_relpath("Brandon Sanderson", "Mistborn", "1", "The Final Empire",
                          ["Michael Kramer"])


class SimulatedCrash(BaseException):
    """Stands in for the process dying: not an Exception, so no cleanup code runs."""


@pytest.fixture
def download(tmp_path) -> Path:
    """A torrent's folder: 3 chapters in a subfolder, a cover, and junk to leave out."""
    root = tmp_path / "downloads" / "Mistborn 1 [m4b]"
    for n in range(1, 4):
        (root / "CD1").mkdir(parents=True, exist_ok=True)
        (root / "CD1" / f"{n:02d}.mp3").write_bytes(bytes([n]) * 5000)
    (root / "cover.jpg").write_bytes(b"\xff\xd8jpeg")
    (root / "book.nfo").write_text("nfo")
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "Thumbs.db").write_bytes(b"junk")
    (root / "04.mp3.!qB").write_bytes(b"partial")
    return root


@pytest.fixture
def library(tmp_path) -> Path:
    path = tmp_path / "library"
    path.mkdir()
    return path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's content, inode and mtime: equal snapshots = untouched."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_ino,
                                               p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def book_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


EXPECTED = ["CD1/01.mp3", "CD1/02.mp3", "CD1/03.mp3", "book.nfo", "cover.jpg"]


def test_hard_links_on_the_same_file_system(download, library):
    before = snapshot(download)
    result = import_download(download, library, RELPATH)
    final = library / RELPATH
    assert result.final_dir == final
    assert final.is_dir() and book_files(final) == EXPECTED
    assert sorted(result.linked) == EXPECTED and result.copied == ()
    for rel in EXPECTED:
        assert (final / rel).stat().st_ino == (download / rel).stat().st_ino
    assert snapshot(download) == before  # the torrent's files: same bytes, inodes, times
    assert not any((library / INCOMING_DIR).iterdir())
    assert result.replaced_dir is None


def test_copies_when_a_hard_link_is_impossible(download, library):
    calls = []

    def cross_device(src, dst):
        calls.append(src)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    before = snapshot(download)
    result = import_download(download, library, RELPATH, link=cross_device)
    final = library / RELPATH
    assert sorted(result.copied) == EXPECTED and result.linked == ()
    assert len(calls) == 1  # after EXDEV every other file is across too: not tried again
    for rel in EXPECTED:
        assert (final / rel).read_bytes() == (download / rel).read_bytes()
        assert (final / rel).stat().st_ino != (download / rel).stat().st_ino
    assert snapshot(download) == before


def test_links_what_it_can_and_copies_the_rest(download, library):
    def picky(src, dst):
        if src.name == "02.mp3":
            raise OSError(errno.EPERM, "Operation not permitted")  # protected_hardlinks
        os.link(src, dst)

    result = import_download(download, library, RELPATH, link=picky)
    assert result.copied == ("CD1/02.mp3",)
    assert len(result.linked) == 4


def test_other_link_errors_are_not_hidden(download, library):
    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(LibraryImportError, match="No space left"):
        import_download(download, library, RELPATH, link=full)
    assert not (library / RELPATH).exists()
    assert not any((library / INCOMING_DIR).iterdir())  # an error cleans up at once


def test_single_file_download(tmp_path, library):
    source = tmp_path / "The Final Empire.m4b"
    source.write_bytes(b"m4b" * 2000)
    result = import_download(source, library, RELPATH)
    assert book_files(result.final_dir) == ["The Final Empire.m4b"]


def test_custom_filter(download, library):
    result = import_download(download, library, RELPATH,
                             book_files_filter=lambda rel: rel.suffix == ".mp3")
    assert result.files == ("CD1/01.mp3", "CD1/02.mp3", "CD1/03.mp3")


def test_nothing_to_import(tmp_path, library):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.exe").write_bytes(b"MZ")
    with pytest.raises(NothingToImport, match="no audio or book files"):
        import_download(empty, library, RELPATH)
    assert not (library / RELPATH).exists()


def test_existing_folder_is_refused_with_the_way_out(download, library):
    import_download(download, library, RELPATH)
    with pytest.raises(AlreadyInLibrary, match="replace=True") as caught:
        import_download(download, library, RELPATH)
    assert caught.value.path == library / RELPATH
    assert not any((library / INCOMING_DIR).iterdir())


def test_replace_puts_the_new_edition_in_and_keeps_the_old_aside(tmp_path, download, library):
    old_source = tmp_path / "old-edition"
    old_source.mkdir()
    (old_source / "book.mp3").write_bytes(b"old" * 3000)
    import_download(old_source, library, RELPATH)

    result = import_download(download, library, RELPATH, replace=True)
    final = library / RELPATH
    assert book_files(final) == EXPECTED
    assert result.replaced_dir is not None
    assert result.replaced_dir.relative_to(library).parts[0] == REPLACED_DIR
    assert result.replaced_dir.relative_to(library).parts[-3:] == RELPATH.parts
    assert book_files(result.replaced_dir) == ["book.mp3"]
    assert (old_source / "book.mp3").read_bytes() == b"old" * 3000  # old torrent untouched


def test_replace_without_an_existing_folder_is_a_plain_import(download, library):
    result = import_download(download, library, RELPATH, replace=True)
    assert result.replaced_dir is None and book_files(result.final_dir) == EXPECTED


def test_failed_swap_puts_the_old_edition_back(tmp_path, download, library, monkeypatch):
    old_source = tmp_path / "old"
    old_source.mkdir()
    (old_source / "book.mp3").write_bytes(b"old" * 3000)
    import_download(old_source, library, RELPATH)
    real_rename = os.rename

    def second_rename_fails(src, dst):
        if Path(src).name == "book" and Path(src).parent.parent.name == INCOMING_DIR:
            raise OSError(errno.EIO, "I/O error")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", second_rename_fails)
    with pytest.raises(LibraryImportError, match="I/O error"):
        import_download(download, library, RELPATH, replace=True)
    monkeypatch.undo()
    assert book_files(library / RELPATH) == ["book.mp3"]


def crash_after(count: int):
    done = []

    def link(src, dst):
        if len(done) == count:
            raise SimulatedCrash
        os.link(src, dst)
        done.append(src)

    return link


def test_a_crash_mid_import_leaves_no_book_and_recovery_cleans_up(download, library):
    before = snapshot(download)
    with pytest.raises(SimulatedCrash):
        import_download(download, library, RELPATH, link=crash_after(2))
    assert not (library / RELPATH).exists()
    leftovers = list((library / INCOMING_DIR).iterdir())
    assert leftovers  # the half-filled token folder (ignored by ABS: a dot folder)

    notes = recover_incomplete(library)
    assert notes == [f"removed unfinished import of {RELPATH}; it will be imported again"]
    assert list((library / INCOMING_DIR).iterdir()) == []
    assert snapshot(download) == before

    result = import_download(download, library, RELPATH)
    assert book_files(result.final_dir) == EXPECTED
    assert recover_incomplete(library) == []


def test_crash_between_the_two_renames_restores_the_old_edition(tmp_path, download, library,
                                                                monkeypatch):
    old_source = tmp_path / "old"
    old_source.mkdir()
    (old_source / "book.mp3").write_bytes(b"old" * 3000)
    import_download(old_source, library, RELPATH)
    real_rename = os.rename

    def die_before_second_rename(src, dst):
        if Path(src).name == "book" and Path(src).parent.parent.name == INCOMING_DIR:
            raise SimulatedCrash
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", die_before_second_rename)
    with pytest.raises(SimulatedCrash):
        import_download(download, library, RELPATH, replace=True)
    monkeypatch.undo()
    assert not (library / RELPATH).exists()  # the moment of the crash: neither edition

    notes = recover_incomplete(library)
    assert notes == [f"restored the previous edition of {RELPATH} "
                     "(its replacement was interrupted)"]
    assert book_files(library / RELPATH) == ["book.mp3"]
    result = import_download(download, library, RELPATH, replace=True)
    assert book_files(result.final_dir) == EXPECTED


def _import_then_die(download: str, library: str, relpath: str) -> None:
    def link(src, dst):
        os.link(src, dst)
        if Path(src).name == "02.mp3":
            os._exit(3)  # a real crash: no finally, no cleanup; the OS drops the lock

    import_download(download, library, relpath, link=link)


@pytest.mark.slow
def test_a_killed_process_is_recovered(download, library):
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_import_then_die,
                            args=(str(download), str(library), RELPATH.as_posix()))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 3
    assert not (library / RELPATH).exists()
    assert len(recover_incomplete(library)) == 1
    assert book_files(import_download(download, library, RELPATH).final_dir) == EXPECTED


def test_recovery_leaves_a_running_import_alone(download, library):
    seen = []

    def link(src, dst):
        if not seen:
            seen.append(recover_incomplete(library))  # runs while this import holds its lock
        os.link(src, dst)

    result = import_download(download, library, RELPATH, link=link)
    assert seen == [[]]
    assert book_files(result.final_dir) == EXPECTED


def test_recovery_never_touches_finished_books(download, library):
    import_download(download, library, RELPATH)
    before = snapshot(library / RELPATH)
    assert recover_incomplete(library) == []
    assert snapshot(library / RELPATH) == before
    assert recover_incomplete(library / "nowhere") == []


@pytest.mark.parametrize("relpath", ["/abs/path", "../escape", "a/../../b", ".hidden/x", ""])
def test_relpath_must_stay_inside_the_library(download, library, relpath):
    with pytest.raises(LibraryImportError, match="not a folder name inside the library"):
        import_download(download, library, relpath)


def test_clear_errors_for_missing_places(tmp_path, download, library):
    with pytest.raises(LibraryImportError, match="set LIBRARY_DIR"):
        import_download(download, tmp_path / "no-library", RELPATH)
    with pytest.raises(LibraryImportError, match="does not exist"):
        import_download(tmp_path / "gone", library, RELPATH)
    with pytest.raises(LibraryImportError, match="overlap"):
        import_download(library, library, "Author/Title")


def test_crash_after_the_book_is_in_place_only_leaves_bookkeeping(download, library,
                                                                  monkeypatch):
    def die(path, *args, **kwargs):
        raise SimulatedCrash

    monkeypatch.setattr(shutil, "rmtree", die)
    with pytest.raises(SimulatedCrash):
        import_download(download, library, RELPATH)
    monkeypatch.undo()
    assert book_files(library / RELPATH) == EXPECTED
    assert recover_incomplete(library) == [
        f"import of {RELPATH} had finished; removed its leftovers"]
    assert book_files(library / RELPATH) == EXPECTED
    assert list((library / INCOMING_DIR).iterdir()) == []


def test_a_journal_pointing_outside_is_not_followed(tmp_path, library):
    outside = tmp_path / "precious"
    outside.mkdir()
    work = library / INCOMING_DIR / "tampered"
    work.mkdir(parents=True)
    (work / "job.json").write_text(
        '{"relpath": "../precious", "state": "ready", "aside": "../precious"}')
    assert recover_incomplete(library) == [
        "removed unfinished import tampered (no readable journal)"]
    assert outside.is_dir() and not work.exists()
