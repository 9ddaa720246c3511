"""Library folder names (R12): the layout ABS reads, safe on every common file system."""

import re
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.naming import (
    MAX_SEGMENT_BYTES,
    abs_position,
    library_relpath,
    sanitize_name,
)
from tests.support.abs_fake import abs_read_folder

FORBIDDEN = set('/\\:*?"<>|{}')


@pytest.mark.parametrize(("args", "expected"), [
    (("Brandon Sanderson", "Mistborn", "1", "The Final Empire", ["Michael Kramer"]),
     "Brandon Sanderson/Mistborn/Book 1 - The Final Empire {Michael Kramer}"),
    (("Brandon Sanderson", None, None, "Elantris", ["Jack Garrett"]),
     "Brandon Sanderson/Elantris {Jack Garrett}"),
    (("Brandon Sanderson", "The Stormlight Archive", "2.5", "Edgedancer", None),
     "Brandon Sanderson/The Stormlight Archive/Book 2.5 - Edgedancer"),
    (("Robert Jordan", "The Wheel of Time", "02", "The Great Hunt",
      ["Michael Kramer", "Kate Reading"]),
     "Robert Jordan/The Wheel of Time/Book 2 - The Great Hunt {Michael Kramer, Kate Reading}"),
    ((["Robert Jordan", "Brandon Sanderson"], "The Wheel of Time", 14, "A Memory of Light",
      "Michael Kramer"),
     "Robert Jordan/The Wheel of Time/Book 14 - A Memory of Light {Michael Kramer}"),
    (("Brandon Sanderson", "Mistborn", None, "Mistborn: The Final Empire", []),
     "Brandon Sanderson/Mistborn/Mistborn - The Final Empire"),
    (("Author", "Series", 3.0, "Title", None), "Author/Series/Book 3 - Title"),
    (("Author", "Series", "1-3", "Omnibus", None), "Author/Series/Omnibus"),
    (("AC/DC", None, None, 'The "Best" <Hits>?', None), "AC-DC/The 'Best' Hits"),
    (("", None, None, "", None), "Unknown Author/Unknown Title"),
    (("Arthur C. Clarke", None, None, "2001: A Space Odyssey", None),
     "Arthur C. Clarke/2001 – A Space Odyssey"),
    (("  ...Trailing.  ", " Series. ", "1", "Title...", ["  "]),
     "Trailing/Series/Book 1 - Title"),
    (("Author", "Series", "4", "Title {Special}", ["A", "a", "B"]),
     "Author/Series/Book 4 - Title (Special) {A, B}"),
    (("Author", "Tales", None, "Tales - Book 2", None), "Author/Tales/Tales – Book 2"),
    (("CON", None, None, "nul", None), "CON_/nul_"),
])
def test_layout(args, expected):
    assert library_relpath(*args) == PurePosixPath(expected)


@pytest.mark.parametrize(("position", "expected"), [
    ("1", "1"), ("02", "2"), ("2.5", "2.5"), ("2.50", "2.5"), (7, "7"), (0.5, "0.5"),
    ("999", "999"), ("1000", None), ("1.125", None), ("1-3", None), ("Prequel", None),
    (None, None), ("", None), (True, None),
    # read as domain.series_position reads it, then kept only where ABS reads it back
    ("1,5", "1.5"), ("Book 2", "2"), ("#3", "3"), (2.0, "2"), ("999.99", "999.99"),
    ("1 - 3", None), (1000, None), (float("nan"), None), (-1, None), ("III", None),
])
def test_position_as_abs_reads_it(position, expected):
    assert abs_position(position) == expected


@pytest.mark.parametrize(("args", "read"), [
    (("Brandon Sanderson", "Mistborn", "1", "The Final Empire", ["Michael Kramer"]),
     {"authors": ["Brandon Sanderson"], "series": "Mistborn", "sequence": "1",
      "title": "The Final Empire", "narrators": ["Michael Kramer"], "publishedYear": None}),
    (("Robert Jordan", "The Wheel of Time", "2.5", "New Spring", ["Michael Kramer",
                                                                   "Kate Reading"]),
     {"authors": ["Robert Jordan"], "series": "The Wheel of Time", "sequence": "2.5",
      "title": "New Spring", "narrators": ["Michael Kramer", "Kate Reading"],
      "publishedYear": None}),
    (("Arthur C. Clarke", "Space Odyssey", "1", "2001: A Space Odyssey", None),
     {"authors": ["Arthur C. Clarke"], "series": "Space Odyssey", "sequence": "1",
      "title": "2001 – A Space Odyssey", "narrators": [], "publishedYear": None}),
    (("Dodie Smith", None, None, "101 Dalmatians", ["Joanna Lumley"]),
     {"authors": ["Dodie Smith"], "series": None, "sequence": None,
      "title": "101 Dalmatians", "narrators": ["Joanna Lumley"], "publishedYear": None}),
])
def test_abs_reads_back_what_we_meant(args, read):
    """The fake's model of ABS's folder reader gets the fields back."""
    assert abs_read_folder(library_relpath(*args).as_posix()) == read


def test_long_names_fit_and_keep_the_narrator():
    path = library_relpath("A" * 300, "S" * 300, "3", "T" * 400, ["Michael Kramer"])
    for part in path.parts:
        assert len(part.encode()) <= MAX_SEGMENT_BYTES
    assert path.parts[2].startswith("Book 3 - TTT")
    assert path.parts[2].endswith("… {Michael Kramer}")


def test_many_narrators_are_shortened_before_the_title():
    narrators = [f"Narrator Number {n}" for n in range(20)]
    folder = library_relpath("A", "S", "1", "A Title", narrators).parts[2]
    assert folder == "Book 1 - A Title {Narrator Number 0 et al}"


def test_multibyte_names_are_cut_on_character_boundaries():
    name = sanitize_name("ü" * 300)
    assert len(name.encode()) <= MAX_SEGMENT_BYTES
    assert name.endswith("…")
    name.encode("utf-8").decode("utf-8")


names = st.one_of(st.none(), st.text(max_size=300))
narrator_lists = st.one_of(st.none(), st.text(max_size=80), st.lists(st.text(max_size=80),
                                                                       max_size=8))
positions = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 5000),
                      st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=300, deadline=None)
@given(author=names, series=names, position=positions, title=names, narrators=narrator_lists)
def test_any_names_give_a_safe_stable_relative_path(author, series, position, title,
                                                    narrators):
    path = library_relpath(author, series, position, title, narrators)
    assert not path.is_absolute()
    assert 2 <= len(path.parts) <= 3
    for part in path.parts:
        assert part and part not in (".", "..")
        assert not part.startswith(".") and not part.startswith(" ")
        assert not part.endswith(".") and not part.endswith(" ")
        assert not FORBIDDEN & set(part) - ({"{", "}"} if part is path.parts[-1] else set())
        assert all(ord(ch) >= 32 and ch not in "\x7f\u2028\u2029" for ch in part)
        assert len(part.encode("utf-8")) <= MAX_SEGMENT_BYTES
    braces = path.parts[-1].count("{") + path.parts[-1].count("}")
    assert braces == 0 or (braces == 2 and re.search(r" \{[^{}]+\}$", path.parts[-1]))
    assert library_relpath(author, series, position, title, narrators) == path
    assert PurePosixPath(path.as_posix()) == path


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_sanitize_is_idempotent(text):
    once = sanitize_name(text)
    assert sanitize_name(once) == once
