"""Library scan (R13) over generated libraries with known truth, on SQLite and PostgreSQL:
facts against the truth, incremental rescans counted in file reads, unreadable files,
protected fields, vanished and renamed books, and the `scan` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mamcrawler.adapters.audio.tags import (
    TagFacts,
    TagReadError,
    book_tags,
    read_sidecar,
    read_tags,
)
from mamcrawler.domain.scan_plan import UNREADABLE_MARK
from mamcrawler.services.library import book_view, create_book
from mamcrawler.services.library_scan import (
    LibraryScanError,
    read_file,
    scan_library,
)
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, FieldSource, LibraryFile, MetadataCorrection
from tests.support.library_gen import FORMATS, GeneratedLibrary, write_tags
from tests.support.service import clean_env


@pytest.mark.parametrize("fmt", FORMATS)
def test_tags_are_read_in_every_format(library_templates, tmp_path, fmt):
    path = tmp_path / f"book.{fmt}"
    shutil.copyfile(library_templates[fmt], path)
    write_tags(path, fmt, {"title": "Chapter 1", "album": "The Way of Kings (Unabridged)",
                           "artist": "Brandon Sanderson", "albumartist": "Someone Else",
                           "composer": "Michael Kramer & Kate Reading",
                           "series": "The Stormlight Archive", "series-part": "01",
                           "asin": "B003ZWFO7E", "date": "2010-08-31", "comment": "Epic."})
    facts = read_tags(path)
    assert facts == TagFacts(
        format=fmt, duration_s=facts.duration_s, bitrate_kbps=facts.bitrate_kbps,
        title="Chapter 1", album="The Way of Kings (Unabridged)",
        authors=("Brandon Sanderson",), narrators=("Michael Kramer", "Kate Reading"),
        series="The Stormlight Archive", position="1", asin="B003ZWFO7E", year=2010,
        description="Epic.")
    assert 0.9 < facts.duration_s < 1.3 and facts.bitrate_kbps > 0
    assert TagFacts.from_json(facts.to_json()) == facts


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("tags", "series", "position"), [
    ({"grouping": "Mistborn #2.50"}, "Mistborn", "2.5"),
    ({"grouping": "Discworld"}, "Discworld", None),
    ({"mvnm": "Dune", "mvin": "3"}, "Dune", "3"),
    ({"mvnm": "Dune", "mvin": "3", "series": "Dune Chronicles"}, "Dune Chronicles", None),
])
def test_series_from_grouping_and_movement(library_templates, tmp_path, fmt, tags, series,
                                           position):
    path = tmp_path / f"book.{fmt}"
    shutil.copyfile(library_templates[fmt], path)
    write_tags(path, fmt, tags)
    facts = read_tags(path)
    assert (facts.series, facts.position) == (series, position)


def test_book_tags_judge_a_books_files():
    chapters = [TagFacts("mp3", 100.0, 64, title=f"Chapter {n}", album="Elantris",
                         authors=("Unknown Artist", "Brandon Sanderson"),
                         narrators=("Jack Garrett",)) for n in (1, 2)]
    odd = TagFacts("mp3", 200.0, 32, title="Chapter 3", album="Elantris (Unabridged)",
                   narrators=("Unknown",))
    book = book_tags([*chapters, odd, TagFacts("txt", narrators=("Not Counted",))])
    assert book == TagFacts("mp3", 400.0, 48, title="Elantris", authors=("Brandon Sanderson",),
                            narrators=("Jack Garrett",))
    single = book_tags([TagFacts("m4b", 5.0, title="Warbreaker (Abridged)")])
    assert (single.title, single.abridged) == ("Warbreaker", True)
    assert book_tags([TagFacts("m4b", title="Track 01", album="Unknown Album")]).title is None
    assert book_tags([TagFacts("m4b", title="01")]).title is None
    assert book_tags([]) == TagFacts(format="")


def test_sidecars(tmp_path):
    reader = tmp_path / "reader.txt"
    reader.write_text("\n  Michael Kramer, Kate Reading \nmore\n", encoding="utf-8")
    assert read_sidecar(reader).narrators == ("Michael Kramer", "Kate Reading")
    opf = tmp_path / "metadata.opf"
    opf.write_text(
        '<package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/'
        '1.1/" xmlns:opf="http://www.idpf.org/2007/opf"><metadata><dc:title>Dune</dc:title>'
        '<dc:creator opf:role="aut">Frank Herbert</dc:creator><dc:creator opf:role="nrt">'
        'Scott Brick</dc:creator><dc:identifier opf:scheme="ISBN">978-0441013593'
        '</dc:identifier><dc:identifier opf:scheme="ASIN">B002V1OF70</dc:identifier>'
        '<meta name="calibre:series" content="Dune"/><meta name="calibre:series_index" '
        'content="1"/></metadata></package>', encoding="utf-8")
    facts = read_sidecar(opf)
    assert (facts.title, facts.authors, facts.narrators, facts.series, facts.position,
            facts.asin, facts.isbn) == ("Dune", ("Frank Herbert",), ("Scott Brick",), "Dune",
                                        "1", "B002V1OF70", "978-0441013593")
    opf.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><package>&a;</package>')
    with pytest.raises(TagReadError, match="DTD"):
        read_sidecar(opf)
    opf.write_text("<package><metadata>")
    with pytest.raises(TagReadError, match="not a readable OPF"):
        read_sidecar(opf)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.mp3", b"", "empty file"),
    ("noise.mp3", bytes(range(256)) * 40, "not readable as audio"),
    ("text.flac", b"this is not a flac file\n" * 20, "not readable as audio"),
    ("text.m4b", b"just text, no boxes\n" * 20, "not an audio format"),
])
def test_unreadable_files_say_why(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TagReadError, match=reason) as caught:
        read_tags(path)
    assert caught.value.path == path


def test_truncated_files_are_unreadable_not_fatal(library_templates, tmp_path):
    for fmt in ("m4b", "flac"):
        path = tmp_path / f"cut.{fmt}"
        path.write_bytes(library_templates[fmt].read_bytes()[:300])
        with pytest.raises(TagReadError):
            read_tags(path)
    with pytest.raises(TagReadError, match="cannot be opened"):
        read_tags(tmp_path / "missing.mp3")


class CountingReader:
    """The scan's file reader, counting which files it opens."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def __call__(self, path: Path):
        self.paths.append(path)
        return read_file(path)


def books_by_folder(sessions) -> dict[str, dict]:
    with sessions() as session:
        return {b.library_path: book_view(b) for b in session.scalars(select(Book))}


def sources_of(sessions, book_id: int) -> dict[str, str]:
    with sessions() as session:
        return {fs.field: fs.source for fs in session.scalars(
            select(FieldSource).where(FieldSource.book_id == book_id))}


def assert_matches_truth(sessions, lib: GeneratedLibrary) -> None:
    books = books_by_folder(sessions)
    wrong = []
    for truth in lib.books:
        got = books[str(lib.root / truth.relpath)]
        series = got["series"][0] if got["series"] else {"name": None, "position": None}
        seen = (got["title"], tuple(got["authors"]), tuple(got["narrators"]), series["name"],
                series["position"], got["year"], got["asin"], got["format"])
        want = (truth.title, truth.authors, truth.narrators, truth.series, truth.position,
                truth.year, truth.asin, truth.format)
        if seen != want:
            wrong.append(f"{truth.kind}/{truth.format}: got {seen}, want {want}")
    assert not wrong, "\n".join(wrong[:10])


def test_scan_finds_what_the_library_holds(runtime, make_library):
    lib = make_library(300)
    report = scan_library(lib.root, runtime.sessions)
    assert (report.books_found, report.new, report.changed, report.unchanged) == (300, 300, 0, 0)
    assert report.files_read == len(lib.audio_files()) + len(lib.unreadable) + 30  # 30 sidecars
    assert_matches_truth(runtime.sessions, lib)
    unreadable = {Path(p).relative_to(lib.root).as_posix(): why for p, why in report.unreadable}
    assert unreadable.keys() == lib.unreadable.keys()
    assert all(reason for reason in unreadable.values())
    with runtime.sessions() as session:
        paths = set(session.scalars(select(LibraryFile.path)))
        books = {b.library_path: b for b in session.scalars(select(Book))}
    assert not {str(lib.root / p) for p in lib.ignored} & paths
    assert all(book.duration_seconds and book.duration_seconds > 0.5 for book in books.values())
    discs = next(t for t in lib.books if t.kind == "discs")
    assert books[str(lib.root / discs.relpath)].duration_seconds > 2 * 0.9  # two files


@pytest.mark.parametrize(("kind", "field", "source"), [
    ("colon", "title", "tags"), ("vol", "title", "folder"), ("vol", "series", "folder"),
    ("dot", "authors", "folder"), ("tags_richer", "series", "tags"),
    ("reader_txt", "narrators", "txt"), ("opf", "series", "opf"), ("plain", "year", "tags"),
    ("year", "year", "folder"), ("asin", "asin", "folder"), ("plain", "duration_seconds", "tags"),
])
def test_every_field_records_its_source(runtime, make_library, kind, field, source):
    lib = make_library(20, odd_files=False)
    scan_library(lib.root, runtime.sessions)
    truth = next(t for t in lib.books if t.kind == kind)
    book = books_by_folder(runtime.sessions)[str(lib.root / truth.relpath)]
    assert sources_of(runtime.sessions, book["id"])[field] == source


def test_rescan_reads_only_what_changed(runtime, make_library):
    lib = make_library(60)
    first = CountingReader()
    scan_library(lib.root, runtime.sessions, reader=first, batch_size=16)
    again = CountingReader()
    report = scan_library(lib.root, runtime.sessions, reader=again)
    assert again.paths == []
    assert (report.unchanged, report.new, report.changed, report.files_read) == (60, 0, 0, 0)
    assert len(report.unreadable) == 2  # still reported, not read again

    truth = next(t for t in lib.books if t.kind == "plain")
    changed = lib.root / truth.files[0]
    write_tags(changed, truth.format, {"album": truth.title, "artist": truth.authors[0],
                                       "composer": "New Narrator"})
    os.utime(changed, (changed.stat().st_atime, changed.stat().st_mtime + 10))
    third = CountingReader()
    report = scan_library(lib.root, runtime.sessions, reader=third)
    assert third.paths == [changed]
    assert (report.changed, report.unchanged) == (1, 59)
    book = books_by_folder(runtime.sessions)[str(lib.root / truth.relpath)]
    assert book["narrators"] == ["New Narrator"]
    with runtime.sessions() as session:
        fix = session.scalars(select(MetadataCorrection)
                              .where(MetadataCorrection.book_id == book["id"])).one()
    assert (fix.field, fix.old_value, fix.new_value, fix.source) == (
        "narrators", truth.narrators[0], "New Narrator", "tags")


def test_protected_fields_are_never_overwritten(runtime, make_library):
    lib = make_library(20, odd_files=False)
    scan_library(lib.root, runtime.sessions)
    truth = next(t for t in lib.books if t.kind == "plain")
    folder = str(lib.root / truth.relpath)
    with session_scope(runtime.sessions) as session:
        book = session.scalars(select(Book).where(Book.library_path == folder)).one()
        book.title = "Title A Person Chose"
        session.get(FieldSource, (book.id, "title")).protected = True
    path = lib.root / truth.files[0]
    write_tags(path, truth.format, {"album": "Retagged Title", "artist": "Someone Else",
                                    "composer": truth.narrators[0]})
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    scan_library(lib.root, runtime.sessions)
    book = books_by_folder(runtime.sessions)[folder]
    assert book["title"] == "Title A Person Chose"
    assert book["authors"] == ["Someone Else"]  # not protected: follows the tags


def test_a_protected_series_position_survives_retagging(runtime, make_library):
    lib = make_library(20, odd_files=False)
    scan_library(lib.root, runtime.sessions)
    truth = next(t for t in lib.books if t.series and t.position and len(t.files) == 1)
    folder = str(lib.root / truth.relpath)
    with session_scope(runtime.sessions) as session:
        book = session.scalars(select(Book).where(Book.library_path == folder)).one()
        session.add(FieldSource(book_id=book.id, field="series_position", source="user",
                                protected=True))
    path = lib.root / truth.files[0]
    write_tags(path, truth.format, {"album": truth.title, "artist": truth.authors[0],
                                    "mvnm": truth.series, "mvin": "99"})
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    scan_library(lib.root, runtime.sessions)
    book = books_by_folder(runtime.sessions)[folder]
    assert book["series"] == [{"name": truth.series, "position": truth.position}]


def test_fields_set_by_another_source_are_left_to_the_merge(runtime, make_library):
    lib = make_library(20, odd_files=False)
    truth = next(t for t in lib.books if t.kind == "plain")
    folder = str(lib.root / truth.relpath)
    with session_scope(runtime.sessions) as session:  # as the importer records a download
        create_book(session, {"title": "Tracker Title", "authors": ["Tracker Author"],
                              "library_path": folder})
    report = scan_library(lib.root, runtime.sessions)
    assert (report.new, report.changed) == (19, 1)
    book = books_by_folder(runtime.sessions)[folder]
    assert (book["title"], book["authors"]) == ("Tracker Title", ["Tracker Author"])
    assert book["narrators"] == list(truth.narrators) and book["year"] == truth.year
    with runtime.sessions() as session:
        files = session.scalars(select(LibraryFile).where(LibraryFile.book_id == book["id"]))
        assert [f.path for f in files] == [str(lib.root / truth.files[0])]


def test_vanished_books_are_flagged_then_restored(runtime, make_library, tmp_path):
    lib = make_library(20, odd_files=False)
    scan_library(lib.root, runtime.sessions)
    truth = lib.books[3]
    folder = lib.root / truth.relpath
    shutil.move(folder, tmp_path / "aside")
    report = scan_library(lib.root, runtime.sessions)
    assert report.missing == [str(folder)]
    assert report.books_found == 19
    with runtime.sessions() as session:
        book = session.scalars(select(Book).where(Book.library_path == str(folder))).one()
        assert book.missing_since is not None and not book.needs_review
        since = book.missing_since
    assert scan_library(lib.root, runtime.sessions).missing == [str(folder)]  # still missing
    with runtime.sessions() as session:
        assert session.get(Book, book.id).missing_since == since  # when it went, kept

    shutil.move(tmp_path / "aside", folder)
    reader = CountingReader()
    report = scan_library(lib.root, runtime.sessions, reader=reader)
    assert (report.missing, report.changed, reader.paths) == ([], 1, [])
    with runtime.sessions() as session:
        book = session.scalars(select(Book).where(Book.library_path == str(folder))).one()
        assert book.missing_since is None and not book.needs_review


def test_a_renamed_folder_moves_its_book(runtime, make_library):
    lib = make_library(20, odd_files=False)
    scan_library(lib.root, runtime.sessions)
    truth = next(t for t in lib.books if t.kind == "series_book")
    old = lib.root / truth.relpath
    before = books_by_folder(runtime.sessions)[str(old)]
    new = old.with_name(f"Book 9 - {truth.title} {{{truth.narrators[0]}}}")
    old.rename(new)
    report = scan_library(lib.root, runtime.sessions)
    assert (report.moved, report.new, report.missing) == (1, 0, [])
    after = books_by_folder(runtime.sessions)
    assert str(old) not in after
    assert after[str(new)]["id"] == before["id"]
    assert after[str(new)]["series"] == [{"name": truth.series, "position": "3"}]  # tags win


def test_unreadable_files_never_stop_a_scan(runtime, make_library):
    lib = make_library(20, odd_files=False)

    def flaky(path: Path):
        if path.name.endswith(".opus"):
            raise RuntimeError("decoder exploded")
        if path.suffix == ".flac":
            raise TagReadError(path, "bad flac")
        return read_file(path)

    report = scan_library(lib.root, runtime.sessions, reader=flaky)
    assert report.books_found == 20
    reasons = dict(report.unreadable)
    assert {Path(p).suffix for p in reasons} == {".opus", ".flac"}
    assert any("decoder exploded" in r for r in reasons.values())
    assert "bad flac" in reasons.values()
    broken = lib.root / lib.books[0].files[0]
    broken.write_bytes(b"not audio at all" * 100)
    report = scan_library(lib.root, runtime.sessions)
    assert report.changed == 1
    assert str(broken) in dict(report.unreadable)


def test_a_book_whose_audio_cannot_be_read_is_flagged_with_the_reason(
        runtime, make_library, library_templates):
    lib = make_library(6, odd_files=False)
    single = lib.root / "Ada Quill" / "Cut Short"
    single.mkdir(parents=True)
    cut = single / "Cut Short.m4b"
    cut.write_bytes(library_templates["m4b"].read_bytes()[:300])  # a real, truncated m4b
    both = lib.root / "Ada Quill" / "Two Bad Discs"
    for disc in ("CD1", "CD2"):
        (both / disc).mkdir(parents=True)
        (both / disc / "part.flac").write_bytes(library_templates["flac"].read_bytes()[:200])
    half = lib.root / "Ada Quill" / "Half Good"
    half.mkdir()
    shutil.copyfile(library_templates["mp3"], half / "01.mp3")
    (half / "02.mp3").write_bytes(b"")
    scan_library(lib.root, runtime.sessions)
    books = books_by_folder(runtime.sessions)
    flagged = {folder: book["review_reason"] for folder, book in books.items()
               if book["needs_review"]}
    assert flagged.keys() == {str(single), str(both)}
    reason = flagged[str(single)]
    assert reason.startswith(UNREADABLE_MARK) and "Cut Short.m4b (" in reason
    assert read_reason(cut) in reason  # the reader's own words for what is wrong
    assert "CD1/part.flac (" in flagged[str(both)] and "CD2/part.flac (" in flagged[str(both)]
    assert books[str(single)]["title"] == "Cut Short"

    shutil.copyfile(library_templates["m4b"], cut)  # the file is fixed: the flag goes
    os.utime(cut, (cut.stat().st_atime, cut.stat().st_mtime + 10))
    report = scan_library(lib.root, runtime.sessions)
    assert report.changed == 1
    assert str(cut) not in dict(report.unreadable)  # read again just now: not stale news
    book = books_by_folder(runtime.sessions)[str(single)]
    assert (book["needs_review"], book["review_reason"]) == (False, None)


def read_reason(path: Path) -> str:
    with pytest.raises(TagReadError) as caught:
        read_tags(path)
    return caught.value.reason


def test_root_files_and_progress(runtime, make_library, library_templates):
    lib = make_library(5, odd_files=False)
    shutil.copyfile(library_templates["m4b"], lib.root / "The Hobbit.m4b")
    calls = []
    report = scan_library(lib.root, runtime.sessions, batch_size=2,
                          progress=lambda done, total, text: calls.append((done, total)))
    assert report.books_found == 6
    assert calls[0] == (0, None) and calls[-1] == (6, 6)
    assert [done for done, _ in calls[1:]] == sorted(done for done, _ in calls[1:])
    book = books_by_folder(runtime.sessions)[str(lib.root / "The Hobbit.m4b")]
    assert (book["title"], book["authors"], book["format"]) == ("The Hobbit", [], "m4b")


def test_scan_of_a_missing_folder_is_refused(runtime, tmp_path):
    with pytest.raises(LibraryScanError, match="does not exist"):
        scan_library(tmp_path / "nowhere", runtime.sessions)
    (tmp_path / "file").write_text("x")
    with pytest.raises(LibraryScanError, match="not a folder"):
        scan_library(tmp_path / "file", runtime.sessions)


@pytest.mark.slow
def test_scan_command(make_library, tmp_path):
    lib = make_library(20)
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", DEMO="false",
                    DATA_DIR=str(tmp_path / "data"), API_KEY="cli-test-key-0123456789",
                    COLUMNS="200")
    command = [str(Path(sys.executable).parent / "mamcrawler"), "--env-file",
               str(tmp_path / "none.env"), "scan"]
    done = subprocess.run([*command, str(lib.root)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "books found" in done.stdout and "unreadable" in done.stdout
    assert "empty file (0 bytes)" in done.stdout
    done = subprocess.run([*command, str(tmp_path / "nowhere")], env=env, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "does not exist" in done.stderr
