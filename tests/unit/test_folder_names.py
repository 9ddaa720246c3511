"""Reading book folders as Audiobookshelf does (reference/audiobookshelf.md), the inverse of
domain.naming: table cases, agreement with the ABS fake's reader, and round trips."""

from pathlib import PurePosixPath

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mamcrawler.domain.folder_names import (
    FolderFacts,
    combine_sources,
    group_book_folders,
    is_disc_folder,
    parse_book_folder,
    reads_as_sequence,
    single_file_facts,
    split_names,
)
from mamcrawler.domain.naming import library_relpath, sanitize_name
from mamcrawler.domain.series_position import normalize_position
from tests.support.abs_fake import abs_read_folder


def facts(relpath: str) -> FolderFacts:
    return parse_book_folder(PurePosixPath(relpath).parts)


@pytest.mark.parametrize(("relpath", "expected"), [
    ("Brandon Sanderson/Mistborn/Book 1 - The Final Empire {Michael Kramer}",
     FolderFacts("The Final Empire", ("Brandon Sanderson",), "Mistborn", "1",
                 narrators=("Michael Kramer",))),
    ("Robert Jordan/The Wheel of Time/Vol. 2 - The Great Hunt {Michael Kramer, Kate Reading}",
     FolderFacts("The Great Hunt", ("Robert Jordan",), "The Wheel of Time", "2",
                 narrators=("Michael Kramer", "Kate Reading"))),
    ("A/S/1. Title", FolderFacts("Title", ("A",), "S", "1")),
    ("A/S/01 - Title", FolderFacts("Title", ("A",), "S", "1")),
    ("A/S/Volume 12. Title - Subtitle", FolderFacts("Title - Subtitle", ("A",), "S", "12")),
    ("A/S/Title - Subtitle - Vol 12", FolderFacts("Title - Subtitle", ("A",), "S", "12")),
    ("A/S/Title - volume 9 - Subtitle", FolderFacts("Title - Subtitle", ("A",), "S", "9")),
    ("A/S/0.5 - Book Title", FolderFacts("Book Title", ("A",), "S", "0.5")),
    ("A/S/Book 2.50 - Title", FolderFacts("Title", ("A",), "S", "2.5")),
    ("A/S/Book 1.5 - Title", FolderFacts("Title", ("A",), "S", "1.5")),
    ("A/S/Vol. 02 - Title", FolderFacts("Title", ("A",), "S", "2")),
    ("A/S/.5 - Title", FolderFacts("Title", ("A",), "S", "0.5")),
    # ABS reads no sequence from these, so neither does the library: "#" is no ABS label,
    # a comma no ABS decimal, a range no ABS sequence (domain.series_position reads all
    # three, but a folder name is read as ABS reads it).
    ("A/S/#03 - Title", FolderFacts("#03 - Title", ("A",), "S")),
    ("A/S/Book 1,5 - Title", FolderFacts("Book 1,5 - Title", ("A",), "S")),
    ("A/S/Books 1-3 - Title", FolderFacts("Books 1-3 - Title", ("A",), "S")),
    ("A/S/1980 - Book 2 - Title", FolderFacts("Title", ("A",), "S", "2", 1980)),
    ("Terry Goodkind/Sword of Truth/Vol 1 - 1994 - Wizards First Rule {Sam Tsoutsouvas}",
     FolderFacts("Wizards First Rule", ("Terry Goodkind",), "Sword of Truth", "1", 1994,
                 ("Sam Tsoutsouvas",))),
    # A number followed by text is a sequence only with a label or a trailing dot.
    ("A/S/101 Dalmatians", FolderFacts("101 Dalmatians", ("A",), "S")),
    ("A/S/101. Dalmatians", FolderFacts("Dalmatians", ("A",), "S", "101")),
    ("A/S/Book 101 - Dalmatians", FolderFacts("Dalmatians", ("A",), "S", "101")),
    # Without a series folder there is no sequence to read.
    ("A/Book 1 - Title", FolderFacts("Book 1 - Title", ("A",))),
    ("A/2010 - Title", FolderFacts("Title", ("A",), year=2010)),
    ("A/(2010) - Title", FolderFacts("Title", ("A",), year=2010)),
    ("A/Title [B003ZWFO7E]", FolderFacts("Title", ("A",), asin="B003ZWFO7E")),
    ("A/S/Book 3 - Title [B003ZWFO7E] {N One}",
     FolderFacts("Title", ("A",), "S", "3", narrators=("N One",), asin="B003ZWFO7E")),
    ("A/Title [not-an-asin]", FolderFacts("Title [not-an-asin]", ("A",))),
    ("Kishimi, Ichiro & Koga, Fumitake/The Courage to Be Disliked",
     FolderFacts("The Courage to Be Disliked", ("Ichiro Kishimi", "Fumitake Koga"))),
    ("Title {Narrator Name}", FolderFacts("Title", narrators=("Narrator Name",))),
    ("Library/Fantasy/A/S/Book 4 - T", FolderFacts("T", ("A",), "S", "4")),
    ("A/S/Tales - Book 2", FolderFacts("Tales", ("A",), "S", "2")),
    ("A/S/Tales – Book 2", FolderFacts("Tales – Book 2", ("A",), "S")),
    ("A/S/A -  - B", FolderFacts("A -  - B", ("A",), "S")),  # ABS would say book 0
])
def test_folder_conventions(relpath, expected):
    assert facts(relpath) == expected


def test_empty_and_single_file():
    assert parse_book_folder(()) == FolderFacts()
    assert single_file_facts("The Hobbit.m4b") == FolderFacts(title="The Hobbit")


@pytest.mark.parametrize(("text", "names"), [
    ("Michael Kramer, Kate Reading", ["Michael Kramer", "Kate Reading"]),
    ("Michael Kramer & Kate Reading", ["Michael Kramer", "Kate Reading"]),
    ("Michael Kramer and Kate Reading", ["Michael Kramer", "Kate Reading"]),
    ("Michael Kramer; Kate Reading", ["Michael Kramer", "Kate Reading"]),
    ("A One & B Two, C Three; D Four and E Five",
     ["A One", "B Two", "C Three", "D Four", "E Five"]),
    ("Kishimi, Ichiro", ["Ichiro Kishimi"]),
    ("Friedman, Milton & Friedman, Rose", ["Milton Friedman", "Rose Friedman"]),
    ("Tolkien, J. R. R.", ["J. R. R. Tolkien"]),
    ("Smith, John, Jr.", ["John Smith"]),
    ("Andy Anderson", ["Andy Anderson"]),  # "and" inside a name is no separator
    ("Madonna", ["Madonna"]),
    ("", []), (None, []), (" , & ; ", []),
])
def test_split_names(text, names):
    assert split_names(text) == names


@pytest.mark.parametrize(("part", "sequence"), [
    ("Book 2", True), ("vol. 3", True), ("1. Title", True), ("01", True), ("2.25", True),
    ("", True),  # ABS reads an empty part as book 0; parse_book_folder does not
    ("101 Dalmatians", False), ("Tales", False), ("#3", False), ("Book 1,5", False),
    ("1-3", False), ("1000", False),
])
def test_which_parts_abs_reads_as_a_sequence(part, sequence):
    assert reads_as_sequence(part) is sequence


@pytest.mark.parametrize(("name", "disc"), [
    ("CD1", True), ("cd 02", True), ("Disc 3", True), ("Disk4", True), ("CD", False),
    ("CD1 - Bonus", False), ("Discworld 1", False),
])
def test_disc_folders(name, disc):
    assert is_disc_folder(name) is disc


def test_grouping_follows_abs():
    paths = [tuple(p.split("/")) for p in [
        "Single.m4b", "A/Book/CD1/01.mp3", "A/Book/CD2/01.mp3", "A/Other/01.mp3",
        "A/Other/Extras/02.mp3", "A/S/Book 1 - T/a.flac", "A/S/Book 1 - T/b.flac"]]
    groups = group_book_folders(paths)
    assert groups == {
        ("Single.m4b",): paths[:1],
        ("A", "Book"): paths[1:3],
        ("A", "Other"): paths[3:5],
        ("A", "S", "Book 1 - T"): paths[5:7],
    }


def test_later_sources_win_where_they_say_something():
    folder = FolderFacts("Mistborn - The Final Empire", ("Brandon Sanderson",), "Mistborn", "1",
                         narrators=("Michael Kramer",), asin="B002UZMLXM")
    tags = FolderFacts("Mistborn: The Final Empire", (), "mistborn", None, 2006,
                       asin="not an asin")
    opf = FolderFacts(None, (), None, None, narrators=("Michael Kramer", "Michael Kramer"))
    combined = combine_sources([("folder", folder), ("tags", tags), ("opf", opf)])
    assert combined == {
        "title": ("Mistborn: The Final Empire", "tags"),
        "authors": (["Brandon Sanderson"], "folder"),
        "narrators": (["Michael Kramer"], "opf"),
        "series": ([{"name": "mistborn", "position": "1"}], "tags"),  # position filled in
        "year": (2006, "tags"),
        "asin": ("B002UZMLXM", "folder"),
    }
    long = FolderFacts("x" * 900, ("  ",), " " * 3, asin=" b002uzmlxm ")
    assert combine_sources([("folder", long)]) == {
        "title": ("x" * 500, "folder"), "asin": ("B002UZMLXM", "folder")}


# Names ABS cannot get wrong: words without separators, each name "First Last".
_WORD = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéøß", min_size=1,
                max_size=8).filter(lambda w: w.lower() not in ("and", "vol", "volume", "book"))
_NAME = st.lists(_WORD, min_size=2, max_size=3).map(" ".join)
_TITLE = st.lists(st.one_of(_WORD, st.integers(0, 5000).map(str)), min_size=1,
                  max_size=5).map(" ".join)
_POSITION = st.one_of(st.none(), st.integers(0, 999).map(str),
                      st.tuples(st.integers(0, 99), st.integers(1, 99)).map(
                          lambda t: f"{t[0]}.{t[1]:02d}"))


@settings(max_examples=300, deadline=None)
@given(author=_NAME, series=st.one_of(st.none(), _TITLE), position=_POSITION, title=_TITLE,
       narrators=st.lists(_NAME, max_size=3, unique_by=str.casefold))
def test_reads_back_what_naming_writes(author, series, position, title, narrators):
    relpath = library_relpath(author, series, position, title, narrators)
    # Known gap in domain.naming: a title that is itself a sequence ("12", "12. Rules"),
    # filed in a series without a position, is read back as a position (see below).
    assume(not (series and normalize_position(position) is None
                and facts(f"A/S/{sanitize_name(title)}").position))
    read = parse_book_folder(relpath.parts)
    assert read.authors == (author,)
    assert read.series == series
    assert read.position == (normalize_position(position) if series else None)
    assert read.narrators == tuple(narrators)
    # naming turns " - " into " – " where ABS would misread it; otherwise exact.
    assert read.title.replace("–", "-") == sanitize_name(title).replace("–", "-")
    assert read.year is None


_PART = st.one_of(
    _TITLE, st.sampled_from(["Book 3", "Vol. 2", "vol 7", "Volume 12.", "12.", "04", "2.5",
                             "101 Dalmatians", "1999", "(2001)", "Book 2.25"]))


@settings(max_examples=300, deadline=None)
@given(author=_NAME, series=st.one_of(st.none(), _TITLE),
       parts=st.lists(_PART, min_size=1, max_size=4),
       narrators=st.one_of(st.none(), st.lists(_NAME, min_size=1, max_size=2)))
def test_agrees_with_the_abs_fake(author, series, parts, narrators):
    folder = " - ".join(parts) + (" {" + ", ".join(narrators) + "}" if narrators else "")
    assume(folder.strip() == folder)
    relpath = "/".join(p for p in (author, series, folder) if p)
    mine, theirs = facts(relpath), abs_read_folder(relpath)
    assert (mine.title or "") == theirs["title"]
    assert mine.series == theirs["series"]
    assert mine.position == theirs["sequence"]
    assert mine.year == (int(theirs["publishedYear"]) if theirs["publishedYear"] else None)
    assert list(mine.narrators) == theirs["narrators"]
    assert list(mine.authors) == theirs["authors"]


@pytest.mark.xfail(reason="domain.naming writes a title that is only a sequence ('12') "
                   "unchanged into a series folder without position; ABS reads it as book 12")
def test_numeric_title_in_series_without_position():
    relpath = library_relpath("A", "Series", None, "12", None)
    assert parse_book_folder(relpath.parts).title == "12"
