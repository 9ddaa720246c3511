"""The library scan's plan (domain/scan_plan.py): what happens to each folder, which books
are missing or moved, which fields the scan may write, and the unreadable-audio flag."""

from __future__ import annotations

import pytest

from mamcrawler.domain.scan_plan import (
    UNREADABLE_MARK,
    HeldField,
    KnownFile,
    LibraryState,
    SeenFile,
    Status,
    common_folder,
    plan_scan,
    review_after_scan,
    scan_writes,
    unreadable_reason,
)

ROOT = "/lib"


def seen(rel: str, size: int = 100, mtime: float = 1.0) -> SeenFile:
    parts = tuple(rel.split("/"))
    return SeenFile(f"{ROOT}/{rel}", parts, size, mtime,
                    parts[-1] == "reader.txt" or parts[-1].endswith(".opf"))


def known(book_id: int | None, size: int = 100, mtime: float | None = 1.0) -> KnownFile:
    return KnownFile(book_id, size, mtime, None)


def plan(files: list[SeenFile], rows: dict[str, KnownFile] | None = None,
         books: dict[str, int] | None = None, missing: frozenset[int] = frozenset()):
    rows = {f"{ROOT}/{rel}": row for rel, row in (rows or {}).items()}
    books = {f"{ROOT}/{folder}": book_id for folder, book_id in (books or {}).items()}
    return plan_scan(ROOT, files, LibraryState(rows, books, missing))


def summary(result) -> list[tuple[str, Status, int | None, int, int]]:
    """(folder, status, book id, files to read, vanished files) per book."""
    return [("/".join(b.key), b.status, b.book_id, len(b.to_read), len(b.vanished))
            for b in result.books]


A = "Ann Lee/Dune"
B = "Ann Lee/Emma"


@pytest.mark.parametrize(("files", "rows", "books", "missing", "want"), [
    pytest.param([seen(f"{A}/1.mp3")], {}, {}, frozenset(),
                 [(A, Status.NEW, None, 1, 0)], id="new folder: read"),
    pytest.param([seen(f"{A}/1.mp3")], {f"{A}/1.mp3": known(7)}, {A: 7}, frozenset(),
                 [(A, Status.UNCHANGED, 7, 0, 0)], id="same size and mtime: untouched"),
    pytest.param([seen(f"{A}/1.mp3", mtime=1.0000001)], {f"{A}/1.mp3": known(7)}, {A: 7},
                 frozenset(), [(A, Status.UNCHANGED, 7, 0, 0)], id="mtime rounded: same"),
    pytest.param([seen(f"{A}/1.mp3", mtime=2.0)], {f"{A}/1.mp3": known(7)}, {A: 7},
                 frozenset(), [(A, Status.CHANGED, 7, 1, 0)], id="touched: read again"),
    pytest.param([seen(f"{A}/1.mp3", size=5)], {f"{A}/1.mp3": known(7)}, {A: 7}, frozenset(),
                 [(A, Status.CHANGED, 7, 1, 0)], id="size changed"),
    pytest.param([seen(f"{A}/1.mp3")], {f"{A}/1.mp3": known(7, mtime=None)}, {A: 7},
                 frozenset(), [(A, Status.CHANGED, 7, 1, 0)], id="no mtime kept"),
    pytest.param([seen(f"{A}/1.mp3"), seen(f"{A}/2.mp3")], {f"{A}/1.mp3": known(7)}, {A: 7},
                 frozenset(), [(A, Status.CHANGED, 7, 1, 0)], id="file added"),
    pytest.param([seen(f"{A}/1.mp3")], {f"{A}/1.mp3": known(7), f"{A}/2.mp3": known(7)},
                 {A: 7}, frozenset(), [(A, Status.CHANGED, 7, 0, 1)], id="file removed"),
    pytest.param([seen(f"{A}/1.mp3")], {f"{A}/1.mp3": known(7)}, {A: 7}, frozenset({7}),
                 [(A, Status.CHANGED, 7, 0, 0)], id="missing book back: mark lifted"),
    pytest.param([seen(f"{A}/1.mp3")], {}, {A: 7}, frozenset(),
                 [(A, Status.CHANGED, 7, 1, 0)], id="filed by the importer, files new"),
    pytest.param([seen(f"{A}/1.mp3"), seen(f"{A}/2.mp3")],
                 {f"{A}/1.mp3": known(7), f"{A}/2.mp3": known(8)}, {A: 7}, frozenset(),
                 [(A, Status.CHANGED, 7, 0, 0)], id="two owners: the first keeps the folder"),
    pytest.param([seen(f"{A}/CD1/1.mp3"), seen(f"{A}/CD2/1.mp3"), seen(f"{A}/reader.txt")],
                 {}, {}, frozenset(), [(A, Status.NEW, None, 3, 0)], id="discs and sidecar"),
    pytest.param([seen(f"{A}/metadata.opf")], {}, {}, frozenset(), [],
                 id="a sidecar alone is no book"),
    pytest.param([seen("Dune.m4b")], {}, {}, frozenset(), [("Dune.m4b", Status.NEW, None, 1, 0)],
                 id="a root file is its own book"),
])
def test_each_folder_gets_a_status(files, rows, books, missing, want):
    assert summary(plan(files, rows, books, missing)) == want


def test_a_book_whose_files_are_all_gone_is_missing_at_its_folder():
    rows = {f"{A}/1.mp3": known(7), f"{B}/CD1/1.mp3": known(8), f"{B}/CD2/1.mp3": known(8),
            "Ann Lee/Note/x.mp3": known(None)}
    result = plan([], rows, {A: 7})
    assert result.books == []
    # the filed folder when known, else the folder holding all the files
    assert result.missing == {7: f"{ROOT}/{A}", 8: f"{ROOT}/{B}"}
    assert result.orphans == [f"{ROOT}/Ann Lee/Note/x.mp3"]


@pytest.mark.parametrize(("moved", "want_status", "want_missing"), [
    ([seen("Ann Lee/Dune 2/1.mp3"), seen("Ann Lee/Dune 2/2.mp3")], Status.MOVED, {}),
    ([seen("Ann Lee/Dune 2/1.mp3")], Status.MOVED, {}),  # a file dropped on the way
    ([seen("Ann Lee/Dune 2/1.mp3", size=1)], Status.NEW, {7: f"{ROOT}/{A}"}),
    ([seen("Ann Lee/Dune 2/1.mp3"), seen("Ann Lee/Dune 2/9.mp3")], Status.NEW,
     {7: f"{ROOT}/{A}"}),  # a file with no twin: another book
])
def test_a_renamed_folder_is_the_book_moved(moved, want_status, want_missing):
    rows = {f"{A}/1.mp3": known(7), f"{A}/2.mp3": known(7)}
    result = plan(moved, rows, {A: 7})
    (book,) = result.books
    assert book.status is want_status
    assert book.book_id == (7 if want_status is Status.MOVED else None)
    assert result.missing == want_missing


def test_a_moved_book_is_not_taken_while_its_files_are_still_somewhere():
    rows = {f"{A}/1.mp3": known(7)}
    result = plan([seen(f"{A}/1.mp3"), seen("Ann Lee/Copy/1.mp3")], rows, {A: 7})
    assert summary(result) == [(A, Status.UNCHANGED, 7, 0, 0),
                               ("Ann Lee/Copy", Status.NEW, None, 1, 0)]
    assert result.missing == {}


def test_one_books_files_in_two_folders_stay_with_the_filed_folder():
    rows = {f"{A}/1.mp3": known(7), f"{B}/1.mp3": known(7)}
    assert summary(plan([seen(f"{A}/1.mp3"), seen(f"{B}/1.mp3")], rows, {B: 7})) == [
        (A, Status.NEW, None, 0, 0), (B, Status.UNCHANGED, 7, 0, 0)]


SCAN = HeldField("tags", False)


@pytest.mark.parametrize(("held", "current", "want"), [
    pytest.param({}, {}, [("title", True)], id="empty and no source: the scan sets it"),
    pytest.param({}, {"title": "Importer's"}, [], id="set by someone else: left to merge"),
    pytest.param({"title": SCAN}, {"title": "Old"}, [("title", False)], id="scan's own: kept"),
    pytest.param({"title": HeldField("folder", False)}, {"title": "Old"}, [("title", False)],
                 id="another scan source: may move"),
    pytest.param({"title": HeldField("tags", True)}, {"title": "Old"}, [],
                 id="protected: never"),
    pytest.param({"title": HeldField("audnexus", False)}, {"title": "Old"}, [],
                 id="the merge's source: never"),
])
def test_which_fields_the_scan_may_write(held, current, want):
    writes = scan_writes({"title": ("New", "tags")}, held, current)
    assert [(w.field, w.new_source) for w in writes] == want


def test_a_protected_series_position_guards_the_series():
    combined = {"series": ([{"name": "Dune", "position": "9"}], "tags")}
    held = {"series": SCAN, "series_position": HeldField("user", True)}
    assert scan_writes(combined, held, {"series": []}) == []
    assert [w.field for w in scan_writes(combined, {"series": SCAN}, {})] == ["series"]


def test_a_write_knows_whether_it_changes_the_value():
    combined = {"title": ("Same", "tags"), "year": (2001, "tags")}
    writes = scan_writes(combined, {"title": SCAN, "year": SCAN}, {"title": "Same", "year": 1})
    assert [(w.field, w.changes_value, w.old) for w in writes] == [
        ("title", False, "Same"), ("year", True, 1)]


@pytest.mark.parametrize(("audio", "want"), [
    ([], None),
    ([("1.mp3", None)], None),
    ([("1.mp3", "empty file (0 bytes)"), ("2.mp3", None)], None),
    ([("1.mp3", "empty file (0 bytes)")], UNREADABLE_MARK + "1.mp3 (empty file (0 bytes))"),
    ([("CD1/a.flac", "bad"), ("CD2/a.flac", "worse")],
     UNREADABLE_MARK + "CD1/a.flac (bad); CD2/a.flac (worse)"),
])
def test_a_book_none_of_whose_audio_can_be_read_needs_review(audio, want):
    assert unreadable_reason(audio) == want


SCANNED = UNREADABLE_MARK + "1.mp3 (bad)"
OTHER = "metadata: no source matched well enough"


@pytest.mark.parametrize(("flagged", "reason", "scan", "want"), [
    (False, None, None, (False, None)),
    (False, None, SCANNED, (True, SCANNED)),
    (True, SCANNED, None, (False, None)),
    (True, f"{SCANNED} | {OTHER}", None, (True, OTHER)),
    (True, OTHER, SCANNED, (True, f"{SCANNED} | {OTHER}")),
    (True, f"{UNREADABLE_MARK}old | {OTHER}", SCANNED, (True, f"{SCANNED} | {OTHER}")),
    (True, OTHER, None, (True, OTHER)),
    (True, None, None, (True, None)),  # flagged by a person without a reason: stays
    (False, "stale text", None, (False, "stale text")),
])
def test_the_scans_review_reason_leaves_other_parts_alone(flagged, reason, scan, want):
    assert review_after_scan(flagged, reason, scan) == want


@pytest.mark.parametrize(("paths", "want"), [
    (["/lib/A/B/1.mp3"], "/lib/A/B"),
    (["/lib/A/B/CD1/1.mp3", "/lib/A/B/CD2/1.mp3"], "/lib/A/B"),
    (["/lib/A/Bc/1.mp3", "/lib/A/B/1.mp3"], "/lib/A"),  # parts, not characters
    (["/1.mp3"], "/"),
])
def test_common_folder(paths, want):
    assert common_folder(paths) == want
